"""Make the output folder hold exactly a `{path: bytes}` map, touching only files that changed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import SourceError

# Suffix of a file being written; a leftover from a crash is not in any build, so the next one removes it.
PARTIAL_SUFFIX = ".lessonpress-partial"


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


def write_tree(files: dict[str, bytes], output: Path) -> WriteResult:
    """Write changed files atomically one by one, remove files no longer built, leave the rest untouched."""
    output = output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    existing = _file_sizes(output)
    stale = sorted(set(existing) - set(files))
    for path in stale:
        (output / path).unlink()
        _remove_empty_parents(output, output / path)
    written = unchanged = 0
    for path in sorted(files):
        data = files[path]
        target = output / path
        # Size first: only a file that could be equal is read back and compared.
        if existing.get(path) == len(data) and target.read_bytes() == data:
            # Unchanged files keep their inode and mtime, so rsync and browsers see no change.
            unchanged += 1
            continue
        _replace(target, data)
        written += 1
    return WriteResult(written=written, unchanged=unchanged, removed=len(stale))


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


def _remove_empty_parents(output: Path, removed: Path) -> None:
    for parent in removed.parents:
        if parent == output:
            return
        try:
            parent.rmdir()
        except OSError:  # not empty: it still holds files of this build
            return


def _replace(target: Path, data: bytes) -> None:
    """Write beside the target and rename over it, so a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    partial.write_bytes(data)
    os.replace(partial, target)
