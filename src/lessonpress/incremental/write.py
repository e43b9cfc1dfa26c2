"""Write the output folder: new and changed files staged aside, then moved in; unchanged files kept; others removed."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from ..sitefiles import as_usual
from .manifest import Written, file_digest


@dataclass(frozen=True)
class WriteResult:
    written: int  # files whose bytes changed or are new
    unchanged: int  # files left exactly as they were (same inode and mtime)
    removed: int = 0  # files of an earlier build that this build no longer has


def check_paths(paths: list[str]) -> list[SourceError]:
    """Refuse output paths that are absolute, would leave the output folder, are made twice, or are both a file and a folder."""
    errors = []
    # Plain string work: tens of thousands of paths made PurePosixPath the slowest part of a warm build.
    folders: set[str] = set()
    for path in paths:
        end = path.rfind("/")
        while end > 0 and path[:end] not in folders:  # a folder seen before has its parents seen too
            folders.add(path[:end])
            end = path.rfind("/", 0, end)
    seen: set[str] = set()
    for path in paths:
        parts = path.split("/")
        if path.startswith("/") or ".." in parts or not path or "\\" in path:
            errors.append(SourceError("output", 0, f"refusing to write '{path}': it would leave the output folder"))
        elif path in folders:
            errors.append(SourceError("output", 0, f"refusing to write '{path}': another output file needs it to be a folder; rename one of the two"))
        elif path in seen:
            errors.append(SourceError("output", 0, f"refusing to write '{path}' twice: a file under lessons/ has the path of a page; rename or move the file"))
        seen.add(path)
    return errors


# The site's own folders: an output folder may not be one of them or inside one.
SITE_FOLDERS = ("lessons", "data", "themes", ".lessonpress")


def _in_site_folder(path: Path, root: Path) -> bool:
    return any(path.is_relative_to(root / name) for name in SITE_FOLDERS)


def output_error(output: Path, root: Path) -> SourceError | None:
    """Refuse an output folder that holds the site's own files (writing it removes every file the build does not make), or a file."""
    output, root = output.resolve(), root.resolve()  # resolved: `output` may be a link to the site itself
    if root.is_relative_to(output) or _in_site_folder(output, root):
        return SourceError("output", 0, f"refusing to write into {output}: it holds the site's own files; choose a folder outside lessons/, data/ and themes/, such as output/")
    if output.exists() and not output.is_dir():
        return SourceError("output", 0, f"refusing to write into {output}: it is a file, not a folder; remove it or choose another output folder")
    return None


def foreign_error(output: Path, existing: Collection[str], ours: Collection[str]) -> SourceError | None:
    """Refuse a folder holding files no earlier build into it wrote: replacing the folder's contents would delete them."""
    foreign = sorted(path for path in existing if path not in ours)
    if not foreign:
        return None
    shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
    return SourceError(
        "output", 0,
        f"refusing to write into {output}: it holds {len(foreign)} file{'s' if len(foreign) != 1 else ''} lessonpress did not write ({shown}),"
        " and a build removes every file it does not make; choose a new or empty folder, or move those files away"
        " (an earlier build whose record in .lessonpress/ is gone: delete the folder and build again)",
    )


def file_error(target: Path, root: Path, *, overwrite: bool) -> SourceError | None:
    """Refuse a file a command was asked to write (`-o FILE`) before it does any work.

    Never into the site's own folders, never through a link, a FIFO or a device, and an existing
    file only when `overwrite` says so: what lessonpress did not write is never lost to a typo.
    """
    shown = str(target)
    if _in_site_folder(target.resolve(), root.resolve()):
        return SourceError(shown, 0, "refusing to write into the site's own folders (lessons/, data/, themes/, .lessonpress/): choose a path outside them")
    if target.is_symlink() or (target.exists() and not target.is_file()):
        return SourceError(shown, 0, "refusing to write: it is a link, a folder or a special file, not a plain file; choose another path")
    if target.exists() and not overwrite:
        return SourceError(shown, 0, "already exists: pass --force to replace it, or choose another path")
    if not target.parent.is_dir():
        return SourceError(shown, 0, f"folder {target.parent} does not exist: create it first")
    return None


class Staging:
    """A build's new and changed files, written beside the output folder until everything has rendered.

    Rendering can fail (a template error); only `commit`, after it, touches the output folder, so
    a failed build leaves the previous output as it was.
    """

    def __init__(self, output: Path) -> None:
        self.output = output.resolve()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix=f".{self.output.name}.new-", dir=self.output.parent))
        # mkdtemp makes the folder private (0700); a cold build renames it into place as output/,
        # which a web server or rsync running as another user must be able to read.
        as_usual(self.folder, 0o777)
        self._made: set[str] = {""}  # folders under the staging folder made so far, in this process

    def write(self, path: str, data: bytes, existing: Mapping[str, tuple[int, int]]) -> Written:
        """Stage one file unless the output already holds these bytes; return its path, size, mtime in ns (as the output will have them) and digest.

        `existing` is the output folder as `scan` found it. A file whose bytes are unchanged is not
        staged, so it keeps its inode and mtime (rsync and browser caches see no change). Safe to
        call from forked workers: each writes its own paths.
        """
        known = existing.get(path)
        if known is not None and known[0] == len(data):
            try:
                if (self.output / path).read_bytes() == data:
                    return path, known[0], known[1], file_digest(data)
            except OSError:  # gone or a folder now: stage it
                pass
        # Few system calls per file: creating thousands of files was most of a cold build's system time.
        folder = os.path.dirname(path)
        if folder not in self._made:
            os.makedirs(os.path.join(self.folder, folder), exist_ok=True)
            self._made.add(folder)
        descriptor = os.open(os.path.join(self.folder, path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
            mtime = os.fstat(descriptor).st_mtime_ns
        finally:
            os.close(descriptor)
        return path, len(data), mtime, file_digest(data)

    def commit(self, built: Collection[str], existing: Mapping[str, tuple[int, int]]) -> WriteResult:
        """Move the staged files into the output folder and remove the files the build no longer makes.

        A changed file replaces its target by rename, so no reader sees half a file.
        """
        try:
            staged = sorted(scan(self.folder))
            if not self.output.exists():
                self.folder.rename(self.output)
                return WriteResult(written=len(staged), unchanged=len(built) - len(staged))
            wanted = set(built)
            removed = _remove_all(self.output, [path for path in existing if path not in wanted])
            for path in staged:
                target = self.output / path
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_dir():  # only files no longer built were under it, and they are gone
                    shutil.rmtree(target)
                os.replace(self.folder / path, target)
            return WriteResult(written=len(staged), unchanged=len(built) - len(staged), removed=removed)
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the staging folder and whatever is left in it."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _remove_all(output: Path, paths: list[str]) -> int:
    """Remove these files, then every folder they leave empty."""
    folders: set[Path] = set()
    for path in paths:
        target = output / path
        target.unlink(missing_ok=True)
        folders.update(parent for parent in target.parents if parent.is_relative_to(output) and parent != output)
    for folder in sorted(folders, key=lambda item: len(item.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:  # still holds files the build makes
            continue
    return len(paths)


def scan(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file (or link) under `folder` by posix relative path, with its size and mtime in ns."""
    found: dict[str, tuple[int, int]] = {}
    if not folder.is_dir():
        return found
    pending = [("", str(folder))]
    while pending:
        prefix, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((prefix + entry.name + "/", entry.path))
                else:
                    status = entry.stat(follow_symlinks=False)
                    found[prefix + entry.name] = (status.st_size, status.st_mtime_ns)
    return found
