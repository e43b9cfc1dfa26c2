"""Problems found in a site's sources, reported compiler style."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import click


@dataclass(frozen=True, order=True)
class SourceError:
    """One problem at a place in a source file: `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


def source_error(root: Path, path: Path, line: int, message: str) -> SourceError:
    """Return an error whose path is shown relative to the site folder."""
    try:
        shown = path.relative_to(root).as_posix()
    except ValueError:
        shown = path.as_posix()
    return SourceError(shown, line, message)


class BuildFailed(click.ClickException):
    """A build stopped by source errors; click prints it without a traceback."""

    exit_code = 1

    def __init__(self, errors: list[SourceError] | tuple[SourceError, ...], warnings: list[SourceError] | tuple[SourceError, ...] = ()) -> None:
        self.errors = tuple(sorted(errors))
        count = len(self.errors)
        # Warnings may explain an error (a misspelt key behind a missing one), so they are shown, but not counted.
        lines = [str(replace(warning, message=f"warning: {warning.message}")) for warning in sorted(warnings)]
        lines += [str(error) for error in self.errors]
        lines.append(f"build failed: {count} error{'s' if count != 1 else ''}; output/ was left as it was")
        super().__init__("\n".join(lines))

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(self.format_message(), err=True, file=file)


class SendFailed(click.ClickException):
    """A send refused before a message went out: bad settings, subscriber list or lesson."""

    exit_code = 1

    def __init__(self, errors: list[SourceError] | tuple[SourceError, ...]) -> None:
        self.errors = tuple(sorted(errors))
        lines = [str(error) for error in self.errors]
        lines.append("send stopped: fix the problem above and run the same command again")
        super().__init__("\n".join(lines))

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(self.format_message(), err=True, file=file)
