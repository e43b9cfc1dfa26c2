"""Output helpers shared by the commands."""

from __future__ import annotations

from collections.abc import Iterable

import click

from ..errors import SourceError


def print_warnings(warnings: Iterable[SourceError]) -> None:
    """Print warnings compiler style on stderr."""
    for warning in sorted(warnings):
        location = f"{warning.path}:{warning.line}" if warning.line else warning.path
        click.echo(f"{location}: warning: {warning.message}", err=True)
