"""`lessonpress send`: deliver a lesson, or a course's due lessons, over SMTP."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import click

from ..progress import moved_bar
from ..send.campaign import SECRET_VARIABLE, SendReport, SendRequest, send, send_test
from ..send.smtp import settings_from_env
from .common import print_warnings


def _now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("must be an ISO date-time like 2026-03-01T08:00:00+00:00", param_hint="--now") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _stop_gently(signum: int, frame: object) -> None:
    """Treat SIGTERM (a cron or systemd timeout) like Ctrl-C: finish the message in hand, then stop."""
    raise KeyboardInterrupt


def _print_report(report: SendReport) -> None:
    print_warnings(report.warnings)
    if report.dry_run:
        for lesson, address in report.planned:
            click.echo(f"would send {lesson} to {address}")
    for title, rows in (("failed", report.failed), ("uncertain", report.uncertain), ("deferred", report.deferred), ("skipped", report.left_out)):
        for row in rows:
            click.echo(f"{title}: {row.lesson} to {row.email}: {row.reply}", err=True)
    if report.uncertain:
        click.echo("uncertain messages may have arrived; they are not sent again unless you add --resend-uncertain", err=True)
    click.echo(report.summary())


@click.command("send")
@click.argument("lesson", required=False)
@click.option("--course", metavar="SERIES", default="", help="Send each subscriber the lesson of this series that is due (run daily).")
@click.option("--list", "list_path", type=click.Path(dir_okay=False, path_type=Path), help="Send to this CSV (email, and optionally name, subscribed_at, status) instead of the site's list.")
@click.option("--suppress", type=click.Path(dir_okay=False, path_type=Path), help="Addresses never to send to (CSV with an email column, or one a line).")
@click.option("--dry-run", is_flag=True, help="Check everything a real send needs (settings, secret, list, lesson), render every message and show who would get what; send nothing.")
@click.option("--test-to", metavar="ADDRESS", help="Send one copy of LESSON to this address only (not recorded).")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="At most this many messages a second.")
@click.option("--connections", type=click.IntRange(1, 32), default=1, show_default=True, help="Parallel SMTP sessions.")
@click.option("--insecure", is_flag=True, help="Allow SMTP without TLS to a host that is not loopback.")
@click.option("--resend-uncertain", is_flag=True, help="Send again the messages whose delivery is uncertain (may duplicate).")
@click.option("--catch-up", is_flag=True, help="With --course: send every lesson that is due, not at most one.")
@click.option("--now", "now_text", hidden=True, help="Pretend it is this ISO time (tests, previews).")
@click.option("--retry-delay", hidden=True, type=float, default=2.0, help="First backoff after a 4xx, in seconds.")
@click.pass_obj
def send_command(
    root: Path, lesson: str | None, course: str, list_path: Path | None, suppress: Path | None, dry_run: bool,
    test_to: str | None, rate: float | None, connections: int, insecure: bool, resend_uncertain: bool,
    catch_up: bool, now_text: str | None, retry_delay: float,
) -> None:
    """Send LESSON (a lesson file or SERIES/SLUG) or --course SERIES to the site's list (or a --list CSV).

    \b
    Read from the environment only (never from a file lessonpress keeps):
      LESSONPRESS_SMTP_URL       the relay, e.g. smtp://user@mail.example.org:587 (STARTTLS)
                                 or smtps://user@mail.example.org:465
      LESSONPRESS_SMTP_PASSWORD  the password of the relay's user
      LESSONPRESS_SECRET         signs each reader's unsubscribe and bounce tokens: keep it
                                 the same for every send

    --dry-run checks all three as a real send does and stops where it would stop.
    """
    if bool(lesson) == bool(course):
        raise click.UsageError("give either a LESSON or --course SERIES")
    if test_to is not None and (not lesson or dry_run):
        raise click.UsageError("--test-to sends one copy of a LESSON: give the lesson, without --course or --dry-run")
    request = SendRequest(
        root=root, now=_now(now_text), list_path=list_path, lesson=lesson or "", course=course, suppress=suppress,
        secret=os.environ.get(SECRET_VARIABLE, ""), dry_run=dry_run, resend_uncertain=resend_uncertain,
        catch_up=catch_up, rate=rate, connections=connections, retry_delay=retry_delay,
    )
    # Read in a dry run too, so it stops on what would stop the real send; only a real send connects.
    settings = settings_from_env(os.environ, insecure=insecure)
    if test_to is not None:
        seconds = send_test(request, settings, test_to)
        click.echo(f"Sent a test copy of {lesson} to {test_to} in {seconds:.2f} s")
        return
    previous = signal.signal(signal.SIGTERM, _stop_gently)
    try:
        with ExitStack() as stack:
            moves: list[Callable[[int], None]] = []

            def planned(count: int) -> None:
                # The bar can only start once the ledger has said how many messages are left.
                moves.append(stack.enter_context(moved_bar("Rendering" if dry_run else "Sending", count)))

            report = send(request, settings, planned=planned, progress=lambda count: moves[0](count))
    finally:
        signal.signal(signal.SIGTERM, previous)
    _print_report(report)
    if report.interrupted:
        sys.exit(130)
