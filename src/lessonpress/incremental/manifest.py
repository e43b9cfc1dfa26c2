"""What the last build wrote into an output folder: each job's key and its files' sizes, times and digests, so unchanged work is skipped."""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from ..store import Shape, SqliteStore

DATABASE = "outputs.sqlite3"
# /2: output folders by site-relative path, files with a digest of their bytes (a restored cache is used).
FORMAT = "lessonpress-outputs/2"
SHAPE = Shape("lessonpress build record", (("jobs", ("output", "name", "key", "outside", "files")),), FORMAT)

# One output file as written: its path in the output folder, its size, its mtime in ns and `file_digest` of its bytes.
Written = tuple[str, int, int, bytes]


def file_digest(data: bytes) -> bytes:
    """A digest of a written file's bytes: when its mtime is not the one recorded (a restored cache, a fresh checkout), the bytes decide."""
    return hashlib.sha1(data, usedforsecurity=False).digest()


@dataclass(frozen=True)
class Record:
    """One job as the last build left it."""

    key: str  # digest of everything the job's files were made from
    outside: bool  # its templates read other lessons' bodies: it depends on the whole site
    files: tuple[Written, ...]


def _is_files(value: object) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(item, tuple) and len(item) == 4 and isinstance(item[0], str) and isinstance(item[1], int) and isinstance(item[2], int)
        and isinstance(item[3], bytes)
        for item in value
    )


def folder_name(site_root: Path, output: Path) -> str:
    """How the record names an output folder: relative to the site when inside it, so a site moved or checked out elsewhere keeps its records."""
    output, site_root = output.resolve(), site_root.resolve()
    return output.relative_to(site_root).as_posix() if output.is_relative_to(site_root) else str(output)


class Manifest:
    """The records of one output folder, in `.lessonpress/cache/outputs.sqlite3` of the site."""

    def __init__(self, site_root: Path, output: Path) -> None:
        self._store = SqliteStore(
            site_root, DATABASE, SHAPE,
            "CREATE TABLE jobs (output TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL,"
            " outside INTEGER NOT NULL, files BLOB NOT NULL, PRIMARY KEY (output, name))",
            "started again (this build renders every page again; output/ is still checked file by file)",
        )
        self._output = folder_name(site_root, output)

    @property
    def notices(self) -> tuple[SourceError, ...]:
        """One line per time the file was found damaged and started again."""
        return tuple(self._store.notices)

    def load(self) -> dict[str, Record]:
        """Every record of the output folder; a damaged one is left out, so its job runs again."""
        records: dict[str, Record] = {}
        try:
            rows = self._store.connection.execute("SELECT name, key, outside, files FROM jobs WHERE output = ?", (self._output,)).fetchall()
        except sqlite3.DatabaseError as error:
            self._store.reset(error)
            return records
        for name, key, outside, blob in rows:
            try:
                files = pickle.loads(blob)
            except Exception:  # noqa: BLE001 - any unpickling failure means: render again
                continue
            if isinstance(key, str) and _is_files(files):
                records[name] = Record(key, bool(outside), files)
        return records

    def save(self, records: Iterable[tuple[str, Record]]) -> None:
        """Replace the folder's records with these."""
        rows = [(self._output, name, record.key, int(record.outside), pickle.dumps(record.files, pickle.HIGHEST_PROTOCOL)) for name, record in records]
        try:
            with self._store.connection:
                self._store.connection.execute("BEGIN IMMEDIATE")
                self._store.connection.execute("DELETE FROM jobs WHERE output = ?", (self._output,))
                self._store.connection.executemany("INSERT INTO jobs VALUES (?, ?, ?, ?, ?)", rows)
        except sqlite3.DatabaseError as error:
            # Lost records only cost speed: the next build renders everything again.
            self._store.reset(error)

    def close(self) -> None:
        self._store.close()
