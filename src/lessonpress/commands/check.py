"""`lessonpress check`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from ..check import check_site


@click.command("check")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json prints a list of {path, line, severity, message} for editors and CI.")
@click.pass_obj
def check_command(root: Path, output_format: str) -> None:
    """Check all lessons before sending, drafts and scheduled ones too; exit 1 on errors."""
    report = check_site(root, datetime.now(UTC))
    if output_format == "json":
        click.echo(json.dumps(report.as_json_list(), indent=2, ensure_ascii=False))
    else:
        for finding in report.findings:
            click.echo(str(finding))
    click.echo(report.summary(), err=output_format == "json")
    if report.errors:
        raise SystemExit(1)
