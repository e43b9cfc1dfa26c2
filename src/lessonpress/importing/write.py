"""Write a planned import under lessons/: each file whole (a temporary file beside it, then linked or renamed in), all or nothing.

The import is the one command that writes under lessons/, so it refuses any path that would leave
lessons/<series>/, never follows a link out of the site, never replaces a file it did not plan to
replace, and removes what it created when a later write fails.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import SourceError, Stopped
from ..sitefiles import read_file, write_file
from .plan import ImportPlan, Planned
from .record import read_record


class ImportFailed(Stopped):
    """An import stopped before or while writing: nothing of it stays under lessons/."""

    def __init__(self, errors: list[SourceError]) -> None:
        super().__init__(sorted(errors), "import stopped: nothing was written under lessons/; fix the problem above and run the same command again")


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def _series_folder(root: Path, series: str) -> Path:
    """lessons/<series>/, created if need be; refused if it, or lessons/, is a link or leads out of the site."""
    real_root = os.path.realpath(root)
    lessons = root / "lessons"
    folder = lessons / series
    for path in (lessons, folder):
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise ImportFailed([SourceError(path.relative_to(root).as_posix(), 0, "is a link or not a folder: an import writes only into a real folder inside the site")])
        path.mkdir(exist_ok=True)
        if not _inside(os.path.realpath(path), real_root):
            raise ImportFailed([SourceError(path.relative_to(root).as_posix(), 0, "leads out of the site: an import writes only inside it")])
    return folder


def _target(root: Path, folder: Path, planned: Planned) -> Path:
    """The file a planned path names, refused unless it lies inside the series folder (a file or files/<name>)."""
    parts = planned.path.split("/")
    if len(parts) not in (3, 4) or parts[:2] != ["lessons", folder.name] or any(part in ("", ".", "..") or part.startswith(".") for part in parts) or (len(parts) == 4 and parts[2] != "files"):
        raise ImportFailed([SourceError(planned.path, 0, "refusing to write outside lessons/<series>/")])
    return root / planned.path


def _still_unedited(path: Path) -> bool:
    """Whether a lesson planned to be replaced is still as an import wrote it (the author may have saved it since the plan)."""
    try:
        found = read_record(read_file(path).decode("utf-8", errors="replace").replace("\r\n", "\n"))
    except OSError:
        return False
    return found is not None and found[1]


def write_plan(root: Path, plan: ImportPlan) -> int:
    """Write every planned file, or none: on a failure the files this run created are removed again. Return how many were written."""
    if plan.errors:
        raise ImportFailed(list(plan.errors))
    if not plan.files:
        return 0
    folder = _series_folder(root, plan.series)
    targets = [(_target(root, folder, planned), planned) for planned in plan.files]
    created: list[Path] = []
    try:
        for path, planned in targets:
            if planned.replaces and not _still_unedited(path):
                raise ImportFailed([SourceError(planned.path, 0, "was edited while the import ran: kept as it is")])
            path.parent.mkdir(exist_ok=True)
            if not _inside(os.path.realpath(path.parent), os.path.realpath(folder)) and path.parent != folder:
                raise ImportFailed([SourceError(planned.path, 0, "its folder leads out of the series folder")])
            write_file(path, planned.text, replace=planned.replaces)
            if not planned.replaces:
                created.append(path)
    except (OSError, ImportFailed) as error:
        for path in reversed(created):
            path.unlink(missing_ok=True)
        if isinstance(error, ImportFailed):
            raise
        where = getattr(error, "filename", None) or plan.series
        raise ImportFailed([SourceError(str(where), 0, f"cannot be written ({error.strerror or error}); the files this import had written were removed")]) from None
    return len(targets)
