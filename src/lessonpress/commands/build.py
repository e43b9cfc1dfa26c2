"""`lessonpress build`."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import click

from ..build import build
from ..progress import terminal_bar
from ..site.model import BuildOptions
from .common import print_warnings


def _stop(number: int, frame: object) -> None:
    raise SystemExit(128 + number)


@click.command("build")
@click.option("--drafts", is_flag=True, help="Include lessons marked draft: true.")
@click.option("--future", is_flag=True, help="Include lessons dated in the future.")
@click.option("--offline", is_flag=True, help="Links name each folder's index.html, so the site works opened from disk (file://).")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: output/ in the site).")
@click.pass_obj
def build_command(root: Path, drafts: bool, future: bool, offline: bool, output: Path | None) -> None:
    """Build the site, feeds and emails into output/."""
    options = BuildOptions(now=datetime.now(UTC), include_drafts=drafts, include_future=future, offline=offline)
    # A closed terminal, `timeout` or a cancelled CI job: unwind like Ctrl-C, so the build removes
    # its staging folder and leaves output/ as it was.
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _stop)
    result = build(root, options, output=output, progress=terminal_bar)
    print_warnings(result.warnings)
    click.echo(result.summary())
