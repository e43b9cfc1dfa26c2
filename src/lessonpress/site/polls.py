"""Poll results as frozen values, and their `data/polls/<poll-id>.json` files, read and written here only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..content.config import SiteConfig
from ..errors import SourceError

if TYPE_CHECKING:
    from .model import Lesson

RESULTS_DIR = "data/polls"
FORMAT = 1


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
    def headline(self) -> str:
        """Say what won, e.g. 'You voted: “Measuring time to first value” came first'."""
        top = [option for option in self.options if option.votes and option.votes == self.ranked[0].votes]
        if not top:
            return "You voted"
        quoted = [f"“{option.text}”" for option in top]
        names = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
        return f"You voted: {names} {'tied for first place' if len(top) > 1 else 'came first'}"

    def to_json(self) -> str:
        """Serialise deterministically: the same votes always give the same bytes."""
        data = {
            "format": FORMAT,
            "poll": self.poll,
            "question": self.question,
            "options": [{"choice": option.choice, "text": option.text, "votes": option.votes} for option in self.options],
            "write_ins": list(self.write_ins),
            "totals": {"votes": self.votes, "write_ins": self.votes - sum(option.votes for option in self.options), "ballots": self.ballots},
            "first_vote": self.first_vote,
            "last_vote": self.last_vote,
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def results_path(config: SiteConfig, poll_id: str) -> Path:
    return config.root / RESULTS_DIR / f"{poll_id}.json"


def _from_json(data: Any) -> PollResults:
    """Build results from parsed JSON; raises KeyError, TypeError or ValueError on a wrong shape."""
    totals = data["totals"]
    votes = int(totals["votes"])
    options = tuple(
        OptionResult(choice=int(option["choice"]), text=str(option["text"]), votes=int(option["votes"]), total=votes)
        for option in data["options"]
    )
    if not isinstance(data["write_ins"], list) or not options:
        raise ValueError("'options' and 'write_ins' must be lists")
    return PollResults(
        poll=str(data["poll"]),
        question=str(data["question"]),
        options=options,
        write_ins=tuple(str(text) for text in data["write_ins"]),
        votes=votes,
        ballots=int(totals["ballots"]),
        first_vote=str(data.get("first_vote", "")),
        last_vote=str(data.get("last_vote", "")),
    )


def read_poll_results(config: SiteConfig) -> tuple[dict[str, PollResults], list[SourceError]]:
    """Read every `data/polls/*.json`, keyed by poll id; a broken file is a `path:line` error."""
    folder = config.root / RESULTS_DIR
    results: dict[str, PollResults] = {}
    errors: list[SourceError] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        shown = path.relative_to(config.root).as_posix()
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            errors.append(SourceError(shown, 1, "is not valid UTF-8: run 'lessonpress polls tally' again to rewrite it"))
            continue
        except json.JSONDecodeError as error:
            errors.append(SourceError(shown, error.lineno, f"invalid JSON ({error.msg}): fix it or run 'lessonpress polls tally' again"))
            continue
        try:
            found = _from_json(data)
        except (KeyError, TypeError, ValueError) as error:
            errors.append(SourceError(shown, 1, f"is not a poll results file (problem with {error}): run 'lessonpress polls tally' again to rewrite it"))
            continue
        if found.poll != path.stem:
            errors.append(SourceError(shown, 1, f"holds poll '{found.poll}' but is named {path.name}: rename it to {found.poll}.json"))
            continue
        results[found.poll] = found
    return results, errors


def results_for(lesson: Lesson, previous: Lesson | None, results: dict[str, PollResults]) -> PollResults | None:
    """The results a lesson shows: those it names in `poll_results`, else those of the previous lesson's poll."""
    if lesson.poll_results:
        return results.get(lesson.poll_results)
    if previous is not None and previous.poll is not None:
        return results.get(previous.poll.id)
    return None
