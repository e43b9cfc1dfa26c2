"""Poll results' files, `data/polls/<poll-id>.json` files, read and written here only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..content.config import SiteConfig
from ..errors import SourceError
from ..sitefiles import read_file, read_problem
from ..untrusted import one_line
from .model import OptionResult, PollResults

RESULTS_DIR = "data/polls"
FORMAT = 1
# More votes than any newsletter gets: a bigger count was typed by hand, not tallied.
COUNT_LIMIT = 1_000_000_000


def results_json(results: PollResults) -> str:
    """Serialise deterministically: the same votes always give the same bytes."""
    data = {
        "format": FORMAT,
        "poll": results.poll,
        # Cleaned here too: whatever made these values, the file holds nothing a build or an editor trips on.
        "question": one_line(results.question),
        "options": [{"choice": option.choice, "text": one_line(option.text), "votes": option.votes} for option in results.options],
        "write_ins": [one_line(text) for text in results.write_ins],
        "totals": {"votes": results.votes, "write_ins": results.votes - sum(option.votes for option in results.options), "ballots": results.ballots},
        "first_vote": results.first_vote,
        "last_vote": results.last_vote,
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def results_path(config: SiteConfig, poll_id: str) -> Path:
    return config.root / RESULTS_DIR / f"{poll_id}.json"


_KINDS = {dict: "an object", list: "a list", str: "a string", int: "a whole number"}


class _Shape(ValueError):
    """A results file whose values are of the wrong kind or out of range; the message says which."""


def _field(data: Any, key: str, kind: type, where: str = "") -> Any:
    """Return `data[key]` when it is a `kind`; else raise _Shape naming where it is."""
    if not isinstance(data, dict) or key not in data:
        raise _Shape(f"'{where}{key}': missing")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Shape(f"'{where}{key}': {json.dumps(value)[:40]} is not {_KINDS[kind]}")
    return value


def _count(data: Any, key: str, where: str = "") -> int:
    value = _field(data, key, int, where)
    if not 0 <= value <= COUNT_LIMIT:
        raise _Shape(f"'{where}{key}': {value} is not a count, a whole number from 0 to {COUNT_LIMIT}")
    return value


def _from_json(data: Any) -> PollResults:
    """Build results from parsed JSON; raises _Shape naming the first value of a wrong kind or out of range."""
    totals = _field(data, "totals", dict)
    votes = _count(totals, "votes", "totals.")
    options = []
    for number, option in enumerate(_field(data, "options", list), start=1):
        where = f"options[{number - 1}]."
        if _count(option, "choice", where) != number:
            raise _Shape(f"'{where}choice': {option['choice']} is out of order, options are numbered 1, 2, 3…")
        options.append(OptionResult(choice=number, text=one_line(_field(option, "text", str, where)), votes=_count(option, "votes", where), total=votes))
    if not options:
        raise _Shape("'options': empty")
    if sum(option.votes for option in options) > votes:
        raise _Shape(f"'totals.votes': {votes} is less than the options' votes added up")
    ballots = _count(totals, "ballots", "totals.")
    if ballots < votes:
        raise _Shape(f"'totals.ballots': {ballots} is less than 'totals.votes' ({votes}), yet each vote came in a vote mail")
    write_ins = _field(data, "write_ins", list)
    return PollResults(
        poll=_field(data, "poll", str),
        question=one_line(_field(data, "question", str)),
        options=tuple(options),
        write_ins=tuple(one_line(_field({"write_ins": text}, "write_ins", str)) for text in write_ins),
        votes=votes,
        ballots=ballots,
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
            data = json.loads(read_file(path).decode("utf-8"))
        except UnicodeDecodeError:
            errors.append(SourceError(shown, 1, "is not valid UTF-8: run 'lessonpress polls tally' again to rewrite it"))
            continue
        except OSError as error:
            errors.append(SourceError(shown, 0, read_problem(error, ": run 'lessonpress polls tally' again to rewrite it")))
            continue
        except json.JSONDecodeError as error:
            errors.append(SourceError(shown, error.lineno, f"invalid JSON ({error.msg}): fix it or run 'lessonpress polls tally' again"))
            continue
        except (ValueError, RecursionError):
            # Python's own limits: a number of thousands of digits, or lists nested thousands deep.
            errors.append(SourceError(shown, 0, "holds a number too long or nesting too deep to be poll results: run 'lessonpress polls tally' again to rewrite it"))
            continue
        try:
            found = _from_json(data)
        except _Shape as error:
            errors.append(SourceError(shown, 1, f"is not a poll results file (problem with {error}): fix it or run 'lessonpress polls tally' again to rewrite it"))
            continue
        if found.poll != path.stem:
            errors.append(SourceError(shown, 1, f"holds poll '{found.poll}' but is named {path.name}: rename it to {found.poll}.json"))
            continue
        results[found.poll] = found
    return results, errors
