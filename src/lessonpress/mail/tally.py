"""Count vote mails: recognise the subjects `mailto.py` builds, keep each reader's latest vote."""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from ..addresses import IN_TEXT
from ..content.config import SiteConfig
from ..content.lesson import Poll
from ..errors import SourceError
from ..render import mailto
from ..site.model import OptionResult, PollResults, Site
from ..site.polls import results_json, results_path
from ..translations import shipped_translations
from ..untrusted import shorten, terminal_text
from .sources import Inbox, Letter

# Reply and forward markers in the languages readers' clients use, and list tags like "[Retention]".
_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr|rif|antw|r|enc|odp|doorst)(?:\[\d+\]|\(\d+\))?\s*[:：]|\[[^\]]*\])\s*", re.IGNORECASE)
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
# Separators clients put where the link had a space: no-break and other Unicode spaces,
# Q-encoding's "_" and form-encoding's "+" left undecoded.
_SPACES = re.compile(r"[\s_+\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
# Every quote and dash the typography sets (in each language) back to the straight form an author types, so a
# subject with a typeset option and one written before options were typeset give the same key.
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "–": "-", "—": "-"})
_WORD = re.compile(r"\S+")
_NUMBER = re.compile(r"[0-9]+")
WRITE_IN_LIMIT = 280
# A vote subject's label ("Vote", "Abstimmung") is a word or two: a colon further in is not a vote's.
_LABEL_REACH = 40
# The prompt the write-in link puts in the body is short: look for its end only this far into the line.
_PROMPT_REACH = 200
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Ballot:
    """One recognised vote mail: a choice (1-based), a write-in text (choice 0) or an option the poll lacks (-1)."""

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
    unmatched: tuple[SourceError, ...] = ()  # votes naming an option their poll does not have


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
    """The subject keys a vote for one poll can have: the write-in's, and the head every choice starts with."""

    poll: str
    head: str  # "<id> #" as a key; the option's number follows, then its text, which clients may cut or re-word
    options: tuple[str, ...]  # each option's text as a key
    write_in: str  # "<id> write-in" as a key, "" when the poll takes none

    def choice(self, key: str) -> int | None:
        """The choice (1-based, 0 = write-in) a subject key names; -1 for a number the poll has no option for.

        The word before the first colon is the label in the reader's language ("Vote", "Abstimmung",
        "Voto"…) and is not read: a German reader's vote counts exactly as an English one.
        """
        label, colon, key = key.partition(":")
        if not colon or len(label) > _LABEL_REACH:
            return None
        if self.write_in and key == self.write_in:
            return 0
        if not key.startswith(self.head) or not _NUMBER.match(key, len(self.head)):
            return None
        rest = key[len(self.head) :]
        for choice, option in enumerate(self.options, start=1):
            after = rest.removeprefix(str(choice))
            if after == rest:
                continue
            # The whole number counts, so "#12" is never read as "#1" — unless option 1's own text starts with "2".
            digits = _NUMBER.match(after)
            if digits is None or option.startswith(digits.group()):
                return choice
        return -1


def _machine_part(subject: str) -> str:
    """A subject key without its label: what follows the first colon."""
    return subject_key(subject).partition(":")[2]


def poll_subjects(poll: Poll) -> PollSubjects:
    """Derive the keys from `mailto.py`'s own subject builders, so links and tally never drift apart."""
    head = _machine_part(mailto.vote_subject(poll, 1).removesuffix(poll.options[0])).removesuffix("1")
    write_in = _machine_part(mailto.write_in_subject(poll)) if poll.write_in else ""
    return PollSubjects(poll.id, head, tuple(subject_key(option) for option in poll.options), write_in)


def _without_addresses(text: str) -> str:
    """Replace every word that holds an email address; linear, so a long line without spaces costs no more than its length."""
    return _WORD.sub(lambda word: IN_TEXT.sub("[address removed]", word.group()) if "@" in word.group() else word.group(), text)


@functools.cache
def _prompt_keys() -> tuple[str, ...]:
    """The write-in prompt's keys in English and every built-in language, longest first."""
    return tuple(sorted({subject_key(prompt) for prompt in shipped_translations(mailto.WRITE_IN_PROMPT)}, key=len, reverse=True))


def write_in_text(letter: Letter) -> str:
    """The reader's suggestion: their first lines, minus the prompt the link put there, with no addresses."""
    lines = list(letter.first_lines(limit=5))
    first = subject_key(lines[0]) if lines else ""
    # The prompt in whichever shipped language the reader's link put it.
    prompt = next((key for key in _prompt_keys() if first.startswith(key)), "")
    if prompt:
        # Cut the prompt however the client re-spaced it: skip characters until the key matches.
        line = lines[0]
        reach = min(len(line), _PROMPT_REACH)
        cut = next((index for index in range(reach + 1) if subject_key(line[:index]) == prompt), 0)
        lines[0] = line[cut:].strip()
    text = " ".join(line for line in lines if line)
    return shorten(_without_addresses(text), WRITE_IN_LIMIT)


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
    dates = sorted(ballot.letter.date.astimezone(UTC) for ballot in ballots if ballot.letter.date)
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
    unmatched = []
    for letter in inbox.letters:
        ballot = recognise(letter, subjects)
        if ballot is None:
            not_votes += 1
        elif ballot.choice < 0:
            not_votes += 1
            unmatched.append(_unmatched(ballot, len(by_id[ballot.poll].options)))
        else:
            ballots.setdefault(ballot.poll, []).append(ballot)
    results = tuple(_results(by_id[poll_id], found) for poll_id, found in sorted(ballots.items()))
    return Tally(
        results=results, messages=len(inbox.letters) + len(inbox.skipped), not_votes=not_votes, unreadable=len(inbox.skipped), unmatched=tuple(unmatched)
    )


def _unmatched(ballot: Ballot, options: int) -> SourceError:
    """Report a vote for an option number its poll does not have: counted for no option."""
    path, _, line = ballot.letter.where.rpartition(":")
    subject = terminal_text(shorten(ballot.letter.subject, 80))
    message = f"unmatched vote '{subject}': poll '{ballot.poll}' has options #1 to #{options}; not counted"
    return SourceError(path, int(line), message) if line.isdigit() else SourceError(ballot.letter.where, 0, message)


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
