"""`lessonpress new "Title" --series SERIES`."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import click

from ..scaffold import new_lesson


@click.command("new")
@click.argument("title")
@click.option("--series", "-s", default="", help="The series folder under lessons/ (may be left out when there is only one).")
@click.pass_obj
def new_command(root: Path, title: str, series: str) -> None:
    """Create the next lesson of a series as a draft; print its path."""
    started = time.perf_counter()
    path = new_lesson(root, title, series, date.today())
    click.echo(path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path))
    click.echo(f"Created a draft lesson in {time.perf_counter() - started:.2f} s; fill in summary and teaser, then remove 'draft: true' to publish", err=True)
