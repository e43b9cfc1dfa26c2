"""`lessonpress replies SOURCE`: readers' replies, per lesson, newest first."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from ..mail.replies import ReplyList, collect_replies
from ..mail.sources import read_source
from ..site.load import answerable_site
from ..untrusted import terminal_text
from .common import print_warnings


def print_replies(found: ReplyList) -> None:
    """Print replies per lesson, newest first: `lessonpress replies` and `lessonpress inbox` show them alike."""
    for item in found.lessons:
        count = len(item.replies)
        click.echo(f"{item.issue.path} {terminal_text(item.issue.lesson.title)}: {count} repl{'ies' if count != 1 else 'y'}")
        for reply in item.replies:
            when = reply.date.date().isoformat() if reply.date else "undated"
            # Names and lines come from readers: escaped, so no escape sequence reaches the terminal.
            who = f"{terminal_text(reply.name)}: " if reply.name else ""
            click.echo(f"  {when}  {who}{terminal_text(' / '.join(reply.first_lines)) or '(no text)'}")


@click.command("replies")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")
@click.pass_obj
def replies_command(root: Path, source: str, as_json: bool) -> None:
    """List replies per lesson from SOURCE: an mbox file, a Maildir folder or imaps://user@host/FOLDER.

    The IMAP password comes from the environment variable LESSONPRESS_IMAP_PASSWORD.
    """
    started = time.perf_counter()
    site = answerable_site(root, datetime.now(UTC)).site
    inbox = read_source(source)
    print_warnings(inbox.skipped + inbox.notices)
    found = collect_replies(site, inbox)
    if as_json:
        # ASCII-only JSON: whatever a reader's name holds, nothing but printable ASCII reaches the terminal.
        click.echo(json.dumps(found.to_json(), ensure_ascii=True, indent=2))
    else:
        print_replies(found)
    total = sum(len(item.replies) for item in found.lessons)
    summary = (
        f"Found {total} repl{'ies' if total != 1 else 'y'} to {len(found.lessons)} lesson{'s' if len(found.lessons) != 1 else ''}; "
        f"{found.votes} vote{'s' if found.votes != 1 else ''}, {found.unmatched} unmatched, {found.unreadable} unreadable "
        f"in {time.perf_counter() - started:.2f} s"
    )
    # With --json, stdout stays pure JSON for scripts; the summary goes to stderr.
    click.echo(summary, err=as_json)
