"""`lessonpress import SOURCE --series SLUG`."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import click

from ..content.config import load_config
from ..importing import ImportFailed, ImportPlan, Row, plan_import, read_archive, write_plan
from ..progress import terminal_bar
from ..untrusted import shorten, terminal_text
from .common import print_warnings


def _table(rows: tuple[Row, ...]) -> list[str]:
    """One line per issue: its lesson file (or where it was), what happened, what was recognised, what was left or dropped."""
    # Titles, names and paths come from the archive: printed with every control character shown, never obeyed.
    cells = [
        tuple(terminal_text(cell) for cell in (shorten(row.file.rsplit("/", 1)[-1] or row.origin, 60), row.action, ", ".join(row.recognised) or "–", "; ".join(row.left) or "–"))
        for row in rows
    ]
    header = ("lesson", "done", "recognised", "left in the body / dropped")
    widths = [max(len(cell[column]) for cell in [header, *cells]) for column in range(3)]
    return [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}".rstrip() for a, b, c, d in [header, *cells]]


def _summary(plan: ImportPlan, written: int, dry_run: bool, seconds: float) -> str:
    lessons = sum(1 for row in plan.rows if row.action in ("new", "updated"))
    updated = sum(1 for row in plan.rows if row.action == "updated")
    skipped = sum(1 for row in plan.rows if row.action.startswith("skipped")) + len(plan.skipped)
    copied = sum(1 for planned in plan.files if "/files/" in planned.path)
    parts = [f"{updated} updated" if updated else "", f"{skipped} skipped" if skipped else "", f"{copied} file{'s' if copied != 1 else ''} copied" if copied else ""]
    detail = f" ({', '.join(part for part in parts if part)})" if any(parts) else ""
    if dry_run:
        return f"Dry run: would import {lessons} issue{'s' if lessons != 1 else ''} from the {plan.kind} into lessons/{plan.series}/{detail}; nothing written, in {seconds:.2f} s"
    return f"Imported {lessons} issue{'s' if lessons != 1 else ''} from the {plan.kind} into lessons/{plan.series}/{detail}: {written} files written in {seconds:.2f} s"


@click.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--series", "-s", required=True, help="The series folder under lessons/ to import into (created if new).")
@click.option("--dry-run", is_flag=True, help="Show what would be imported; write nothing.")
@click.option("--date-from", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Date issues with no date of their own from this day, a week apart.")
@click.option("--from", "sender", default="", help="Mailbox only: the address the issues were sent from (default: the most common sender).")
@click.pass_obj
def import_command(root: Path, source: Path, series: str, dry_run: bool, date_from: datetime | None, sender: str) -> None:
    """Import past issues (feed, Substack/Buttondown/WordPress export, mbox, Maildir, folder) as lessons of a series."""
    started = time.perf_counter()
    config, config_warnings = load_config(root)
    print_warnings(config_warnings)
    archive = read_archive(source.expanduser(), sender)
    plan = plan_import(root, config, archive, series, date_from.date() if date_from else None, progress=terminal_bar)
    if plan.errors:
        raise ImportFailed(list(plan.errors))
    for skipped in plan.skipped:
        click.echo(terminal_text(str(skipped)), err=True)
    for warning in sorted(plan.warnings):
        click.echo(terminal_text(str(replace(warning, message=f"warning: {warning.message}"))), err=True)
    if plan.rows:
        for line in _table(plan.rows):
            click.echo(line)
    written = 0 if dry_run else write_plan(root, plan)
    if dry_run:
        for planned in plan.files:
            click.echo(f"would write {planned.path}{' (replacing the unedited import)' if planned.replaces else ''}")
    click.echo(_summary(plan, written, dry_run, time.perf_counter() - started), err=True)
