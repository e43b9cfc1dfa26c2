"""`lessonpress polls tally SOURCE`: count the votes readers mailed in."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import click

from ..mail.sources import read_source
from ..mail.tally import site_polls, tally, write_results
from ..site.load import answerable_site
from ..site.model import PollResults
from ..untrusted import terminal_text
from .common import print_warnings


@click.group("polls")
def polls_group() -> None:
    """Read readers' poll votes back from a mailbox."""


def _table(result: PollResults) -> list[str]:
    """The results as terminal lines; every text is escaped, as options may be readers' promoted write-ins."""
    texts = {option.choice: terminal_text(option.text) for option in result.options}
    width = max(len(text) for text in texts.values())
    span = f", {result.first_vote[:10]} to {result.last_vote[:10]}" if result.first_vote else ""
    lines = [
        f"{result.poll}: {terminal_text(result.question)}",
        f"  {result.votes} vote{'s' if result.votes != 1 else ''} from {result.ballots} vote mail{'s' if result.ballots != 1 else ''}{span}",
    ]
    for option in result.ranked:
        lines.append(f"  #{option.choice} {texts[option.choice]:<{width}}  {option.text_bar()} {option.votes:>4} ({option.percent}%)")
    if result.write_ins:
        lines.append(f"  write-ins ({len(result.write_ins)}):")
        lines.extend(f"    - {terminal_text(text)}" for text in result.write_ins)
    return lines


@polls_group.command("tally")
@click.argument("source")
@click.pass_obj
def tally_command(root: Path, source: str) -> None:
    """Count votes in SOURCE: an mbox file, a Maildir folder or imaps://user@host/FOLDER.

    The IMAP password comes from the environment variable LESSONPRESS_IMAP_PASSWORD.
    Writes data/polls/<poll-id>.json; voters' addresses are never written.
    """
    started = time.perf_counter()
    loaded = answerable_site(root, datetime.now(UTC))
    print_warnings(loaded.warnings)
    config, polls = loaded.site.config, site_polls(loaded.site)
    inbox = read_source(source)
    print_warnings(inbox.skipped + inbox.notices)
    counted = tally(inbox, polls)
    print_warnings(counted.unmatched)
    for result in counted.results:
        click.echo("\n".join(_table(result)))
    for path in write_results(config, counted.results):
        click.echo(f"wrote {path.relative_to(root).as_posix()}")
    votes = sum(result.votes for result in counted.results)
    click.echo(
        f"Tallied {counted.messages} message{'s' if counted.messages != 1 else ''}: {votes} vote{'s' if votes != 1 else ''} "
        f"in {len(counted.results)} poll{'s' if len(counted.results) != 1 else ''}, {counted.not_votes} not a vote, "
        f"{counted.unreadable} unreadable in {time.perf_counter() - started:.2f} s"
    )
