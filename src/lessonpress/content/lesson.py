"""What reading a source gives: a lesson, its poll and a series index, as frozen values that know nothing of the site."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

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
    author_bio: str = ""  # `author: {name, bio, copyright}`: a guest's bio, shown in place of the site author's
    author_copyright: str = ""  # the holder named in this lesson's © line, before [site] copyright
    preheader: str = ""
    reply_prompt: str = ""
    greeting: str = ""
    poll: Poll | None = None
    poll_results: str = ""
    show_write_ins: bool = False
    covers: str = ""  # id of the backlog topic this lesson answers
    no_poll: bool = False  # `poll: false`: no poll, not even one from the topic backlog
    links: tuple[tuple[str, int], ...] = ()  # relative links/images in the body, with their lines
    image: str = ""  # share image as written: a path relative to the lesson's folder, or an http(s) URL

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
    image: str = ""  # default share image of the series' pages, as written in _index.md

    @property
    def path(self) -> str:
        return f"{self.slug}/"
