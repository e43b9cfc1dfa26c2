"""Write a `{path: bytes}` map as the output folder: built aside, swapped in, unchanged files kept."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import SourceError

@dataclass(frozen=True)
class WriteResult:
    written: int  # files whose bytes changed or are new
    unchanged: int  # files left exactly as they were (same inode and mtime)
    removed: int = 0  # files of an earlier build that this build no longer has


def check_paths(paths: list[str]) -> list[SourceError]:
    """Refuse output paths that are absolute, would leave the output folder, or are both a file and a folder."""
    errors = []
    folders = {str(parent) for path in paths for parent in PurePosixPath(path).parents}
    for path in paths:
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in path:
            errors.append(SourceError("output", 0, f"refusing to write '{path}': it would leave the output folder"))
        elif path in folders:
            errors.append(SourceError("output", 0, f"refusing to write '{path}': another output file needs it to be a folder; rename one of the two"))
    return errors


def output_error(output: Path, root: Path) -> SourceError | None:
    """Refuse an output folder that holds the site's sources: writing it removes every file the build does not make."""
    output, root = output.resolve(), root.resolve()
    if root.is_relative_to(output) or output.is_relative_to(root / "lessons") or output.is_relative_to(root / ".lessonpress"):
        return SourceError("output", 0, f"refusing to write into {output}: it holds the site's own files; choose a folder outside lessons/, such as output/")
    return None


def write_tree(files: dict[str, bytes], output: Path) -> WriteResult:
    """Build the new tree beside `output`, then swap it in; a crash at any point leaves a whole tree."""
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    existing = _file_sizes(output) if output.is_dir() else {}
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.new-", dir=output.parent))
    written = unchanged = 0
    try:
        made: set[Path] = set()
        for path in sorted(files):
            data = files[path]
            target = staging / path
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            previous = output / path
            # Size first: only a file that could be equal is read back and compared.
            if existing.get(path) == len(data) and previous.read_bytes() == data:
                # A hard link keeps the inode and mtime, so rsync and browsers see no change.
                os.link(previous, target)
                unchanged += 1
            else:
                target.write_bytes(data)
                written += 1
        _swap(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return WriteResult(written=written, unchanged=unchanged, removed=len(set(existing) - set(files)))


def _swap(staging: Path, output: Path) -> None:
    """Put `staging` in the place of `output` with two renames; the old tree is removed after."""
    if not output.exists():
        staging.rename(output)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{output.name}.old-", dir=output.parent))
    retired.rmdir()
    output.rename(retired)
    staging.rename(output)
    shutil.rmtree(retired, ignore_errors=True)


def _file_sizes(folder: Path) -> dict[str, int]:
    """Return every file (or link) under `folder` by posix relative path, with its size."""
    found: dict[str, int] = {}
    pending = [("", str(folder))]
    while pending:
        prefix, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((prefix + entry.name + "/", entry.path))
                else:
                    found[prefix + entry.name] = entry.stat(follow_symlinks=False).st_size
    return found
