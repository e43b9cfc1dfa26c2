"""Read a folder (or zip) of newsletter files: plain text, Markdown or HTML, one issue per file."""

from __future__ import annotations

import posixpath
import re

from ..content.frontmatter import FrontMatterError, split_front_matter
from ..errors import SourceError
from .container import MAX_ISSUE_BYTES, Container, TooLarge
from .model import Archive, FoundIssue
from .when import read_date

MARKUP = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
DATED_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)


def _decode(data: bytes) -> str:
    """Text as old newsletters were saved: UTF-8, else Windows-1252 (which every byte decodes as)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _title(body: str, markup: str, name: str) -> tuple[str, str]:
    """The issue's title and its body without a title line: front matter aside, from <title>/<h1>, a first heading, or a short first line."""
    if markup == "html":
        match = HTML_TITLE.search(body)
        found = re.sub(r"<[^>]+>|\s+", " ", (match.group(1) or match.group(2)) if match else "").strip()
        return found, body
    lines = body.lstrip("\n").split("\n")
    first = lines[0].strip() if lines else ""
    if markup == "markdown" and first.startswith("# "):
        return first[2:].strip(), "\n".join(lines[1:])
    if first and len(first) <= 100 and not first.endswith((".", ",", ":", ";")) and (len(lines) < 2 or not lines[1].strip() or set(lines[1].strip()) <= {"=", "-"}):
        rest = lines[2:] if len(lines) > 1 and set(lines[1].strip()) <= {"=", "-"} and lines[1].strip() else lines[1:]
        return first, "\n".join(rest)
    return posixpath.splitext(posixpath.basename(name))[0].replace("-", " ").replace("_", " ").strip().capitalize(), body


def read_folder(container: Container) -> Archive:
    """Each .txt, .md or .html file is one issue; every other file may be an image an issue shows."""
    issues, skipped = [], []
    for name in container.names:
        markup = MARKUP.get(posixpath.splitext(name)[1].lower())
        if markup is None:
            continue
        where = f"{container.label}/{name}"
        try:
            text = _decode(container.read(name, MAX_ISSUE_BYTES)).replace("\r\n", "\n").replace("\r", "\n")
        except TooLarge as error:
            skipped.append(SourceError(where, 0, f"skipped: {error}; a newsletter issue is far smaller"))
            continue
        except OSError as error:
            skipped.append(SourceError(where, 0, f"skipped: cannot be read ({error})"))
            continue
        values: dict[str, object] = {}
        if markup != "html" and text.startswith("---\n"):
            try:
                front = split_front_matter(text)
            except FrontMatterError as error:
                skipped.append(SourceError(where, error.line, f"skipped: {error.message}"))
                continue
            values, text = front.values, front.body
        title, body = _title(text, markup, name)
        dated = DATED_NAME.search(posixpath.basename(name))
        tags = values.get("tags")
        issues.append(FoundIssue(
            key=f"file:{name}", origin=where, title=str(values.get("title") or values.get("subject") or title), body=body, markup=markup,
            date=read_date(str(values.get("date") or "")) or (read_date("-".join(dated.groups())) if dated else None),
            author=str(values.get("author") or ""), summary=str(values.get("summary") or values.get("description") or ""),
            tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (), draft=values.get("draft") is True, path=name, urls=(name,),
        ))
    return Archive("folder of issues", tuple(issues), files=container, skipped=tuple(skipped))
