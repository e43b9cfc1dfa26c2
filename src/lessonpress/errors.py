"""Problems found in a site's sources, reported compiler style."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

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


class Stopped(click.ClickException):
    """A command stopped by problems it can name: each as `path:line: message`, then one line on what became of the user's files.

    click prints it on stderr without a traceback or its own "Error:" prefix, and exits with 1.
    """

    exit_code = 1

    def __init__(self, errors: Iterable[SourceError], closing: str, warnings: Iterable[SourceError] = ()) -> None:
        self.errors = tuple(errors)
        # Warnings may explain an error (a misspelt key behind a missing one), so they are shown, but not counted.
        lines = [str(replace(warning, message=f"warning: {warning.message}")) for warning in sorted(warnings)]
        super().__init__("\n".join([*lines, *(str(error) for error in self.errors), closing]))

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.format_message(), err=True, file=file)


def plural(count: int, word: str, many: str = "") -> str:
    """Say how many: '1 file', '2 files' (`many` for a word whose plural is not word + 's')."""
    return f"{count} {word if count == 1 else many or word + 's'}"


class SiteFailed(Stopped):
    """A command stopped by problems in the site's files before it made or changed anything."""

    def __init__(self, errors: Iterable[SourceError], warnings: Iterable[SourceError] = ()) -> None:
        found = sorted(errors)
        self.warnings = tuple(warnings)
        super().__init__(found, self.closing(len(found)), self.warnings)

    def closing(self, count: int) -> str:
        return f"stopped: {plural(count, 'error')}; nothing was changed"


class BuildFailed(SiteFailed):
    """A build stopped by source errors (raised by `build` itself: another command's stop names no output folder)."""

    def closing(self, count: int) -> str:
        return f"build failed: {plural(count, 'error')}; output/ was left as it was"


class SendFailed(Stopped):
    """A send refused before a message went out: bad settings, subscriber list or lesson."""

    def __init__(self, errors: Iterable[SourceError]) -> None:
        super().__init__(sorted(errors), "send stopped: fix the problem above and run the same command again")
