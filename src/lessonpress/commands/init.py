"""`lessonpress init DIR`."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import click

from ..errors import plural
from ..scaffold import init_site


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="", help="The site's title (default: from the folder name).")
def init_command(directory: Path, title: str) -> None:
    """Create a new site in DIRECTORY, ready to serve: config, one series, one lesson, theme folder."""
    started = time.perf_counter()
    created = init_site(directory, date.today(), title)
    for path in created:
        click.echo(f"created {path}")
    click.echo(f"Created a site with {plural(len(created), 'file')} in {time.perf_counter() - started:.2f} s; next: cd {directory} && lessonpress serve")
