"""Count vote mails: recognise the subjects `mailto.py` builds, keep each reader's latest vote."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

from ..content.config import SiteConfig
from ..content.lesson import Poll
from ..render import mailto
from ..site.model import OptionResult, PollResults, Site
from ..site.polls import results_json, results_path
from .sources import Inbox, Letter

# Reply and forward markers in the languages readers' clients use, and list tags like "[Retention]".
_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr|rif|antw|r|enc|odp|doorst)(?:\[\d+\]|\(\d+\))?\s*[:：]|\[[^\]]*\])\s*", re.IGNORECASE)
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
# Separators clients put where the link had a space: no-break and other Unicode spaces,
# Q-encoding's "_" and form-encoding's "+" left undecoded.
_SPACES = re.compile(r"[\s_+\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
WRITE_IN_LIMIT = 280
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Ballot:
    """One recognised vote mail: a choice (1-based) or a write-in text (choice 0)."""

    poll: str
    voter: str  # the sender's address; used to keep one vote per reader, never written out
    choice: int
    write_in: str
    letter: Letter


@dataclass(frozen=True)
class Tally:
    """The results of every poll that got votes, and what was not a vote."""

    results: tuple[PollResults, ...]
    messages: int
    not_votes: int  # mails that are not votes for a poll of this site
    unreadable: int  # mails that could not be decoded at all


def strip_prefixes(subject: str) -> str:
    """Drop `Re:`, `Fwd:`, `AW:` and list tags from the front of a subject, however many."""
    previous = None
    while previous != subject:
        previous, subject = subject, _PREFIX.sub("", subject, count=1)
    return subject


def subject_key(subject: str) -> str:
    """Reduce a subject to what survives any mail client: no prefixes, spaces, case or quote style."""
    if _PERCENT.search(subject):
        subject = unquote(subject)  # a client that pasted the link's subject undecoded
    subject = unicodedata.normalize("NFKC", subject).translate(_QUOTES)
    return _SPACES.sub("", strip_prefixes(subject)).casefold()


@dataclass(frozen=True)
class PollSubjects:
    """The subject keys a vote for one poll can have, each with its choice (0 = write-in)."""

    poll: str
    exact: dict[str, int]
    heads: dict[str, int]  # "Vote: <id> #<n>" without the option text, which clients may cut or re-word

    def choice(self, key: str) -> int | None:
        if key in self.exact:
            return self.exact[key]
        return next((choice for head, choice in self.heads.items() if key.startswith(head)), None)


def poll_subjects(poll: Poll) -> PollSubjects:
    """Derive the keys from `mailto.py`'s own subject builders, so links and tally never drift apart."""
    exact: dict[str, int] = {}
    heads: dict[str, int] = {}
    for choice, option in enumerate(poll.options, start=1):
        full = mailto.vote_subject(poll, choice)
        exact[subject_key(full)] = choice
        heads[subject_key(full.removesuffix(option))] = choice
    if poll.write_in:
        exact[subject_key(mailto.write_in_subject(poll))] = 0
    return PollSubjects(poll.id, exact, heads)


def write_in_text(letter: Letter) -> str:
    """The reader's suggestion: their first lines, minus the prompt the link put there, with no addresses."""
    prompt = subject_key(mailto.WRITE_IN_PROMPT)
    lines = list(letter.first_lines(limit=5))
    if lines and subject_key(lines[0]).startswith(prompt):
        # Cut the prompt however the client re-spaced it: skip characters until the key matches.
        line = lines[0]
        cut = next((index for index in range(len(line) + 1) if subject_key(line[:index]) == prompt), 0)
        lines[0] = line[cut:].strip()
    text = " ".join(line for line in lines if line)
    text = _ADDRESS.sub("[address removed]", text)
    return text if len(text) <= WRITE_IN_LIMIT else text[: WRITE_IN_LIMIT - 1].rstrip() + "…"


def recognise(letter: Letter, polls: list[PollSubjects]) -> Ballot | None:
    """Return the vote a letter carries, or None when it is not a vote for one of these polls."""
    key = subject_key(letter.subject)
    for subjects in polls:
        choice = subjects.choice(key)
        if choice is None:
            continue
        text = write_in_text(letter) if choice == 0 else ""
        if choice == 0 and not text:
            return None  # the reader opened the write-in link but sent no suggestion
        return Ballot(poll=subjects.poll, voter=letter.sender, choice=choice, write_in=text, letter=letter)
    return None


def _when(ballot: Ballot) -> tuple[datetime, int]:
    return ballot.letter.date or EPOCH, ballot.letter.position


def _results(poll: Poll, ballots: list[Ballot]) -> PollResults:
    latest: dict[str, Ballot] = {}
    for ballot in sorted(ballots, key=_when):
        latest[ballot.voter] = ballot  # later mails replace earlier ones: a reader may change their mind
    counted = sorted(latest.values(), key=_when)
    total = len(counted)
    options = tuple(
        OptionResult(choice=choice, text=text, votes=sum(1 for ballot in counted if ballot.choice == choice), total=total)
        for choice, text in enumerate(poll.options, start=1)
    )
    dates = sorted(ballot.letter.date.astimezone(timezone.utc) for ballot in ballots if ballot.letter.date)
    return PollResults(
        poll=poll.id,
        question=poll.question,
        options=options,
        write_ins=tuple(ballot.write_in for ballot in counted if ballot.choice == 0),
        votes=total,
        ballots=len(ballots),
        first_vote=dates[0].isoformat() if dates else "",
        last_vote=dates[-1].isoformat() if dates else "",
    )


def tally(inbox: Inbox, polls: list[Poll]) -> Tally:
    """Count the votes in an inbox for these polls; polls without a vote are left out."""
    by_id = {poll.id: poll for poll in polls}
    subjects = [poll_subjects(poll) for poll in sorted(polls, key=lambda poll: poll.id)]
    ballots: dict[str, list[Ballot]] = {}
    not_votes = 0
    for letter in inbox.letters:
        ballot = recognise(letter, subjects)
        if ballot is None:
            not_votes += 1
        else:
            ballots.setdefault(ballot.poll, []).append(ballot)
    results = tuple(_results(by_id[poll_id], found) for poll_id, found in sorted(ballots.items()))
    return Tally(results=results, messages=len(inbox.letters) + len(inbox.skipped), not_votes=not_votes, unreadable=len(inbox.skipped))


def site_polls(site: Site) -> list[Poll]:
    """Every poll of the site's lessons, their own or from the topic backlog."""
    return [issue.lesson.poll for issue in site.issues if issue.lesson.poll is not None]


def write_results(config: SiteConfig, results: tuple[PollResults, ...]) -> list[Path]:
    """Write `data/polls/<poll-id>.json` for each poll; unchanged files are left untouched."""
    written = []
    for result in results:
        path = results_path(config, result.poll)
        data = results_json(result).encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.tmp")
        partial.write_bytes(data)
        # A build running meanwhile sees the old file or the new one, never half of one.
        os.replace(partial, path)
        written.append(path)
    return written
