"""`assemble`: place lessons in their series in course order, resolve their links, give each its neighbours, poll results and topic."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace

from ..content.config import CONFIG_NAME, Author, SiteConfig, key_line
from ..content.frontmatter import front_matter_lines
from ..content.lesson import Lesson, SeriesInfo
from ..errors import SourceError
from .model import (
    BuildOptions,
    Issue,
    PollResults,
    Series,
    Site,
    Tag,
    TopicStatus,
    slugify,
)
from .share import resolve_image


def _is_published(lesson: Lesson, future: bool, options: BuildOptions) -> bool:
    if lesson.draft and not options.include_drafts:
        return False
    return options.include_future or not future


def _author(site_author: Author, name: str, bio: str = "") -> Author:
    """The site author, or a guest by name and own bio only: a guest must not inherit the site author's email, link or role."""
    if not name or name == site_author.name:
        return replace(site_author, bio=bio) if bio else site_author
    return Author(name=name, bio=bio)


@dataclass(frozen=True)
class _Link:
    """One relative link of a lesson, with its target joined to the lesson's folder."""

    target: str
    line: int
    joined: str  # site-relative, normalised
    fragment: str
    to_lesson: bool


@dataclass(frozen=True)
class _Resolved:
    """One lesson with its body's links resolved, and what it was resolved from."""

    original: Lesson  # the lesson as parsed
    joined: tuple[_Link, ...]
    urls: tuple[str | None, ...]  # per link; None for one that leads nowhere
    errors: tuple[SourceError, ...]
    lesson: Lesson  # the original with its links resolved in its body


def _joined_links(lesson: Lesson) -> tuple[_Link, ...]:
    folder = posixpath.dirname(lesson.source)
    links = []
    for target, line in lesson.links:
        path, _, fragment = target.partition("#")
        links.append(_Link(target, line, posixpath.normpath(posixpath.join(folder, path)), fragment, path.endswith(".md")))
    return tuple(links)


class LinkResolver:
    """Point lessons' relative links at lesson URLs and copied files, remembering each lesson's result.

    The dev server keeps one across rebuilds: a body is rewritten again only when its lesson's body
    or links change or one of its links now leads elsewhere; `build` uses a fresh one per build.
    """

    def __init__(self) -> None:
        self._resolved: dict[str, _Resolved] = {}

    def resolve(self, lesson: Lesson, by_source: dict[str, Lesson], assets: set[str], base: str) -> tuple[Lesson, tuple[SourceError, ...]]:
        """Return the lesson with its body's links resolved, and the links that lead nowhere."""
        done = self._resolved.get(lesson.source)
        same_links = done is not None and done.original.links == lesson.links
        links = done.joined if done is not None and same_links else _joined_links(lesson)
        urls = tuple(_url(link, by_source, assets, base) for link in links)
        # Same body, same links, same URLs: the same rewritten body (string compares stop at identity).
        if done is None or not same_links or done.urls != urls or done.original.body_html != lesson.body_html:
            done = self._resolved[lesson.source] = _resolve(lesson, links, urls)
        elif done.original is not lesson:  # the same body in a lesson whose other fields may have changed
            done = self._resolved[lesson.source] = replace(done, original=lesson, lesson=_with_body(lesson, done.lesson.body_html))
        return done.lesson, done.errors


def _with_body(lesson: Lesson, html: str) -> Lesson:
    # The site keeps only the resolved body: two copies of every body were most of a build's memory.
    return lesson if html is lesson.body_html else replace(lesson, body_html=html)


def _url(link: _Link, by_source: dict[str, Lesson], assets: set[str], base: str) -> str | None:
    if link.to_lesson:
        found = by_source.get(link.joined)
        return None if found is None else base + found.path + (f"#{link.fragment}" if link.fragment else "")
    if link.joined.startswith("lessons/") and link.joined[len("lessons/") :] in assets:
        return base + link.joined[len("lessons/") :]
    return None


def _resolve(lesson: Lesson, links: tuple[_Link, ...], urls: tuple[str | None, ...]) -> _Resolved:
    """Rewrite the body's links to their URLs; report the ones that lead nowhere."""
    errors: list[SourceError] = []
    replacements: dict[str, str] = {}
    for link, url in zip(links, urls):
        if url is not None:
            replacements[link.target] = url
        elif link.to_lesson:
            errors.append(SourceError(lesson.source, link.line, f"link to a missing lesson '{link.target}': check the file name"))
        else:
            errors.append(SourceError(lesson.source, link.line, f"link to a missing file '{link.target}': put the file under lessons/ or fix the path"))
    html = lesson.body_html
    for target, url in replacements.items():
        html = html.replace(f'href="{target}"', f'href="{url}"').replace(f'src="{target}"', f'src="{url}"')
    return _Resolved(lesson, links, urls, tuple(errors), _with_body(lesson, html))


def _tag_problems(config: SiteConfig, lesson: Lesson, name: str, slug: str, named: dict[str, str]) -> list[SourceError]:
    """Report a tag with no address of its own, or one whose page another tag already takes (spelt apart beyond case)."""
    other = named.get(slug)
    if slug and (other is None or other.casefold() == name.casefold()):
        return []
    line = front_matter_lines(config.root / lesson.source).get("tags", 1)
    if not slug:
        return [SourceError(lesson.source, line, f"tag '{name}' has no letter or digit to make its page's address /tags/…/: add a word")]
    return [SourceError(lesson.source, line, f"tags '{name}' and '{other}' would share the page /tags/{slug}/: spell both the same way, or make them differ in letters")]


def _share_image(config: SiteConfig, value: str, source: str, assets: set[str], inherited: str, errors: list[SourceError]) -> str:
    """The URL of the share image a lesson or series names (relative to its file), else the one it inherits."""
    found = resolve_image(config, value, posixpath.dirname(source), "the file that names it", assets)
    if found.problem:
        errors.append(SourceError(source, front_matter_lines(config.root / source).get("image", 1), found.problem))
    return found.url or inherited


def _site_image(config: SiteConfig, assets: set[str], errors: list[SourceError]) -> str:
    found = resolve_image(config, config.image, "", f"the site folder (where {CONFIG_NAME} is)", assets)
    if found.problem:
        errors.append(SourceError(CONFIG_NAME, key_line(config.root, "site", "image"), f"[site] {found.problem}"))
    return found.url


def _unknown_poll_results(config: SiteConfig, lessons: list[Lesson], poll_results: dict[str, PollResults]) -> list[SourceError]:
    """Report `poll_results:` naming a poll no lesson asks and no tally recorded: the lesson would silently show nothing."""
    known = set(poll_results) | {lesson.poll.id for lesson in lessons if lesson.poll is not None}
    return [
        SourceError(lesson.source, front_matter_lines(config.root / lesson.source).get("poll_results", 1), f"poll_results '{lesson.poll_results}' is no poll of this site: use the id of a lesson's poll (series-slug, or its poll 'id')")
        for lesson in lessons
        if lesson.poll_results and lesson.poll_results not in known
    ]


def assemble(
    config: SiteConfig,
    lessons: list[Lesson],
    series_infos: list[SeriesInfo],
    assets: tuple[str, ...],
    options: BuildOptions,
    poll_results: dict[str, PollResults] | None = None,
    asked: dict[str, TopicStatus] | None = None,
    links: LinkResolver | None = None,
) -> tuple[Site, list[SourceError]]:
    """Place lessons in their series in course order; return the site and any problems."""
    errors: list[SourceError] = []
    by_source = {lesson.source: lesson for lesson in lessons}
    asset_set = set(assets)
    infos = {info.slug: info for info in series_infos}
    base = config.base_path
    links = LinkResolver() if links is None else links
    poll_results = poll_results or {}
    asked = asked or {}

    errors.extend(_unknown_poll_results(config, lessons, poll_results))
    site_image = _site_image(config, asset_set, errors)
    seen_paths: dict[str, Lesson] = {}
    for lesson in sorted(lessons, key=lambda item: item.source):
        if lesson.path in seen_paths:
            other = seen_paths[lesson.path]
            errors.append(SourceError(lesson.source, 1, f"two lessons would write /{lesson.path}: this one and {other.source}; give one a different slug"))
        else:
            seen_paths[lesson.path] = lesson

    # Grouped once and walked by index: filtering all lessons per series, slicing the course per
    # lesson and hashing whole lessons for membership made assemble quadratic in a series' length.
    by_series: dict[str, list[Lesson]] = {slug: [] for slug in infos}
    for lesson in lessons:
        course = by_series.setdefault(lesson.series, [])  # a series of drafts only still gets its page
        if options.include_drafts or not lesson.draft:
            course.append(lesson)
    all_series: list[Series] = []
    for slug in sorted(by_series):
        info = infos.get(slug) or SeriesInfo(slug=slug, title=slug.replace("-", " ").title())
        series_image = _share_image(config, info.image, info.source, asset_set, site_image, errors)
        course = sorted(by_series[slug], key=lambda item: (item.order, item.date, item.source))
        # Compared once per lesson: each comparison of datetimes in two zones looks up both offsets.
        future = [lesson.date > options.now for lesson in course]
        published = [_is_published(lesson, later, options) for lesson, later in zip(course, future)]
        # Published lessons with their links resolved: the issues, their neighbours and the site hold these.
        placed = list(course)
        for index, lesson in enumerate(course):
            if published[index]:
                placed[index], link_errors = links.resolve(lesson, by_source, asset_set, base)
                errors.extend(link_errors)
        issues: list[Issue] = []
        previous: Lesson | None = None  # the nearest earlier published lesson of the course
        for index, lesson in enumerate(placed):
            if not published[index]:
                continue
            following = placed[index + 1] if index + 1 < len(placed) else None
            issues.append(
                Issue(
                    lesson=lesson,
                    series=info,
                    number=index + 1,
                    count=len(course),
                    author=_author(config.author, lesson.author or info.author, lesson.author_bio),
                    greeting=lesson.greeting or info.greeting or config.greeting,
                    reply_prompt=lesson.reply_prompt or info.reply_prompt or config.reply_prompt,
                    previous=previous,
                    next=following,
                    next_published=published[index + 1] if following else False,
                    scheduled=future[index],
                    results=results_for(lesson, previous, poll_results),
                    asked=asked.get(lesson.source),
                    image=_share_image(config, lesson.image, lesson.source, asset_set, series_image, errors),
                )
            )
            previous = lesson
        upcoming = tuple(lesson for lesson, out in zip(course, published) if not out)
        all_series.append(Series(info=info, issues=tuple(issues), upcoming=upcoming, image=series_image))

    newest_first = tuple(
        sorted((issue for series in all_series for issue in series.issues), key=lambda issue: (issue.lesson.date, issue.lesson.source), reverse=True)
    )
    # One pass over the issues: a tag's issues stay newest first, each issue once however many of its tags share a slug.
    tag_names: dict[str, str] = {}
    tagged: dict[str, list[Issue]] = {}
    slug_of: dict[str, str] = {}  # a few dozen tag names over thousands of lessons: slugify each once
    for issue in newest_first:
        slugs: dict[str, str] = {}
        for name in issue.lesson.tags:
            tag_slug = slug_of.get(name)
            if tag_slug is None:
                tag_slug = slug_of[name] = slugify(name)
                errors.extend(_tag_problems(config, issue.lesson, name, tag_slug, tag_names))
                tag_names.setdefault(tag_slug, name)
            slugs.setdefault(tag_slug, name)
        for slug, name in slugs.items():
            tag_names.setdefault(slug, name)
            tagged.setdefault(slug, []).append(issue)
    tag_names.pop("", None)
    tags = tuple(Tag(slug=slug, name=tag_names[slug], issues=tuple(tagged[slug])) for slug in sorted(tag_names))
    return Site(config=config, series=tuple(all_series), issues=newest_first, tags=tags, assets=assets, image=site_image), errors


def results_for(lesson: Lesson, previous: Lesson | None, results: dict[str, PollResults]) -> PollResults | None:
    """The results a lesson shows: those it names in `poll_results`, else those of the previous lesson's poll."""
    if lesson.poll_results:
        return results.get(lesson.poll_results)
    if previous is not None and previous.poll is not None:
        return results.get(previous.poll.id)
    return None
