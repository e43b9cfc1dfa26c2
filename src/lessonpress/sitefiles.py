"""Read a site's files only when they are plain files inside the site: never a link out of it, a FIFO or a device.

A link under `lessons/` or a theme to `/etc/passwd` would be published; a FIFO blocks a read forever
and `/dev/zero` never ends. Both are refused with `path: message` before anything is read.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import SourceError


class NotPlainFile(OSError):
    """A path that had to be a plain file was something else (a FIFO, a device, a folder)."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def read_file(path: str | os.PathLike[str]) -> bytes:
    """Read a whole plain file; raise `NotPlainFile` for anything else, without waiting on it."""
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotPlainFile(f"is {_kind(mode)}, not a plain file: remove it or put a plain file in its place")
        chunks = []
        while chunk := os.read(descriptor, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def read_problem(error: OSError, advice: str) -> str:
    """What to tell the user about a file `read_file` could not read; `advice` follows the system's reason."""
    return str(error) if isinstance(error, NotPlainFile) else f"cannot be read ({error.strerror}){advice}"


def _inside(path: str, site: str) -> bool:
    return path == site or path.startswith(site.rstrip(os.sep) + os.sep)


def _link_problem(path: str, site: str) -> str | None:
    """Why the link at `path` may not be followed for a site whose real path is `site`, or None."""
    target = os.path.realpath(path)
    if not os.path.exists(target):
        return f"is a link to '{os.readlink(path)}', which does not exist: restore the file or remove the link"
    if not _inside(target, site):
        return f"is a link to {target}, outside the site: copy the file into the site instead (lessonpress never publishes files from elsewhere)"
    return None


def plain_files(
    folder: str, shown: str, site: str, problems: list[SourceError], *, hidden: bool = False
) -> Iterator[tuple[tuple[str, ...], os.DirEntry[str]]]:
    """Yield the plain files under `folder` as (parts relative to it, entry), depth first in name order; hidden ones only if asked.

    `shown` is the folder as messages name it (`lessons`), `site` the site's real path. A link
    leading out of the site, a dangling link, a FIFO, a socket or a device is added to `problems`
    instead. A linked folder inside the site is not entered, like `Path.rglob`.
    """
    where = os.path.realpath(folder)
    if not _inside(where, site):
        problems.append(SourceError(shown, 0, f"is a link to {where}, outside the site: move that folder into the site"))
        return
    yield from _walk(folder, shown, site, (), problems, hidden)


def _walk(
    folder: str, shown: str, site: str, relative: tuple[str, ...], problems: list[SourceError], hidden: bool
) -> Iterator[tuple[tuple[str, ...], os.DirEntry[str]]]:
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        if entry.name.startswith(".") and not hidden:
            continue
        parts = (*relative, entry.name)
        # d_type answers these without a system call: the common case (a plain file, a folder) costs nothing.
        if entry.is_file(follow_symlinks=False):
            yield parts, entry
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path, shown, site, parts, problems, hidden)
            continue
        name = "/".join((shown, *parts))
        if entry.is_symlink():
            problem = _link_problem(entry.path, site)
            if problem is None:
                if entry.is_file():
                    yield parts, entry
                    continue
                if entry.is_dir():
                    continue  # a linked folder inside the site: not entered
                problem = f"is a link to {_kind(os.stat(entry.path).st_mode)}, not a plain file: remove the link"
            problems.append(SourceError(name, 0, problem))
            continue
        problems.append(SourceError(name, 0, f"is {_kind(entry.stat(follow_symlinks=False).st_mode)}, not a plain file: remove it (lessonpress reads only plain files)"))


def as_usual(path: str | Path, mode: int) -> None:
    """Give a file or folder made private by tempfile the mode the umask gives anything else made."""
    umask = os.umask(0)  # the only way to read the umask is to set it
    os.umask(umask)
    os.chmod(path, mode & ~umask)


def write_file(target: Path, data: bytes, *, replace: bool = True) -> None:
    """Write one file whole or not at all: a file beside it, synced, then renamed over it (or, with `replace=False`,
    linked into place, which fails with FileExistsError rather than overwrite a file that appeared meanwhile)."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        as_usual(temporary, 0o666)  # mkstemp's 0600 is not what `>` would have made
        if replace:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)
            os.unlink(temporary)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

