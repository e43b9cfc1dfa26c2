"""The frozen domain values and `assemble`, which places lessons in their series."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import datetime

from .config import Author, SiteConfig
from .errors import SourceError
from .polls_data import PollResults, results_for

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
POLL_MARKER = "<!-- poll -->"


@dataclass(frozen=True)
class Poll:
    """A reader-topic poll as the author wrote it."""

    id: str
    question: str
    options: tuple[str, ...]
    write_in: bool = True


@dataclass(frozen=True)
class Lesson:
    """One lesson file, parsed; knows nothing of its neighbours."""

    source: str  # path relative to the site folder, posix
    series: str
    order: int
    slug: str
    title: str
    date: datetime  # always timezone-aware
    body_html: str
    summary: str = ""
    teaser: str = ""
    tags: tuple[str, ...] = ()
    draft: bool = False
    author: str = ""
    preheader: str = ""
    reply_prompt: str = ""
    greeting: str = ""
    poll: Poll | None = None
    poll_results: str = ""
    show_write_ins: bool = False
    covers: str = ""
    links: tuple[tuple[str, int], ...] = ()  # relative links/images in the body, with their lines

    @property
    def path(self) -> str:
        """Site path of the lesson page, e.g. `retention/why-they-stay/`."""
        return f"{self.series}/{self.slug}/"


@dataclass(frozen=True)
class SeriesInfo:
    """What a series folder and its `_index.md` say."""

    slug: str
    title: str
    source: str = ""
    description: str = ""
    intro_html: str = ""
    reply_prompt: str = ""
    author: str = ""
    greeting: str = ""
    cadence_days: int = 7

    @property
    def path(self) -> str:
        return f"{self.slug}/"


@dataclass(frozen=True)
class Issue:
    """A published lesson in its place: number in the series, neighbours, resolved defaults."""

    lesson: Lesson
    series: SeriesInfo
    number: int
    count: int
    body_html: str  # with links to lessons and files resolved
    author: Author
    greeting: str
    reply_prompt: str
    previous: Lesson | None = None
    next: Lesson | None = None
    next_published: bool = False
    scheduled: bool = False  # shown only because the build includes future lessons
    results: PollResults | None = None  # readers' answers to an earlier poll, shown in this issue

    @property
    def path(self) -> str:
        return self.lesson.path

    @property
    def body_parts(self) -> tuple[str, str]:
        """The body split at the author's poll marker; all of it first when there is none."""
        before, _, after = self.body_html.partition(POLL_MARKER)
        return before, after

    @property
    def poll_in_body(self) -> bool:
        return POLL_MARKER in self.body_html


@dataclass(frozen=True)
class Series:
    info: SeriesInfo
    issues: tuple[Issue, ...]  # course order
    upcoming: tuple[Lesson, ...]  # scheduled, not yet published

    @property
    def path(self) -> str:
        return self.info.path


@dataclass(frozen=True)
class Tag:
    slug: str
    name: str
    issues: tuple[Issue, ...]  # newest first

    @property
    def path(self) -> str:
        return f"tags/{self.slug}/"


@dataclass(frozen=True)
class Site:
    config: SiteConfig
    series: tuple[Series, ...]
    issues: tuple[Issue, ...]  # newest first
    tags: tuple[Tag, ...]
    assets: tuple[str, ...]  # files under lessons/ copied beside the pages, posix relative to lessons/


@dataclass(frozen=True)
class BuildOptions:
    now: datetime
    include_drafts: bool = False
    include_future: bool = False


def slugify(text: str) -> str:
    """Return a URL slug of lowercase letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "tag"


def _is_published(lesson: Lesson, options: BuildOptions) -> bool:
    if lesson.draft and not options.include_drafts:
        return False
    return options.include_future or lesson.date <= options.now


def _author(site_author: Author, name: str) -> Author:
    """The site author, or a guest by name only: a guest must not inherit the site author's email, link or role."""
    return site_author if not name or name == site_author.name else Author(name=name)


def _resolve_links(
    lesson: Lesson, html: str, by_source: dict[str, Lesson], assets: set[str], base: str
) -> tuple[str, list[SourceError]]:
    """Point relative links at lesson URLs and copied files; report the ones that lead nowhere."""
    errors: list[SourceError] = []
    folder = posixpath.dirname(lesson.source)
    replacements: dict[str, str] = {}
    for target, line in lesson.links:
        path, _, fragment = target.partition("#")
        joined = posixpath.normpath(posixpath.join(folder, path))
        if path.endswith(".md"):
            found = by_source.get(joined)
            if found is None:
                errors.append(SourceError(lesson.source, line, f"link to a missing lesson '{target}': check the file name"))
                continue
            replacements[target] = base + found.path + (f"#{fragment}" if fragment else "")
        elif joined.startswith("lessons/") and joined[len("lessons/") :] in assets:
            replacements[target] = base + joined[len("lessons/") :]
        else:
            errors.append(SourceError(lesson.source, line, f"link to a missing file '{target}': put the file under lessons/ or fix the path"))
    for target, url in replacements.items():
        html = html.replace(f'href="{target}"', f'href="{url}"').replace(f'src="{target}"', f'src="{url}"')
    return html, errors


def assemble(
    config: SiteConfig,
    lessons: list[Lesson],
    series_infos: list[SeriesInfo],
    assets: tuple[str, ...],
    options: BuildOptions,
    poll_results: dict[str, PollResults] | None = None,
) -> tuple[Site, list[SourceError]]:
    """Place lessons in their series in course order; return the site and any problems."""
    errors: list[SourceError] = []
    by_source = {lesson.source: lesson for lesson in lessons}
    asset_set = set(assets)
    infos = {info.slug: info for info in series_infos}
    base = config.base_path

    seen_paths: dict[str, Lesson] = {}
    for lesson in sorted(lessons, key=lambda item: item.source):
        if lesson.path in seen_paths:
            other = seen_paths[lesson.path]
            errors.append(SourceError(lesson.source, 1, f"two lessons would write /{lesson.path}: this one and {other.source}; give one a different slug"))
        else:
            seen_paths[lesson.path] = lesson

    all_series: list[Series] = []
    for slug in sorted({lesson.series for lesson in lessons} | set(infos)):
        info = infos.get(slug) or SeriesInfo(slug=slug, title=slug.replace("-", " ").title())
        course = sorted(
            (lesson for lesson in lessons if lesson.series == slug and (options.include_drafts or not lesson.draft)),
            key=lambda item: (item.order, item.date, item.source),
        )
        # A set: membership is tested per lesson, and a list made assemble quadratic (12 s at 2,000 lessons).
        published = {lesson for lesson in course if _is_published(lesson, options)}
        issues: list[Issue] = []
        for index, lesson in enumerate(course):
            if lesson not in published:
                continue
            html, link_errors = _resolve_links(lesson, lesson.body_html, by_source, asset_set, base)
            errors.extend(link_errors)
            previous = next((item for item in reversed(course[:index]) if item in published), None)
            following = course[index + 1] if index + 1 < len(course) else None
            issues.append(
                Issue(
                    lesson=lesson,
                    series=info,
                    number=index + 1,
                    count=len(course),
                    body_html=html,
                    author=_author(config.author, lesson.author or info.author),
                    greeting=lesson.greeting or info.greeting or config.greeting,
                    reply_prompt=lesson.reply_prompt or info.reply_prompt or config.reply_prompt,
                    previous=previous,
                    next=following,
                    next_published=following in published if following else False,
                    scheduled=lesson.date > options.now,
                    results=results_for(lesson, previous, poll_results or {}),
                )
            )
        upcoming = tuple(lesson for lesson in course if lesson not in published)
        all_series.append(Series(info=info, issues=tuple(issues), upcoming=upcoming))

    newest_first = tuple(
        sorted((issue for series in all_series for issue in series.issues), key=lambda issue: (issue.lesson.date, issue.lesson.source), reverse=True)
    )
    tag_names: dict[str, str] = {}
    for issue in newest_first:
        for name in issue.lesson.tags:
            tag_names.setdefault(slugify(name), name)
    tags = tuple(
        Tag(slug=slug, name=tag_names[slug], issues=tuple(issue for issue in newest_first if slug in {slugify(name) for name in issue.lesson.tags}))
        for slug in sorted(tag_names)
    )
    return Site(config=config, series=tuple(all_series), issues=newest_first, tags=tags, assets=assets), errors
