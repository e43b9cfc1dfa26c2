"""The site's frozen values: issues in their series, tags, poll results and the topic board. They import no feature."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from ..content.config import Author, SiteConfig
from ..content.lesson import POLL_MARKER, Lesson, SeriesInfo
from ..translations import N_

# The results row of the answers that named a topic of the reader's own (the poll's write-in).
WRITE_IN_ROW = N_("Your own topics")  # shown in the site's language (render/wording.py)


@dataclass(frozen=True)
class OptionResult:
    """One choice of a poll and how many readers picked it."""

    choice: int  # 1-based, as in the vote subject
    text: str
    votes: int
    total: int  # all counted votes of the poll, write-ins included

    @property
    def percent(self) -> int:
        return round(100 * self.votes / self.total) if self.total else 0

    def text_bar(self, width: int = 10) -> str:
        """Return a bar for plain text, e.g. `####------` for 40 %."""
        filled = round(width * self.votes / self.total) if self.total else 0
        return "#" * filled + "-" * (width - filled)


@dataclass(frozen=True)
class PollResults:
    """What readers answered to one poll: counts, write-ins and when the votes came in."""

    poll: str
    question: str
    options: tuple[OptionResult, ...]  # in the poll's order
    write_ins: tuple[str, ...]  # oldest first, addresses removed
    votes: int  # one per reader: each reader's latest vote
    ballots: int  # vote mails read, before keeping only each reader's latest
    first_vote: str  # ISO 8601, "" when no vote carried a date
    last_vote: str

    @property
    def ranked(self) -> tuple[OptionResult, ...]:
        """The options, most votes first; ties keep the poll's order."""
        return tuple(sorted(self.options, key=lambda option: (-option.votes, option.choice)))

    @property
    def written_in(self) -> int:
        """Readers who answered with a topic of their own: counted in `votes`, under no option."""
        return self.votes - sum(option.votes for option in self.options)

    @property
    def rows(self) -> tuple[OptionResult, ...]:
        """What the results show, adding up to every answer: the options, most votes first, then the readers' own topics."""
        if not self.written_in:
            return self.ranked
        return (*self.ranked, OptionResult(choice=0, text=WRITE_IN_ROW, votes=self.written_in, total=self.votes))

    @property
    def winners(self) -> tuple[OptionResult, ...]:
        """The options with the most votes, several on a tie, in the poll's order; none before the first vote."""
        return tuple(option for option in self.options if option.votes and option.votes == self.ranked[0].votes)


@dataclass(frozen=True)
class Topic:
    """One candidate topic for a future lesson."""

    id: str
    title: str
    added: date  # a topic joins the polls of lessons dated after this day
    line: int  # where its entry starts in the backlog file
    description: str = ""
    covered_by: str = ""  # "series/slug" of a lesson that answers it; `covers:` in the lesson says the same
    write_in: str = ""  # the reader's own words, when the topic was promoted from a write-in


@dataclass(frozen=True)
class TopicVotes:
    """What one automatic poll gave a topic."""

    poll: str
    lesson: Lesson
    choice: int
    votes: int


@dataclass(frozen=True)
class TopicStatus:
    """A topic with everything the polls and lessons say about it."""

    topic: Topic
    votes: int  # votes summed over every poll that offered it
    history: tuple[TopicVotes, ...]  # each automatic poll that offered it, newest first
    covered_by: tuple[Lesson, ...]  # lessons that answer it, oldest first

    @property
    def offered(self) -> int:
        return len(self.history)

    @property
    def id(self) -> str:
        return self.topic.id

    @property
    def title(self) -> str:
        return self.topic.title


@dataclass(frozen=True)
class TopicBoard:
    """The backlog as a build shows it: open topics, and those a published lesson answered."""

    open: tuple[TopicStatus, ...] = ()  # most votes first
    covered: tuple[tuple[TopicStatus, Issue], ...] = ()  # newest answer first

    def __bool__(self) -> bool:
        return bool(self.open or self.covered)


@dataclass(frozen=True)
class Issue:
    """A published lesson in its place: number in the series, neighbours, resolved defaults."""

    lesson: Lesson
    series: SeriesInfo
    number: int
    count: int
    author: Author
    greeting: str
    reply_prompt: str
    previous: Lesson | None = None
    next: Lesson | None = None
    next_published: bool = False
    scheduled: bool = False  # shown only because the build includes future lessons
    results: PollResults | None = None  # readers' answers to an earlier poll, shown in this issue
    asked: TopicStatus | None = None  # the backlog topic this lesson answers, with its votes
    image: str = ""  # absolute URL of the share image: the lesson's own, else its series', else the site's

    @property
    def path(self) -> str:
        return self.lesson.path

    @property
    def body_html(self) -> str:
        """The lesson's body with its links to lessons and files resolved."""
        return self.lesson.body_html

    @property
    def body_parts(self) -> tuple[str, str]:
        """The body split at the author's poll marker; all of it first when there is none."""
        before, _, after = self.body_html.partition(POLL_MARKER)
        return before, after

    @property
    def poll_in_body(self) -> bool:
        return POLL_MARKER in self.body_html


@dataclass(frozen=True)
class Series:
    info: SeriesInfo
    issues: tuple[Issue, ...]  # course order
    upcoming: tuple[Lesson, ...]  # scheduled, not yet published
    image: str = ""  # absolute URL of the series' share image, else the site's

    @property
    def path(self) -> str:
        return self.info.path


@dataclass(frozen=True)
class Tag:
    slug: str
    name: str
    issues: tuple[Issue, ...]  # newest first

    @property
    def path(self) -> str:
        return f"tags/{self.slug}/"


@dataclass(frozen=True)
class Site:
    config: SiteConfig
    series: tuple[Series, ...]
    issues: tuple[Issue, ...]  # newest first
    tags: tuple[Tag, ...]
    assets: tuple[str, ...]  # files under lessons/ copied beside the pages, posix relative to lessons/
    topics: TopicBoard = TopicBoard()
    image: str = ""  # absolute URL of the site's share image ([site] image)


@dataclass(frozen=True)
class BuildOptions:
    now: datetime
    include_drafts: bool = False
    include_future: bool = False
    offline: bool = False  # `build --offline`: as `[site] offline = true`


# Symbols that tell names apart ('C', 'C++' and 'C#' are three languages), spelt out rather than dropped.
SPELT_SYMBOLS = {"+": "plus", "#": "sharp", "&": "and", "@": "at"}


def slugify(text: str) -> str:
    """Return a URL slug: lowercase letters, digits and marks of any script, symbols spelt out, words joined by hyphens.

    Letters stay as they are written, like Hugo's: a tag in Greek or Japanese keeps a readable address,
    and a browser percent-encodes it on the wire. Empty when the text has no letter, digit or spelt symbol.
    """
    spelt = (
        f" {SPELT_SYMBOLS[char]} " if char in SPELT_SYMBOLS else char if unicodedata.category(char)[0] in "LNM" else " "
        for char in unicodedata.normalize("NFC", text).lower()
    )
    return "-".join("".join(spelt).split())


