"""`lessonpress sends`: what the ledger says, per lesson."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..ledger import STATES, Ledger


@click.command("sends")
@click.argument("lesson", required=False)
@click.pass_obj
def sends_command(root: Path, lesson: str | None) -> None:
    """Show the send ledger per lesson; with LESSON (SERIES/SLUG), list its failed and uncertain recipients."""
    started = time.perf_counter()
    ledger = Ledger.open(root, read_only=True)
    try:
        counts = ledger.counts()
        wanted = lesson.strip("/") if lesson else None
        rows = [row for row in ledger.rows([wanted] if wanted else None) if row.state not in ("sent", "queued")]
    finally:
        ledger.close()
    shown = {name: value for name, value in counts.items() if wanted in (None, name)}
    width = max((len(name) for name in shown), default=6)
    click.echo(f"{'lesson':<{width}}  " + "  ".join(f"{state:>9}" for state in STATES))
    for name, by_state in shown.items():
        click.echo(f"{name:<{width}}  " + "  ".join(f"{by_state[state]:>9}" for state in STATES))
    for row in rows:
        click.echo(f"{row.state}: {row.lesson} to {row.email} ({row.attempts} attempt{'s' if row.attempts != 1 else ''}): {row.reply}")
    total = sum(sum(by_state.values()) for by_state in shown.values())
    click.echo(f"{len(shown)} lesson{'s' if len(shown) != 1 else ''}, {total} recipient row{'s' if total != 1 else ''} in the ledger ({time.perf_counter() - started:.2f} s)")
