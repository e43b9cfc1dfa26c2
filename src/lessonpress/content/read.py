"""Walk `lessons/` and parse every series index and lesson into values, collecting errors."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from markdown import Markdown

from ..errors import SourceError
from ..progress import Counted, Progress, silent
from ..sitefiles import plain_files, read_file, read_problem
from ..workers import can_fork, fan_out, usable_cpus
from .cache import CacheStats, ParseCache, Parsed, entry_key, parser_fingerprint
from .config import SiteConfig
from .frontmatter import LINE_BREAK, FrontMatter, FrontMatterError, control_character, decode_source, split_front_matter
from .lesson import SLUG_PATTERN, Lesson, Poll, SeriesInfo
from .markdown import convert, make_markdown
from .typography import ENGLISH, QuoteStyle, quote_style, typeset

LESSON_FILE = re.compile(r"^(\d+)-(.+)\.md$")
INDEX_FILE = "_index.md"
# Top-level names the site itself writes; a series folder may not take them.
# The site's own folders beside the series (a series folder is a slug: a file name like feed.xml cannot clash).
RESERVED_SERIES = frozenset({"tags", "archive", "static", "email", "topics", "search", "pagefind"})
LESSON_KEYS = (
    "title", "date", "summary", "teaser", "tags", "draft", "slug", "author", "preheader",
    "reply_prompt", "greeting", "poll", "poll_results", "show_write_ins", "covers", "image",
)
SERIES_KEYS = ("title", "description", "reply_prompt", "author", "greeting", "cadence", "image")
# Front-matter text a reader sees: set with the body's quotes, dashes and ellipses (ids, slugs and names stay as typed).
TYPESET_LESSON_KEYS = ("teaser", "preheader", "reply_prompt", "greeting", "author_bio", "author_copyright")  # like [author] bio and [site] copyright
TYPESET_SERIES_KEYS = ("title", "description", "reply_prompt", "greeting")
POLL_KEYS = ("question", "options", "write_in", "id")
AUTHOR_KEYS = ("name", "bio", "copyright")
# Below this many cache misses, starting worker processes costs more than it saves (see bench/README.md).
MIN_POOL_FILES = 32
# Pool chunks per worker: enough for a progress bar to move, few enough that converters are reused.
PROGRESS_STEPS_PER_WORKER = 8
# Relative link targets in Markdown: [text](target) and ![alt](target), not absolute URLs or anchors.
RELATIVE_LINK = re.compile(r"\]\(\s*<?(?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)([^)\s>]+)>?")


@dataclass(frozen=True)
class Sources:
    lessons: tuple[Lesson, ...]
    series: tuple[SeriesInfo, ...]
    assets: tuple[str, ...]
    errors: tuple[SourceError, ...]
    warnings: tuple[SourceError, ...]
    cache: CacheStats = CacheStats(hits=0, misses=0, rejected=0)


def _unknown_keys(source: str, front: FrontMatter, known: tuple[str, ...]) -> list[SourceError]:
    warnings = []
    for key in front.values:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            warnings.append(SourceError(source, front.line_of(key), f"unknown front matter field '{key}' is ignored{hint}"))
    return warnings


def _checked(value: str, key: str, line: int, source: str, errors: list[SourceError]) -> str:
    """Return text read from a field, reporting a control character in it (no page, feed or email could hold it)."""
    found = control_character(value)
    if found is not None:
        errors.append(SourceError(source, line, f"'{key}' {found[1]}; in YAML look for an escape like \\e or \\x07 in double quotes"))
    return value


def _text(front: FrontMatter, key: str, source: str, errors: list[SourceError]) -> str:
    value = front.values.get(key, "")
    if value is None:
        return ""
    # A number reads as the text it was written as; true/false, dates, lists and mappings were not meant as text.
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors.append(SourceError(source, front.line_of(key), f"'{key}' must be text, not {_kind(value)}: put it in quotes, e.g. {key}: \"…\""))
        return ""
    return _checked(str(value).strip(), key, front.line_of(key), source, errors)


def _kind(value: Any) -> str:
    """Name what YAML read a value as, in the words of an author."""
    if isinstance(value, bool):
        return f"'{str(value).lower()}' (YAML reads yes/no/true/false/on/off as a truth value)"
    if isinstance(value, (date, datetime)):
        return "a date"
    return "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else type(value).__name__


def _body_problem(source: str, front: FrontMatter) -> list[SourceError]:
    """Report a control character in the Markdown body, at its line."""
    found = control_character(front.body)
    return [] if found is None else [SourceError(source, front.body_line + found[0], found[1])]


def _front_problems(source: str, front: FrontMatter) -> list[SourceError]:
    """The problems the front matter reader found in YAML it could read (duplicate keys), and the body's."""
    return [SourceError(source, line, message) for line, message in front.problems] + _body_problem(source, front)


def parse_date(value: Any, tz: ZoneInfo) -> datetime | None:
    """Read a YAML date, datetime or ISO 8601 string; a naive value is in the site's zone."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def _poll(front: FrontMatter, source: str, default_id: str, default_question: str, errors: list[SourceError], style: QuoteStyle = ENGLISH) -> Poll | None:
    """Read `poll:`; its question and options are typeset, the default question (from the typeset settings) is not again."""
    value = front.values.get("poll")
    line = front.line_of("poll")
    if value is None or value is False:
        return None
    if not isinstance(value, dict):
        errors.append(SourceError(source, line, "'poll' must be a mapping with 'question', 'options' (a list) and optionally 'write_in' and 'id'"))
        return None
    lines = front.nested_lines.get("poll", {})
    for key in value:
        if key not in POLL_KEYS:
            errors.append(SourceError(source, lines.get(str(key), line), f"unknown poll field '{key}': use question, options, write_in or id"))
    options = value.get("options")
    if not isinstance(options, list) or not all(isinstance(option, (str, int, float)) and not isinstance(option, bool) and str(option).strip() for option in options):
        errors.append(SourceError(source, lines.get("options", line), "poll 'options' must be a list of 2 to 6 non-empty choices"))
        return None
    if not 2 <= len(options) <= 6:
        errors.append(SourceError(source, lines.get("options", line), f"poll has {len(options)} option{'s' if len(options) != 1 else ''}: give 2 to 6 choices"))
        return None
    poll_id = str(value.get("id") or default_id)
    if not SLUG_PATTERN.match(poll_id):
        errors.append(SourceError(source, lines.get("id", line), f"poll id '{poll_id}' may use only lowercase letters, digits and hyphens"))
        return None
    write_in = value.get("write_in", True)
    if not isinstance(write_in, bool):
        errors.append(SourceError(source, lines.get("write_in", line), "poll 'write_in' must be true or false"))
        return None
    question = value.get("question")
    if question is not None and (isinstance(question, bool) or not isinstance(question, (str, int, float))):
        errors.append(SourceError(source, lines.get("question", line), f"poll 'question' must be text, not {_kind(question)}: put it in quotes"))
        return None
    texts = [typeset(_checked(str(text).strip(), "poll", lines.get("options", line), source, errors), style) for text in (question or "", *options)]
    return Poll(id=poll_id, question=texts[0] or default_question, options=tuple(texts[1:]), write_in=write_in)


def _author(front: FrontMatter, source: str, errors: list[SourceError]) -> dict[str, str]:
    """Read `author`: a name, or a mapping with `name` and optionally `bio` and `copyright` (the holder of the © line)."""
    value = front.values.get("author")
    if not isinstance(value, dict):
        return {"author": _text(front, "author", source, errors), "author_bio": "", "author_copyright": ""}
    lines = front.nested_lines.get("author", {})
    line = front.line_of("author")
    parts = {}
    for key, text in value.items():
        if key not in AUTHOR_KEYS:
            errors.append(SourceError(source, lines.get(str(key), line), f"unknown author field '{key}': use name, bio or copyright"))
        elif text is not None and (isinstance(text, bool) or not isinstance(text, (str, int, float))):
            errors.append(SourceError(source, lines.get(str(key), line), f"author '{key}' must be text, not {_kind(text)}: put it in quotes"))
        else:
            parts[str(key)] = _checked("" if text is None else str(text).strip(), "author", lines.get(str(key), line), source, errors)
    if not parts.get("name") and not errors:
        errors.append(SourceError(source, line, "author needs a 'name' when it has a bio or a copyright holder, e.g. author: {name: \"Ana Ruiz\", bio: \"…\"}"))
    for key in ("name", "copyright"):
        if LINE_BREAK.search(parts.get(key, "")):
            errors.append(SourceError(source, lines.get(key, line), f"author '{key}' must be one line"))
    return {"author": parts.get("name", ""), "author_bio": parts.get("bio", ""), "author_copyright": parts.get("copyright", "")}


def _relative_links(body: str, body_line: int) -> tuple[tuple[str, int], ...]:
    links: list[tuple[str, int]] = []
    for offset, line in enumerate(body.split("\n")):
        links.extend((match.group(1), body_line + offset) for match in RELATIVE_LINK.finditer(line))
    return tuple(links)


def parse_lesson(
    source: str, raw: bytes, md: Markdown, tz: ZoneInfo, default_question: str, style: QuoteStyle = ENGLISH
) -> tuple[Lesson | None, list[SourceError], list[SourceError]]:
    """Parse one lesson file; return the lesson (or None), its errors and its warnings; `md` and `style` set quotes alike."""
    errors: list[SourceError] = []
    parts = source.split("/")
    series, name = parts[-2], parts[-1]
    match = LESSON_FILE.match(name)
    if match is None:
        return None, [SourceError(source, 0, "lesson file names look like 'NN-slug.md' (e.g. 03-first-90-days.md): rename the file")], []
    if not raw.strip():
        return None, [SourceError(source, 1, "the file is empty: add front matter with at least 'title' and 'date'")], []
    try:
        text = decode_source(raw)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return None, [SourceError(source, line, "is not valid UTF-8: save the file as UTF-8")], []
    try:
        front = split_front_matter(text)
    except FrontMatterError as error:
        return None, [SourceError(source, error.line, error.message)], []
    warnings = _unknown_keys(source, front, LESSON_KEYS)
    errors.extend(_front_problems(source, front))

    reported = len(errors)
    title = _text(front, "title", source, errors)
    if not title and len(errors) == reported:  # a title of the wrong kind was reported already
        errors.append(SourceError(source, front.line_of("title") if "title" in front.values else 1, "missing 'title': add title: \"…\" to the front matter"))
    if LINE_BREAK.search(title):
        errors.append(SourceError(source, front.line_of("title"), "'title' must be one line: join its lines (a title is a subject line and a page heading)"))
    when = None
    if "date" not in front.values:
        errors.append(SourceError(source, 1, "missing 'date': add date: YYYY-MM-DD (or an ISO 8601 date and time)"))
    else:
        when = parse_date(front.values["date"], tz)
        if when is None:
            errors.append(SourceError(source, front.line_of("date"), f"cannot read date '{front.values['date']}': use YYYY-MM-DD or an ISO 8601 date and time like 2026-03-04T07:30:00+01:00"))
    tags = front.values.get("tags", [])
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(tag, (str, int)) and not isinstance(tag, bool) and str(tag).strip() for tag in tags):
        errors.append(SourceError(source, front.line_of("tags"), "'tags' must be a list, e.g. tags: [onboarding, churn]"))
        tags = []
    for tag in tags:
        if LINE_BREAK.search(str(tag).strip()):
            errors.append(SourceError(source, front.line_of("tags"), f"tag {str(tag).strip()!r} must be one line"))
        _checked(str(tag), "tags", front.line_of("tags"), source, errors)
    for flag in ("draft", "show_write_ins"):
        if flag in front.values and not isinstance(front.values[flag], bool):
            errors.append(SourceError(source, front.line_of(flag), f"'{flag}' must be true or false"))
    slug = _text(front, "slug", source, errors) or match.group(2)
    if not SLUG_PATTERN.match(slug):
        errors.append(SourceError(source, front.line_of("slug") if "slug" in front.values else 0, f"slug '{slug}' may use only lowercase letters, digits and hyphens (it becomes the page's folder)"))
    poll = _poll(front, source, f"{series}-{slug}", default_question, errors, style)
    summary = _text(front, "summary", source, errors)
    fields = {key: _text(front, key, source, errors) for key in ("teaser", "preheader", "reply_prompt", "greeting", "poll_results", "covers", "image")}
    fields.update(_author(front, source, errors))
    if errors or when is None:
        return None, errors, warnings
    fields.update({key: typeset(fields[key], style) for key in TYPESET_LESSON_KEYS})
    lesson = Lesson(
        source=source,
        series=series,
        order=int(match.group(1)),
        slug=slug,
        title=typeset(title, style),
        date=when,
        body_html=convert(md, front.body),
        summary=typeset(summary, style),
        tags=tuple(str(tag).strip() for tag in tags),
        draft=front.values.get("draft") is True,
        poll=poll,
        show_write_ins=front.values.get("show_write_ins") is True,
        no_poll=front.values.get("poll") is False,
        links=_relative_links(front.body, front.body_line),
        **fields,
    )
    return lesson, [], warnings


def parse_series_index(source: str, raw: bytes, md: Markdown, style: QuoteStyle = ENGLISH) -> tuple[SeriesInfo | None, list[SourceError], list[SourceError]]:
    """Parse a series `_index.md`: title, description, defaults and intro."""
    slug = source.split("/")[-2]
    errors: list[SourceError] = []
    try:
        front = split_front_matter(decode_source(raw), required=False)
    except UnicodeDecodeError:
        return None, [SourceError(source, 1, "is not valid UTF-8: save the file as UTF-8")], []
    except FrontMatterError as error:
        return None, [SourceError(source, error.line, error.message)], []
    warnings = _unknown_keys(source, front, SERIES_KEYS)
    errors.extend(_front_problems(source, front))
    fields = {key: _text(front, key, source, errors) for key in ("title", "description", "reply_prompt", "author", "greeting", "image")}
    cadence_text = _text(front, "cadence", source, errors) or "7d"
    cadence = re.fullmatch(r"(\d+)\s*([dw])", cadence_text)
    if cadence is None or int(cadence.group(1)) == 0:
        errors.append(SourceError(source, front.line_of("cadence"), f"cadence '{cadence_text}' must be a number of days or weeks, like 7d or 2w"))
    if errors or cadence is None:  # a cadence that did not match is among the errors
        return None, errors, warnings
    days = int(cadence.group(1)) * (7 if cadence.group(2) == "w" else 1)
    fields["title"] = fields["title"] or slug.replace("-", " ").title()
    fields.update({key: typeset(fields[key], style) for key in TYPESET_SERIES_KEYS})
    return SeriesInfo(slug=slug, source=source, intro_html=convert(md, front.body), cadence_days=days, **fields), [], warnings


def _parse_chunk(files: list[tuple[str, bytes]], timezone: str, default_question: str, language: str = "en") -> list[Parsed]:
    """Parse files with one Markdown converter; runs in a pool worker or in-process."""
    style = quote_style(language)
    md = make_markdown(style)
    tz = ZoneInfo(timezone)
    return [
        parse_series_index(source, raw, md, style) if source.endswith("/" + INDEX_FILE) else parse_lesson(source, raw, md, tz, default_question, style)
        for source, raw in files
    ]


def _parse_many(files: list[tuple[str, bytes]], timezone: str, default_question: str, language: str = "en", progress: Progress = silent) -> list[Parsed]:
    """Parse files in order, over all cores (the build's forked workers) when there are enough to pay for forking."""
    if not files:
        return []  # a warm build: not even a converter to make
    if len(files) < MIN_POOL_FILES:
        return _parse_chunk(files, timezone, default_question, language)
    workers = min(usable_cpus(), len(files))
    # Contiguous chunks, a few per worker: each chunk builds one Markdown converter (about a
    # millisecond), and finished chunks move the progress bar. The workers inherit the files.
    size = max(MIN_POOL_FILES, -(-len(files) // (workers * PROGRESS_STEPS_PER_WORKER)))
    chunks = [files[start : start + size] for start in range(0, len(files), size)]
    parsed: list[list[Parsed]] = [[] for _ in chunks]
    results: Generator[tuple[int, list[Parsed]], None, None]
    if workers < 2 or not can_fork():
        # One core, or threads that a fork could catch holding a lock (the dev server): chunk by chunk here, the bar moving as well.
        results = ((index, _parse_chunk(chunk, timezone, default_question, language)) for index, chunk in enumerate(chunks))
    else:
        results = fan_out(len(chunks), lambda index: _parse_chunk(chunks[index], timezone, default_question, language), workers)
    with closing(results):  # on an error or Ctrl-C, fan_out stops the workers at once
        for index, chunk in progress(f"Parsing {len(files)} files", Counted(results, len(chunks)), size=len(files)):
            parsed[index] = chunk
    return [item for chunk in parsed for item in chunk]


def _parse_cached(config: SiteConfig, files: list[tuple[str, bytes]], progress: Progress = silent) -> tuple[list[Parsed], CacheStats]:
    """Parse files through the site's parse cache: only bytes never seen before are converted."""
    settings = (config.timezone, config.polls.question, config.language)
    fingerprint = parser_fingerprint(settings)
    keys = [entry_key(fingerprint, source, raw) for source, raw in files]
    cache = ParseCache(config.root)
    try:
        found, rejected = cache.get_many(keys)
        missing = [index for index, key in enumerate(keys) if key not in found]
        fresh = _parse_many([files[index] for index in missing], *settings, progress=progress)
        new_entries = {keys[index]: parsed for index, parsed in zip(missing, fresh)}
        found.update(new_entries)
        cache.put_many(new_entries, keys)
    finally:
        cache.close()
    return [found[key] for key in keys], CacheStats(hits=len(files) - len(missing), misses=len(missing), rejected=rejected, notices=cache.notices)


@dataclass(frozen=True)
class _Listing:
    """The files under `lessons/`: sources to parse (with their entry, to stat when needed), assets to copy, misplaced files."""

    sources: tuple[tuple[str, str, os.DirEntry[str]], ...]  # source, file system path, entry
    assets: tuple[str, ...]
    errors: tuple[SourceError, ...]


def _list_sources(config: SiteConfig) -> _Listing:
    # Strings, not Path objects: at thousands of files pathlib's parsing was most of a dev-server rebuild.
    lessons_dir = config.lessons_dir
    prefix = lessons_dir.relative_to(config.root).as_posix() + "/"
    errors: list[SourceError] = []
    assets: list[str] = []
    sources: list[tuple[str, str, os.DirEntry[str]]] = []
    for parts, entry in plain_files(str(lessons_dir), prefix.rstrip("/"), os.path.realpath(config.root), errors):
        relative = "/".join(parts)
        source = prefix + relative
        if not entry.name.endswith(".md"):
            if len(parts) >= 2:
                assets.append(relative)
            continue
        if len(parts) != 2:
            errors.append(SourceError(source, 0, "lessons live one folder deep: move it to lessons/<series>/NN-slug.md"))
            continue
        folder = parts[0]
        if not SLUG_PATTERN.match(folder) or folder in RESERVED_SERIES:
            errors.append(SourceError(source, 0, f"series folder '{folder}' must be lowercase letters, digits and hyphens and not one of {', '.join(sorted(RESERVED_SERIES))}: rename the folder"))
            continue
        sources.append((source, entry.path, entry))
    return _Listing(tuple(sources), tuple(assets), tuple(errors))


def _sources(listing: _Listing, results: list[Parsed], stats: CacheStats) -> Sources:
    """Sort parse results into lessons and series, after the listing's own errors."""
    lessons: list[Lesson] = []
    series: list[SeriesInfo] = []
    errors = list(listing.errors)
    warnings = list(stats.notices)
    for value, found_errors, found_warnings in results:
        if isinstance(value, Lesson):
            lessons.append(value)
        elif isinstance(value, SeriesInfo):
            series.append(value)
        errors.extend(found_errors)
        warnings.extend(found_warnings)
    return Sources(tuple(lessons), tuple(series), listing.assets, tuple(errors), tuple(warnings), stats)


def _missing_folder() -> Sources:
    return Sources((), (), (), (SourceError("lessons", 0, "folder not found: create lessons/<series>/01-first-lesson.md"),), ())


def read_sources(config: SiteConfig, progress: Progress = silent) -> Sources:
    """Read every file under `lessons/`; never writes there."""
    if not config.lessons_dir.is_dir():
        return _missing_folder()
    listing = _list_sources(config)
    errors = list(listing.errors)
    files = [(source, raw) for source, path, _ in listing.sources if (raw := _read(source, path, errors)) is not None]
    results, stats = _parse_cached(config, files, progress)
    return _sources(replace(listing, errors=tuple(errors)), results, stats)


def _read(source: str, path: str, errors: list[SourceError]) -> bytes | None:
    """A listed file's bytes; None, with the reason in `errors`, if it went away or is no longer a plain file."""
    try:
        return read_file(path)
    except OSError as error:
        errors.append(SourceError(source, 0, read_problem(error, ": check the file and build again")))
        return None


@dataclass(frozen=True)
class _Seen:
    """A source as last read: what its stat said, its bytes and what parsing them gave."""

    stat: tuple[int, int, int]  # inode, size, mtime in ns
    raw: bytes
    parsed: Parsed


def _stat_key(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _folder_stats(lessons_dir: str) -> dict[str, tuple[int, int, int]]:
    """Stat each series folder: its mtime changes when a file in it is created, removed or renamed over."""
    folders = {}
    with os.scandir(lessons_dir) as scan:
        for entry in scan:
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders[entry.name] = _stat_key(entry.stat())
            except FileNotFoundError:  # removed while listed: its files are gone from the listing too
                continue
    return folders


class SourceReader:
    """Read sources again and again in one process (the dev server): only files that changed are read and parsed."""

    def __init__(self) -> None:
        self._seen: dict[str, _Seen] = {}
        self._folders: dict[str, tuple[int, int, int]] = {}
        self._settings: tuple[str, str, str] | None = None

    def read(self, config: SiteConfig, changed: frozenset[str] = frozenset()) -> Sources:
        """Read like `read_sources`; a file is read again when the watcher reported it (`changed`, site-relative) or its stat differs.

        Only files in a folder whose stat changed are stat-checked: an edit in place is reported by
        the watcher, and a save by rename (most editors), a new or a removed file changes the folder.
        """
        if not config.lessons_dir.is_dir():
            return _missing_folder()
        settings = (config.timezone, config.polls.question, config.language)
        if settings != self._settings:
            self._seen, self._folders, self._settings = {}, {}, settings  # the same bytes parse differently now
        # Stat the folders before listing them: a change made during the listing shows in the next read.
        folders = _folder_stats(str(config.lessons_dir))
        unchanged = {folder for folder, key in folders.items() if self._folders.get(folder) == key}
        listing = _list_sources(config)
        errors = list(listing.errors)
        stats: dict[str, tuple[int, int, int]] = {}  # of the files stat-checked in this read
        files = []
        for source, path, entry in listing.sources:
            seen = self._seen.get(source)
            if seen is None or source in changed or source.rsplit("/", 2)[-2] not in unchanged:
                try:
                    stats[source] = _stat_key(entry.stat())
                except FileNotFoundError:  # removed since it was listed: the next read will not list it
                    continue
                # Stat catches what the watcher missed; the watcher catches a same-size save within one timestamp tick.
                if seen is None or source in changed or seen.stat != stats[source]:
                    raw = _read(source, path, errors)
                    if raw is None:
                        del stats[source]
                    else:
                        files.append((source, raw))
                    continue
            files.append((source, seen.raw))
        listing = replace(listing, errors=tuple(errors))
        if not self._seen:
            # Start from the disk cache, and leave it warm for the next build.
            results, cache_stats = _parse_cached(config, files)
        else:
            fresh = [index for index, (source, raw) in enumerate(files) if source not in self._seen or self._seen[source].raw != raw]
            parsed = dict(zip(fresh, _parse_many([files[index] for index in fresh], *settings)))
            results = [parsed[index] if index in parsed else self._seen[source].parsed for index, (source, _) in enumerate(files)]
            cache_stats = CacheStats(hits=len(files) - len(fresh), misses=len(fresh), rejected=0)
        # A file not stat-checked kept its bytes, so its parse result too: keep its record as it was.
        self._seen = {
            source: _Seen(stats[source], raw, result) if source in stats else self._seen[source]
            for (source, raw), result in zip(files, results)
        }
        self._folders = folders
        return _sources(listing, results, cache_stats)
