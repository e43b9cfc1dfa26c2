"""`lessonpress inbox SOURCE`: read the list's mailbox once and do what each new message asks."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from ..mail.inbox import InboxRequest, run_inbox
from ..progress import terminal_bar
from .common import print_warnings
from .replies import print_replies


@click.command("inbox")
@click.argument("source")
@click.option("--dry-run", is_flag=True, help="Show what the pass would do; change nothing, send nothing.")
@click.pass_obj
def inbox_command(root: Path, source: str, dry_run: bool) -> None:
    """Handle new mail in SOURCE (an mbox file, a Maildir folder or imaps://user@host/FOLDER).

    Subscribe requests, confirmations, unsubscribes, bounces and complaints change the list;
    votes are counted into data/polls/ and new replies are listed. Each message is handled once.
    Needs LESSONPRESS_SECRET; LESSONPRESS_IMAP_PASSWORD for IMAP; LESSONPRESS_SMTP_URL (and
    LESSONPRESS_SMTP_PASSWORD) to send confirmations.
    """
    report = run_inbox(InboxRequest(root=root, source=source, now=datetime.now(UTC), environ=os.environ, dry_run=dry_run), progress=terminal_bar)
    print_warnings(report.warnings)
    for event in report.events:
        click.echo(str(event))
    print_replies(report.replies)
    if report.asked:
        click.echo("Readers asking in plain words to stop:")
        for asked in report.asked:
            click.echo(f"  {asked}")
    for path in report.written:
        click.echo(f"wrote {path.relative_to(root).as_posix()}")
    click.echo(report.summary())
