"""The readers' topic backlog: `data/topics.yml` read with line numbers, and appended to by the CLI."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..content.config import SiteConfig
from ..content.lesson import SLUG_PATTERN
from ..content.typography import quote_style, typeset
from ..errors import SiteFailed, SourceError
from ..sitefiles import read_file, read_problem
from ..untrusted import clean_text, one_line
from .model import Topic

BACKLOG_FILE = "data/topics.yml"
TOPIC_KEYS = ("id", "title", "description", "added", "covered_by", "write_in")
HEADER = """\
# The readers' topic backlog: what future lessons could cover.
# Each automatic poll offers open topics from this list; see `lessonpress topics --help`.
# Fields: id, title, added (YYYY-MM-DD), optional description, covered_by (series/slug), write_in.
"""


@dataclass(frozen=True)
class Backlog:
    topics: tuple[Topic, ...]  # file order
    exists: bool  # no file means no automatic polls


def _error(line: int, message: str) -> SourceError:
    return SourceError(BACKLOG_FILE, line, message)


def _text_field(entry: dict[str, Any], key: str, line: int, errors: list[SourceError]) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    # A quoted "\e" or "\u2028" is legal YAML: cleaned here, so it never reaches a page or a feed.
    text = clean_text(str(value)).strip()
    if isinstance(value, (dict, list)) or "\n" in text:
        errors.append(_error(line, f"topic '{key}' must be one line of text"))
        return ""
    return " ".join(text.split())


def _date_field(value: Any, line: int, errors: list[SourceError]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(_error(line, f"cannot read added date '{value}': use YYYY-MM-DD, the day the topic joined the backlog"))
        return None


def _topic(node: yaml.Node, loader: yaml.SafeLoader, seen: dict[str, int], errors: list[SourceError]) -> Topic | None:
    """Check one `- id: …` entry; report every problem with its own line."""
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        errors.append(_error(line, "each topic must be a mapping like '- id: onboarding-calls' with 'title:' and 'added:' under it"))
        return None
    lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
    try:
        entry = {str(key.value): loader.construct_object(value, deep=True) for key, value in node.value}
    except ValueError as problem:  # PyYAML's bare error for a date that does not exist (2026-02-30)
        errors.append(_error(line, f"cannot read this topic ({problem}): use real dates as YYYY-MM-DD"))
        return None
    before = len(errors)
    for key in entry:
        if key not in TOPIC_KEYS:
            errors.append(_error(lines[key], f"unknown topic field '{key}': use {', '.join(TOPIC_KEYS)}"))
    topic_id = _text_field(entry, "id", lines.get("id", line), errors)
    if not topic_id:
        errors.append(_error(line, "topic without an 'id': add id: a-short-slug"))
    elif not SLUG_PATTERN.match(topic_id):  # ids end up in `covers:` and in commands: they are slugs
        errors.append(_error(lines["id"], f"topic id '{topic_id}' may use only lowercase letters, digits and hyphens"))
    elif topic_id in seen:
        errors.append(_error(lines["id"], f"duplicate topic id '{topic_id}' (first on line {seen[topic_id]}): give each topic its own id"))
    else:
        seen[topic_id] = lines["id"]
    title = _text_field(entry, "title", lines.get("title", line), errors)
    if not title:
        errors.append(_error(lines.get("title", line), f"topic '{topic_id}' has no 'title': add title: \"…\" as readers should see it"))
    added = None
    if "added" not in entry:
        errors.append(_error(line, f"topic '{topic_id}' has no 'added' date: add added: YYYY-MM-DD (it decides which polls may offer it)"))
    else:
        added = _date_field(entry["added"], lines["added"], errors)
    fields = {key: _text_field(entry, key, lines.get(key, line), errors) for key in ("description", "covered_by", "write_in")}
    if len(errors) > before or added is None:
        return None
    return Topic(id=topic_id, title=title, added=added, line=line, **fields)


def parse_backlog(text: str) -> tuple[Backlog, list[SourceError]]:
    """Parse the backlog's YAML text: a list of topics, each problem reported at its line."""
    errors: list[SourceError] = []
    # PyYAML refuses a raw control character outright; one that a write-in or an editor left here
    # becomes a space instead, so an old or hand-edited backlog never stops a build.
    loader = yaml.SafeLoader(clean_text(text))
    try:
        root = loader.get_single_node()
        if root is None:
            return Backlog((), True), []
        if not isinstance(root, yaml.SequenceNode):
            return Backlog((), True), [_error(root.start_mark.line + 1, "the backlog must be a list of topics, each starting with '- id: …'")]
        seen: dict[str, int] = {}
        topics = [_topic(node, loader, seen, errors) for node in root.value]
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark
        if problem.context_mark and (mark is None or mark.index >= len(text)):
            # A problem at the end ("unexpected end of stream") says nothing; the context shows where it began.
            mark = problem.context_mark
        what = ", ".join(part for part in (problem.context, problem.problem) if part) or "invalid YAML"
        return Backlog((), True), [_error((mark.line + 1) if mark else 1, f"malformed YAML ({what}): check quotes, colons and indentation")]
    finally:
        loader.dispose()
    return Backlog(tuple(topic for topic in topics if topic is not None), True), errors


def read_backlog(config: SiteConfig) -> tuple[Backlog, list[SourceError]]:
    """Read `data/topics.yml`; a site without one has an empty backlog and no automatic polls."""
    path = config.root / BACKLOG_FILE
    try:
        raw = read_file(path)
    except FileNotFoundError:
        return Backlog((), False), []
    except OSError as error:
        return Backlog((), True), [_error(0, read_problem(error, ": check the file"))]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        return Backlog((), True), [_error(raw[: problem.start].count(b"\n") + 1, "is not valid UTF-8: save the file as UTF-8")]
    backlog, errors = parse_backlog(text)
    # Titles become poll options and headings: set like the lessons' text, in the site's language.
    style = quote_style(config.language)
    topics = tuple(replace(topic, title=typeset(topic.title, style), description=typeset(topic.description, style)) for topic in backlog.topics)
    return replace(backlog, topics=topics), errors


class BacklogReader:
    """Read `data/topics.yml` again and again in one process (the dev server): parse it only when it changed."""

    def __init__(self) -> None:
        self._kept: tuple[Path, tuple[int, int, int, str], tuple[Backlog, list[SourceError]]] | None = None

    def read(self, config: SiteConfig, changed: frozenset[str] = frozenset()) -> tuple[Backlog, list[SourceError]]:
        """Read like `read_backlog`; parse again when the watcher reported the file (`changed`, site-relative) or its stat differs."""
        path = config.root / BACKLOG_FILE
        try:
            stat = path.stat()
        except FileNotFoundError:
            self._kept = None
            return read_backlog(config)
        key = (stat.st_ino, stat.st_size, stat.st_mtime_ns, config.language)
        # The watcher catches a same-size save within one timestamp tick, which the stat cannot.
        if self._kept is None or self._kept[:2] != (path, key) or BACKLOG_FILE in changed:
            self._kept = (path, key, read_backlog(config))
        backlog, errors = self._kept[2]
        return backlog, list(errors)


def new_topic_id(title: str, taken: set[str]) -> str:
    """Make an id from a title: its first words as a slug, numbered when already taken."""
    words = re.sub(r"[^a-z0-9]+", " ", title.lower()).split()
    base = "-".join(words[:6]) or "topic"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def append_topic(config: SiteConfig, topic: Topic) -> Topic:
    """Add a topic at the end of `data/topics.yml`, keeping the author's comments and layout."""
    path = config.root / BACKLOG_FILE
    old = path.read_text(encoding="utf-8-sig") if path.is_file() else HEADER
    # Cleaned here as well: whoever built this topic, the YAML written holds no unsafe character.
    fields: dict[str, Any] = {"id": topic.id, "title": one_line(topic.title)}
    fields.update({key: one_line(getattr(topic, key)) for key in ("description", "write_in") if getattr(topic, key)})
    fields["added"] = topic.added
    block = yaml.safe_dump([fields], sort_keys=False, allow_unicode=True, width=1000)
    text = (old.rstrip("\n") + "\n\n" if old.strip() else "") + block
    before, _ = parse_backlog(old)
    after, errors = parse_backlog(text)
    if errors or len(after.topics) != len(before.topics) + 1:
        # A flow list (`[...]`) or trailing text cannot take a block entry: say so rather than corrupt it.
        line = errors[0].line if errors else 1
        raise SiteFailed([_error(line, "cannot append a topic here: write the backlog as a block list of '- id: …' entries, then try again")])
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return after.topics[-1]
