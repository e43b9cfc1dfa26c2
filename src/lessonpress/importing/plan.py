"""Plan an import: which issues become which lesson files, which are skipped and why, which files are copied; nothing is written here."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from ..content.config import SiteConfig
from ..content.lesson import SLUG_PATTERN
from ..content.markdown import make_markdown
from ..content.read import INDEX_FILE, LESSON_FILE, RESERVED_SERIES, parse_lesson
from ..errors import SourceError
from ..progress import Progress, silent
from ..scaffold import lesson_slug
from ..sitefiles import read_file
from .compose import Draft, draft, lesson_text, with_neighbours, yaml_text
from .links import Copied, file_name, rewrite, url_path
from .model import Archive, FoundIssue
from .record import read_record, source_id, stamp

DATE_STEP = timedelta(days=7)  # undated issues given --date-from follow it a week apart


@dataclass(frozen=True)
class Planned:
    """One file the import writes, relative to the site folder."""

    path: str
    text: bytes
    replaces: bool = False  # an earlier import's unedited lesson, written again from a changed issue


@dataclass(frozen=True)
class Row:
    """One issue in the closing table."""

    origin: str
    action: str  # "new", "updated", "skipped: …"
    file: str = ""
    recognised: tuple[str, ...] = ()
    left: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportPlan:
    series: str
    kind: str
    files: tuple[Planned, ...]
    rows: tuple[Row, ...]
    skipped: tuple[SourceError, ...]  # what the archive held that is no issue, reported
    errors: tuple[SourceError, ...]  # what stops the import: nothing is written
    warnings: tuple[SourceError, ...] = ()


@dataclass(frozen=True)
class _Existing:
    """What the series folder holds: numbered lessons, and the import records in them."""

    numbers: tuple[int, ...]
    slugs: frozenset[str]
    records: dict[str, tuple[str, bool]]  # source id → (file, unedited since import)


def _existing(folder: Path) -> _Existing:
    numbers, slugs, records = [], set(), {}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            match = LESSON_FILE.match(path.name)
            if match is None or not path.is_file() or path.is_symlink():
                continue
            numbers.append(int(match.group(1)))
            slugs.add(match.group(2))
            try:
                found = read_record(read_file(path).decode("utf-8", errors="replace").replace("\r\n", "\n"))
            except OSError:
                continue
            if found is not None:
                records[found[0].source] = (path.name, found[1])
    return _Existing(tuple(numbers), frozenset(slugs), records)


def _recognised(item: Draft) -> tuple[str, ...]:
    anatomy = item.anatomy
    found = ["title", "date from the text" if item.date_from_text else "date" if item.date else ""]
    found += ["greeting" if anatomy.greeting else "", f"author {anatomy.author or item.found.author}" if anatomy.author or item.found.author else ""]
    found += ["recap" if anatomy.recap else "", "teaser" if anatomy.teaser else ""]
    if anatomy.poll:
        found.append(f"poll ({len(anatomy.poll.options)} choices{' + write-in' if anatomy.poll.write_in else ''})")
    found += [f"{anatomy.questions} Q" if anatomy.questions else "", f"{anatomy.quotes} pull quote{'s' if anatomy.quotes > 1 else ''}" if anatomy.quotes else ""]
    found += ["P.S." if anatomy.reply_prompt else "", "bio" if anatomy.bio else "", "©" if anatomy.copyright else "", "tags" if item.found.tags else ""]
    return tuple(part for part in found if part)


def _dated(drafts: list[Draft], date_from: date | None, warnings: list[SourceError]) -> tuple[list[Draft], list[Row]]:
    """Drafts with a date, in date order: undated ones follow --date-from a week apart, or are skipped with a warning."""
    dated, rows = [], []
    start = datetime.combine(date_from, datetime.min.time()) if date_from else None
    for item in drafts:
        if item.date is None:
            if start is None:
                warnings.append(SourceError(item.found.origin, 0, "no date in the archive or in the text: skipped; pass --date-from YYYY-MM-DD to date undated issues from that day, a week apart"))
                rows.append(Row(item.found.origin, "skipped: no date (see --date-from)"))
                continue
            item, start = replace(item, date=start), start + DATE_STEP
        dated.append(item)
    # Aware and naive dates sort together by their wall-clock value.
    dated.sort(key=lambda item: (item.date.replace(tzinfo=None) if item.date else datetime.min, item.found.origin))
    return dated, rows


class _Files:
    """Images and attachments the issues show that the archive holds, each copied once into files/."""

    def __init__(self, archive: Archive, folder: Path) -> None:
        self.archive = archive
        self.folder = folder  # lessons/<series>/: a file of the same name there from an earlier import is never replaced
        self.taken: dict[str, bytes] = {}
        self.copied: dict[str, Copied] = {}
        self.problems: list[str] = []

    def target(self, found: FoundIssue, reference: str) -> str | None:
        data = found.files.get(reference) or found.files.get(posixpath.basename(reference))
        if data is None and self.archive.files is not None and not reference.startswith("cid:"):
            name = self.archive.files.find(reference, found.path)
            if name is None:
                return None
            try:
                data = self.archive.files.read(name)
            except OSError as error:
                self.problems.append(f"{name} not copied: {error}")
                return None
        if data is None:
            return None
        # An inline image is named by its Content-ID; the part's own file name reads better.
        hint = next((key for key, value in found.files.items() if value == data and not key.startswith("cid:")), reference.removeprefix("cid:"))
        return self.add(hint, data)

    def add(self, hint: str, data: bytes) -> str:
        """Copy `data` into files/ under a safe name from `hint`; return that name, relative to the series folder."""
        name = file_name(hint, data, self.taken)
        on_disk = self.folder / name
        if name not in self.copied and on_disk.is_file() and read_file(on_disk) != data:
            name = file_name(hint, data, {posixpath.basename(name): b""})  # the name is taken by other bytes: add the digest
        self.taken[posixpath.basename(name)] = data
        self.copied[name] = Copied(name, data)
        return name


def _link_targets(items: list[tuple[Draft, str]], archive: Archive) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """Where each imported issue lives, by the URLs it was published at and by its file in the archive."""
    by_url: dict[tuple[str, str], str] = {}
    by_path: dict[str, str] = {}
    for item, file in items:
        for url in item.found.urls:
            host, path = url_path(url)
            if path:
                by_url[(host, path)] = file
        if item.found.path:
            by_path[item.found.path] = file
    return by_url, by_path


def _by_path_end(by_url: dict[tuple[str, str], str], path: str) -> str | None:
    """The lesson of an issue known by its path alone (`/p/slug`, `/archive/slug`), under any host or account folder."""
    return next((file for (host, known), file in by_url.items() if not host and known.startswith("/") and path.endswith(known)), None)


def _resolve(item: Draft, body: str, by_url: dict[tuple[str, str], str], by_path: dict[str, str], files: _Files, notes: list[str]) -> str:
    """The body with links to imported issues and archive images pointing at lesson files and copied files."""
    remote = 0

    def target_of(reference: str, is_image: bool) -> str | None:
        nonlocal remote
        fragment = "#" + reference.split("#", 1)[1] if "#" in reference else ""
        host, path = url_path(reference)
        lesson = by_url.get((host, path)) or (_by_path_end(by_url, path) if path else None)
        archive_name = files.archive.files.find(reference, item.found.path) if files.archive.files is not None and not host else None
        lesson = lesson or (by_path.get(archive_name) if archive_name else None)
        if lesson and not is_image:
            return lesson + fragment
        copied = files.target(item.found, reference) if not reference.startswith(("mailto:", "#")) and (is_image or (archive_name and archive_name not in by_path)) else None
        if copied is None and is_image and reference.startswith(("http://", "https://")):
            remote += 1
        return copied

    body = rewrite(body, target_of)
    # A message's attachments that the text does not show: copied, and listed under the body so readers still get them.
    shown = {copied.data for copied in files.copied.values()}
    attached = [(name, data) for name, data in sorted(item.found.files.items()) if not name.startswith("cid:") and data not in shown]
    links = [f"- [{posixpath.basename(name)}]({files.add(name, data)})" for name, data in attached]
    if links:
        body = body.rstrip() + "\n\nAttached:\n\n" + "\n".join(links) + "\n"
        notes.append(f"{len(links)} attachment{'s' if len(links) > 1 else ''} copied and listed")
    if remote:
        notes.append(f"{remote} image{'s' if remote > 1 else ''} left on the web (not fetched)")
    return body


def plan_import(root: Path, config: SiteConfig, archive: Archive, series: str, date_from: date | None = None, progress: Progress = silent) -> ImportPlan:
    """Plan the import of an archive into lessons/<series>/."""
    errors = list(archive.errors)
    if not SLUG_PATTERN.match(series) or series in RESERVED_SERIES:
        errors.append(SourceError("--series", 0, f"'{series}' cannot be a series folder: use lowercase letters, digits and hyphens, not one of {', '.join(sorted(RESERVED_SERIES))}"))
    if errors:
        return ImportPlan(series, archive.kind, (), (), archive.skipped, tuple(errors))
    folder = config.lessons_dir / series
    existing = _existing(folder)
    warnings: list[SourceError] = []
    dated, rows = _dated([draft(found, config) for found in progress(f"Reading {len(archive.issues)} issues", archive.issues)], date_from, warnings)
    placed = with_neighbours(dated)
    width = max(2, len(str(max(existing.numbers, default=0) + len(placed))))
    number = max(existing.numbers, default=0)
    slugs = set(existing.slugs)
    named: list[tuple[Draft, str, tuple[str, ...], str]] = []  # draft, file name, notes, action
    for item, notes in placed:
        record = existing.records.get(source_id(item.found.key))
        if record is not None:
            named.append((item, record[0], notes, "" if record[1] else "edited"))
            continue
        number += 1
        slug = lesson_slug(item.title) or f"issue-{number}"
        unique, count = slug, 2
        while unique in slugs:
            unique, count = f"{slug}-{count}", count + 1
        slugs.add(unique)
        named.append((item, f"{number:0{width}d}-{unique}.md", notes, "new"))
    by_url, by_path = _link_targets([(item, file) for item, file, _, _ in named], archive)
    files = _Files(archive, folder)
    md = make_markdown()
    planned: list[Planned] = []
    for item, file, notes, action in named:
        source = f"lessons/{series}/{file}"
        if action == "edited":
            rows.append(Row(item.found.origin, "skipped: edited since import, kept as it is", source))
            continue
        left = list(item.anatomy.dropped and [f"dropped {', '.join(sorted(set(item.anatomy.dropped)))}"]) + list(item.anatomy.kept) + list(notes)
        assert item.date is not None  # _dated dated or dropped every draft
        text = stamp(lesson_text(item, item.date, _resolve(item, item.anatomy.body, by_url, by_path, files, left), config), item.found.key)
        if not action:
            current = read_file(folder / file).decode("utf-8", errors="replace")
            if current.replace("\r\n", "\n") == text:
                rows.append(Row(item.found.origin, "skipped: already imported", source))
                continue
            action = "updated"
        lesson, problems, _ = parse_lesson(source, text.encode("utf-8"), md, config.tz, config.polls.question)
        if lesson is None:
            rows.append(Row(item.found.origin, "skipped: " + "; ".join(problem.message for problem in problems), source))
            warnings.extend(replace(problem, path=f"{item.found.origin} → {problem.path}") for problem in problems)
            continue
        planned.append(Planned(source, text.encode("utf-8"), replaces=action == "updated"))
        rows.append(Row(item.found.origin, action, source, _recognised(item), tuple(left)))
    for copied in files.copied.values():
        path = folder / copied.name
        if path.is_file() and read_file(path) == copied.data:
            continue
        planned.append(Planned(f"lessons/{series}/{copied.name}", copied.data))
    warnings.extend(SourceError(archive.files.label if archive.files else series, 0, problem) for problem in files.problems)
    if planned and not (folder / INDEX_FILE).exists() and not existing.numbers:
        planned.append(Planned(f"lessons/{series}/{INDEX_FILE}", _series_index(archive, series).encode("utf-8")))
    return ImportPlan(series, archive.kind, tuple(planned), tuple(rows), archive.skipped, (), tuple(warnings))


def _series_index(archive: Archive, series: str) -> str:
    """A new series' _index.md: the publication's title and description when the archive names them."""
    title = " ".join(archive.title.split()) or series.replace("-", " ").title()
    description = " ".join(archive.description.split())
    lines = ["---\n", f"title: {yaml_text(title)}\n"] + ([f"description: {yaml_text(description)}\n"] if description and "<" not in description else []) + ["---\n"]
    return "".join(lines) + f"Issues imported from a {archive.kind}.\n"
