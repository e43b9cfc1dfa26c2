"""The files of an archive, zip or folder, read only from inside it: no path or link leads out, no file is huge."""

from __future__ import annotations

import os
import posixpath
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..sitefiles import read_file

# One issue's text larger than this is no newsletter (Gmail clips at about 102 KB); converting it would take minutes.
MAX_ISSUE_BYTES = 5 * 1024 * 1024
# One image or attachment copied beside the lessons.
MAX_FILE_BYTES = 20 * 1024 * 1024
# All that one import reads from an archive: a small zip of many highly compressed members must not fill memory.
MAX_TOTAL_BYTES = 1024 * 1024 * 1024


class TooLarge(OSError):
    """A file in an archive larger than an import reads."""


class Container:
    """Named files (posix paths inside the archive), read on demand."""

    def __init__(self, label: str, names: dict[str, int], fetch: Callable[[str, int], bytes]) -> None:
        self.label = label  # the archive as the user named it
        self.sizes = names  # name → size in bytes
        self._fetch = fetch
        self._read = 0  # bytes read so far, against MAX_TOTAL_BYTES

    @property
    def names(self) -> list[str]:
        return sorted(self.sizes)

    def read(self, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
        """The bytes of one named file; TooLarge past `limit`."""
        if self.sizes[name] > limit:
            raise TooLarge(f"is {self.sizes[name] / 1048576:.1f} MB, more than the {limit // 1048576} MB an import reads")
        if self._read + self.sizes[name] > MAX_TOTAL_BYTES:
            raise TooLarge(f"would take the import past the {MAX_TOTAL_BYTES // 1048576} MB it reads from one archive in all: import the archive in parts")
        data = self._fetch(name, limit)
        self._read += len(data)
        return data

    def find(self, reference: str, near: str = "") -> str | None:
        """The name of the file a link or image in an issue refers to, if the archive holds it; None otherwise.

        A relative reference is read from the folder of `near`; an absolute URL or path matches a file
        whose path inside the archive it ends with (a WordPress upload kept as wp-content/uploads/…).
        """
        parts = urlsplit(reference)
        path = unquote(parts.path)
        if not path or parts.scheme not in ("", "http", "https", "file"):
            return None
        if not parts.scheme and not path.startswith("/"):
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(near), path))
            return joined if joined in self.sizes else None
        tail = path.lstrip("/")
        candidates = [name for name in self.sizes if tail == name or tail.endswith("/" + name) or name.endswith("/" + tail)]
        return max(candidates, key=len) if candidates else None


def open_zip(path: Path, label: str) -> Container:
    """The files of a zip archive (zipfile.BadZipFile when it is not one, or is cut short)."""
    archive = zipfile.ZipFile(path)
    members = {}
    for info in archive.infolist():
        name = posixpath.normpath(info.filename)
        # A name that climbs out or starts at the root is never read: nothing is written by it either.
        if info.is_dir() or name.startswith(("../", "/")) or name == "..":
            continue
        members[name] = info

    def fetch(name: str, limit: int) -> bytes:
        try:
            with archive.open(members[name]) as handle:
                data = handle.read(limit + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
            raise OSError(f"is damaged in the zip archive ({error})") from None
        if len(data) > limit:  # the zip's own directory understated it
            raise TooLarge(f"holds more than the {limit // 1048576} MB an import reads")
        return data

    return Container(label, {name: info.file_size for name, info in members.items()}, fetch)


def open_folder(path: Path, label: str) -> Container:
    """The plain files of a folder, links that stay inside it included; nothing outside it, no FIFO or device."""
    root = os.path.realpath(path)
    names = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith(".") and not os.path.islink(os.path.join(folder, name)))
        for file_name in files:
            full = os.path.join(folder, file_name)
            real = os.path.realpath(full)
            if file_name.startswith(".") or not real.startswith(root + os.sep) or not os.path.isfile(real):
                continue
            names[Path(full).relative_to(root).as_posix()] = os.stat(real).st_size
    return Container(label, names, lambda name, _: read_file(os.path.join(root, name)))
