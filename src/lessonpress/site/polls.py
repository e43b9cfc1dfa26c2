"""Poll results' files, `data/polls/<poll-id>.json` files, read and written here only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..content.config import SiteConfig
from ..errors import SourceError
from .model import OptionResult, PollResults

RESULTS_DIR = "data/polls"
FORMAT = 1


def results_json(results: PollResults) -> str:
    """Serialise deterministically: the same votes always give the same bytes."""
    data = {
        "format": FORMAT,
        "poll": results.poll,
        "question": results.question,
        "options": [{"choice": option.choice, "text": option.text, "votes": option.votes} for option in results.options],
        "write_ins": list(results.write_ins),
        "totals": {"votes": results.votes, "write_ins": results.votes - sum(option.votes for option in results.options), "ballots": results.ballots},
        "first_vote": results.first_vote,
        "last_vote": results.last_vote,
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
