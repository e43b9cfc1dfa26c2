"""The `List-Id` of a site's letters (RFC 2919): a stable id on the site's domain, with the site title as its phrase."""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.header import Header

from ..content.config import SiteConfig
from ..untrusted import one_line, shorten

DEFAULT_LABEL = "lessons"
PHRASE_LIMIT = 60  # characters of the title: the header stays short, and a long title still reads
_NOT_LABEL = re.compile(r"[^a-z0-9-]+")


def list_id(config: SiteConfig) -> str:
    """The list's id: the site's path (its segments reversed) or `lessons`, then its host: `lessons.retention.example.org`.

    Made from the site's URL alone, so it stays the same from send to send and mail filters keep working.
    """
    return ".".join([*(_labels(reversed(config.base_path.split("/"))) or [DEFAULT_LABEL]), *_labels(config.domain.split("."))])


def _labels(parts: Iterable[str]) -> list[str]:
    """Keep what a list id's labels may hold (letters, digits, hyphens): a path segment or an IP address host fits then."""
    cleaned = (_NOT_LABEL.sub("-", part.lower()).strip("-") for part in parts)
    return [label for label in cleaned if label]


def _phrase(title: str) -> str:
    """The title as an RFC 5322 phrase: a quoted string when it is plain ASCII, else RFC 2047 encoded words."""
    if title.isascii() and title.isprintable():
        return '"' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'
    # Folded between encoded words (each at most 75 characters, as RFC 2047 asks), never inside one.
    return Header(title, "utf-8", header_name="List-Id").encode(linesep="\r\n")


def list_id_value(config: SiteConfig) -> str:
    """The value of the `List-Id` header, as written after "List-Id: " (folded lines joined by CRLF)."""
    title = shorten(one_line(config.title), PHRASE_LIMIT)
    return f"{_phrase(title)} <{list_id(config)}>" if title else f"<{list_id(config)}>"
