"""`lessonpress new "Title" --series SERIES`."""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import click

from ..scaffold import new_lesson, series_exists


@click.command("new")
@click.argument("title")
@click.option("--series", "-s", default="", help="The series folder under lessons/ (may be left out when there is only one).")
@click.option("--new-series", is_flag=True, help="Start the series if lessons/SERIES/ does not exist yet (writes its _index.md).")
@click.pass_obj
def new_command(root: Path, title: str, series: str, new_series: bool) -> None:
    """Create the next lesson of a series as a draft; print its path."""
    started = time.perf_counter()
    missing = bool(series) and not series_exists(root, series)
    start = new_series
    if missing and not start and sys.stdin.isatty() and sys.stderr.isatty():
        # On a terminal, ask rather than refuse; a script gets the refusal, which names --new-series.
        start = click.confirm(f"There is no series '{series}' yet. Start it (lessons/{series}/ with an _index.md)?", default=False, err=True)
    path = new_lesson(root, title, series, date.today(), start_series=start)
    click.echo(path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path))
    started_series = f"started the series {series} (edit lessons/{series}/_index.md) and " if missing else ""
    click.echo(f"Created a draft lesson in {time.perf_counter() - started:.2f} s: {started_series}fill in summary and teaser, then remove 'draft: true' to publish", err=True)
