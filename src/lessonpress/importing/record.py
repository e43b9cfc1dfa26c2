"""The import record each imported lesson carries in a front matter comment: which issue it came from and the digest it was written with.

A comment, not a field: the build ignores it, it survives with the lesson in git (unlike `.lessonpress/`),
and an author who edits the lesson changes the digest, so a later import leaves the file alone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

RECORD = re.compile(r"^# imported by lessonpress: source ([0-9a-f]{16}) digest ([0-9a-f]{64})$", re.MULTILINE)


@dataclass(frozen=True)
class Record:
    source: str  # the hashed source key of the issue
    digest: str  # sha256 of the file as written, without this line


def source_id(key: str) -> str:
    """A short, safe id for an issue's key (keys are URLs, message ids…: never written into a file as they are)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamp(text: str, key: str) -> str:
    """A lesson file's text with its record as the first front matter line (the text starts with '---')."""
    line = f"# imported by lessonpress: source {source_id(key)} digest {_digest(text)}"
    return text.replace("---\n", f"---\n{line}\n", 1)


def read_record(text: str) -> tuple[Record, bool] | None:
    """The record of a lesson file and whether the file is still as imported; None for a file no import wrote."""
    found = RECORD.search(text)
    if found is None:
        return None
    unstamped = text[: found.start()] + text[found.end() + 1 :]
    return Record(found.group(1), found.group(2)), _digest(unstamped) == found.group(2)
