"""What an archive gives: past issues as found, before any part of a lesson is recognised."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..errors import SourceError
from .container import Container


@dataclass(frozen=True)
class FoundIssue:
    """One past issue as its archive holds it."""

    key: str  # stable id within its kind of archive, e.g. `substack:184467`
    origin: str  # where in the archive, for messages: `posts/184467.html`, `sent.mbox#3`
    title: str
    body: str
    markup: str  # "html", "markdown" or "text"
    date: datetime | None = None
    author: str = ""
    summary: str = ""  # a subtitle or excerpt the source kept apart from the body
    tags: tuple[str, ...] = ()
    draft: bool = False
    path: str = ""  # the body's file inside the archive: relative images are read from its folder
    urls: tuple[str, ...] = ()  # addresses the issue was published at: links to them become links to its lesson
    files: dict[str, bytes] = field(default_factory=dict, hash=False, compare=False)  # cid: and inline parts of a message


@dataclass(frozen=True)
class Archive:
    """Everything read from one source: issues, what was skipped and why, what stops the import."""

    kind: str  # "RSS feed", "Substack export"…
    issues: tuple[FoundIssue, ...]
    files: Container | None = None  # the zip or folder the issues came from: images are copied from it, never from elsewhere
    title: str = ""  # the publication's name, for a new series' _index.md
    description: str = ""
    skipped: tuple[SourceError, ...] = ()
    errors: tuple[SourceError, ...] = ()
