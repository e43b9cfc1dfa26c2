"""`lessonpress init DIR`."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import click

from ..errors import plural
from ..scaffold import init_site
from ..translations import language_problem


def _language(language: str) -> str:
    problem = language_problem(language)
    if problem:
        raise click.BadParameter(problem)
    return language.strip()


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="", help="The site's title (default: from the folder name).")
@click.option(
    "--language", default="en", show_default=True, callback=lambda _context, _parameter, value: _language(value),
    help="The site's language ([site] language): the theme's words, dates and starter text (en, de, fr, es; any other tag gets English words).",
)
def init_command(directory: Path, title: str, language: str) -> None:
    """Create a new site in DIRECTORY, ready to serve: config, one series, one lesson, theme folder."""
    started = time.perf_counter()
    created = init_site(directory, date.today(), title, language)
    for path in created:
        click.echo(f"created {path}")
    click.echo(f"Created a site with {plural(len(created), 'file')} in {time.perf_counter() - started:.2f} s; next: cd {directory} && lessonpress serve")
