"""`lessonpress sends`: what the ledger says, per lesson."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..send.ledger import STATES, Ledger


@click.command("sends")
@click.argument("lesson", required=False)
@click.pass_obj
def sends_command(root: Path, lesson: str | None) -> None:
    """Show the send ledger per lesson, then the failed, uncertain and deferred recipients (of LESSON, as SERIES/SLUG)."""
    started = time.perf_counter()
    ledger = Ledger.open(root, read_only=True)
    try:
        counts = ledger.counts()
        wanted = lesson.strip("/") if lesson else None
        # Worth a look: refused, uncertain, and queued rows that a relay has already put off (deferred).
        rows = [row for row in ledger.rows([wanted] if wanted else None) if row.state != "sent" and (row.state != "queued" or row.reply)]
    finally:
        ledger.close()
    shown = {name: value for name, value in counts.items() if wanted in (None, name)}
    width = max((len(name) for name in shown), default=6)
    click.echo(f"{'lesson':<{width}}  " + "  ".join(f"{state:>9}" for state in STATES))
    for name, by_state in shown.items():
        click.echo(f"{name:<{width}}  " + "  ".join(f"{by_state[state]:>9}" for state in STATES))
    for row in rows:
        state = "deferred" if row.state == "queued" else row.state
        click.echo(f"{state}: {row.lesson} to {row.email} ({row.attempts} attempt{'s' if row.attempts != 1 else ''}): {row.reply}")
    total = sum(sum(by_state.values()) for by_state in shown.values())
    click.echo(f"{len(shown)} lesson{'s' if len(shown) != 1 else ''}, {total} recipient row{'s' if total != 1 else ''} in the ledger ({time.perf_counter() - started:.2f} s)")
