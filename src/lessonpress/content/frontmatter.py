"""Split YAML front matter from a Markdown body, keeping each key's line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# libyaml's parser is over ten times faster than PyYAML's pure-Python one, and builds the same nodes and values.
FAST_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
# libyaml accepts some front matter that PyYAML refuses (tabs between tokens, a '?' inside a plain scalar in a
# [list] or {mapping} such as `options: [Why?, No]`, some constructs after Unicode line breaks) and reads a bare
# `!` tag as '' rather than None. Front matter that might hold one of these keeps the pure-Python loader, so it
# is accepted, refused and read exactly as before. (A '?' after an opener with no closer between: scanning stops
# at the next opener too, which finds the same texts and keeps the search linear in a run of '['.)
PURE_ONLY = re.compile(r"[\t\x85\u2028\u2029]|[\[{][^\]}\[{]*\?|(?<![^\s\[{,])!(?![^\s\]},])")
# Lists and mappings nest at most this deep: a poll is two levels, and composing deeper YAML recurses,
# in libyaml's case on the C stack, where a few hundred kilobytes of '[' crash the interpreter.
MAX_DEPTH = 16
# What a page, a feed or an email cannot hold: C0 and C1 controls (tab and newline are written apart),
# lone surrogates (no UTF-8 for them) and the two characters XML forbids.
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Everything str.splitlines() breaks a line at: a one-line field may hold none of them.
LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


@dataclass(frozen=True)
class FrontMatter:
    """Parsed front matter: values, the 1-based line of each top-level key, and the body."""

    values: dict[str, Any]
    lines: dict[str, int]
    body: str
    body_line: int
    nested_lines: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: tuple[tuple[int, str], ...] = ()  # (line, message) of what can be read but must be fixed: duplicate keys


    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)


class FrontMatterError(ValueError):
    """Front matter that cannot be read; carries the 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def decode_source(raw: bytes) -> str:
    """Decode UTF-8 (with or without BOM) and normalise line endings."""
    text = raw.decode("utf-8-sig")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str, *, required: bool = True) -> FrontMatter:
    """Split `---` YAML front matter from the body and parse it with line numbers."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        if required:
            raise FrontMatterError(1, "no front matter: start the file with a line '---', the YAML fields, then '---'")
        return FrontMatter({}, {}, text, 1)
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        raise FrontMatterError(1, "front matter is not closed: add a line '---' after the YAML fields") from None
    yaml_text = "\n".join(lines[1:end])
    values, key_lines, nested, problems = _parse_yaml(yaml_text, first_line=2)
    return FrontMatter(values, key_lines, "\n".join(lines[end + 1 :]), end + 2, nested, problems)


def control_character(text: str) -> tuple[int, str] | None:
    """Return the 0-based line and a message for the first control character in `text`, or None."""
    found = CONTROL_CHARACTER.search(text)
    if found is None:
        return None
    return text.count("\n", 0, found.start()), f"holds a control character (U+{ord(found.group()):04X}): delete it; the editor may show it as a box or nothing at all"


def front_matter_lines(path: Path) -> dict[str, int]:
    """Return the line of each top-level front matter key of a file; empty when it cannot be read."""
    try:
        return split_front_matter(decode_source(path.read_bytes())).lines
    except (OSError, UnicodeDecodeError, FrontMatterError):
        return {}


_Read = tuple[dict[str, Any], dict[str, int], dict[str, dict[str, int]], tuple[tuple[int, str], ...]]
_Loader = type[yaml.SafeLoader] | type[yaml.CSafeLoader]


def _parse_yaml(text: str, first_line: int) -> _Read:
    """Read the YAML with libyaml where it agrees with PyYAML's own loader, else with that loader."""
    if FAST_LOADER is yaml.SafeLoader or PURE_ONLY.search(text):
        return _read_yaml(text, first_line, yaml.SafeLoader)
    try:
        return _read_yaml(text, first_line, FAST_LOADER)
    except FrontMatterError:
        # libyaml words its errors (and places some marks) differently: read broken front matter again with
        # the pure-Python loader, so authors keep getting the same messages and lines.
        return _read_yaml(text, first_line, yaml.SafeLoader)


def _might_nest_deep(text: str) -> bool:
    """Whether the YAML could hold an alias or nest deeper than MAX_DEPTH: each level needs a line, '-', '?', '[' or '{'."""
    if "*" in text:
        return True
    openers = text.count("\n") + text.count("-") + text.count("?") + text.count("[") + text.count("{")
    return openers >= MAX_DEPTH


def _check_shape(text: str, first_line: int, loader_class: _Loader) -> None:
    """Refuse aliases and deep nesting from the parser's events, before anything is composed or expanded."""
    if not _might_nest_deep(text):
        return
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError:
        return  # _read_yaml reports it
    depth = 0
    try:
        # The event parsers keep an explicit stack: reading events never recurses, however deep the text nests.
        for event in iter(loader.get_event, None):
            if isinstance(event, yaml.AliasEvent):
                assert event.start_mark is not None  # a parser's events always carry their marks; only hand-made ones lack them
                raise FrontMatterError(first_line + event.start_mark.line, f"front matter uses the YAML alias '*{event.anchor}': write the value out in full (aliases are not read, so a few lines cannot expand to gigabytes)")
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    assert event.start_mark is not None
                    raise FrontMatterError(first_line + event.start_mark.line, f"front matter nests lists or mappings more than {MAX_DEPTH} deep: flatten it")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.StreamEndEvent):
                break
    except yaml.YAMLError:
        return  # malformed: _read_yaml reports it with PyYAML's words, and composes no deeper than this read
    finally:
        loader.dispose()


def _duplicates(mapping: yaml.MappingNode, first_line: int, where: str) -> list[tuple[int, str]]:
    """Report each key a mapping names twice, with both lines (YAML would silently keep the last)."""
    seen: dict[str, int] = {}
    found = []
    for key_node, _ in mapping.value:
        key, line = str(key_node.value), first_line + key_node.start_mark.line
        if key in seen:
            found.append((line, f"{where}'{key}' is given twice, on lines {seen[key]} and {line}: keep one"))
        else:
            seen[key] = line
    return found


def _read_yaml(text: str, first_line: int, loader_class: _Loader) -> _Read:
    """Return the values, the line of each key and of each nested key, and duplicate keys, or raise FrontMatterError."""
    _check_shape(text, first_line, loader_class)
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError as error:
        # PyYAML's reader refuses control characters as it is made, before any parsing.
        line = first_line + text[: error.position].count("\n")
        raise FrontMatterError(line, f"front matter holds a control character (#x{error.character:04x}): delete it; the editor may show it as a box or nothing at all") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}, {}, ()
        if not isinstance(node, yaml.MappingNode):
            raise FrontMatterError(first_line + node.start_mark.line, "front matter must be 'key: value' lines")
        key_lines: dict[str, int] = {}
        nested: dict[str, dict[str, int]] = {}
        problems = _duplicates(node, first_line, "")
        for key_node, value_node in node.value:
            key = str(key_node.value)
            key_lines.setdefault(key, first_line + key_node.start_mark.line)
            if isinstance(value_node, yaml.MappingNode):
                nested[key] = {str(k.value): first_line + k.start_mark.line for k, _ in value_node.value}
                problems += _duplicates(value_node, first_line, f"{key}: ")
        try:
            values = loader.construct_document(node)
        except ValueError as error:
            # PyYAML raises a bare ValueError, without a position, for a timestamp that is no real date (2026-02-30).
            key, line = _first_unconstructable(node, first_line)
            raise FrontMatterError(line, f"cannot read '{key}': {error}; use a real date as YYYY-MM-DD") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        if error.context_mark and (mark is None or mark.index >= len(text)):
            # A problem at the end ("unexpected end of stream") says nothing; the context shows where it began.
            mark = error.context_mark
        line = first_line + (mark.line if mark else 0)
        what = ", ".join(part for part in (error.context, error.problem) if part) or "invalid YAML"
        raise FrontMatterError(line, f"malformed YAML in front matter ({what}): check quotes, colons and indentation") from None
    except yaml.YAMLError as error:
        raise FrontMatterError(first_line, f"malformed YAML in front matter: {error}") from None
    finally:
        loader.dispose()
    return values, key_lines, nested, tuple(problems)


def _first_unconstructable(node: yaml.MappingNode, first_line: int) -> tuple[str, int]:
    """Return the key and line of the first value that PyYAML cannot construct."""
    for key_node, value_node in node.value:
        try:
            yaml.SafeLoader("").construct_object(value_node, deep=True)
        except ValueError:
            return str(key_node.value), first_line + value_node.start_mark.line
    return "front matter", first_line
