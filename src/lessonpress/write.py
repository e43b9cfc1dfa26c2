"""Write a `{path: bytes}` map as the new output folder, swapped in atomically."""

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
    unchanged: int  # files kept from the previous build (hard-linked, not rewritten)


def check_paths(paths: list[str]) -> list[SourceError]:
    """Refuse output paths that are absolute or would leave the output folder."""
    errors = []
    for path in paths:
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in path:
            errors.append(SourceError("output", 0, f"refusing to write '{path}': it would leave the output folder"))
    return errors


def write_tree(files: dict[str, bytes], output: Path) -> WriteResult:
    """Build the new tree beside `output`, then swap it in; a crash leaves the old one whole."""
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.new-", dir=output.parent))
    written = unchanged = 0
    try:
        for path in sorted(files):
            data = files[path]
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            previous = output / path
            if _same_bytes(previous, data):
                # Unchanged files keep their inode and mtime, so rsync and browsers see no change.
                os.link(previous, target)
                unchanged += 1
            else:
                target.write_bytes(data)
                written += 1
        _swap(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return WriteResult(written=written, unchanged=unchanged)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _swap(staging: Path, output: Path) -> None:
    if not output.exists():
        staging.rename(output)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{output.name}.old-", dir=output.parent))
    retired.rmdir()
    output.rename(retired)
    staging.rename(output)
    shutil.rmtree(retired, ignore_errors=True)
