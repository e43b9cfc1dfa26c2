"""What the last build wrote into an output folder: each job's key and its files' sizes and times, so unchanged work is skipped."""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from ..store import Shape, SqliteStore

DATABASE = "outputs.sqlite3"
FORMAT = "lessonpress-outputs/1"
SHAPE = Shape("lessonpress build record", (("jobs", ("output", "name", "key", "outside", "files")),), FORMAT)

# One output file as written: its path in the output folder, its size and its mtime in ns.
Written = tuple[str, int, int]


@dataclass(frozen=True)
class Record:
    """One job as the last build left it."""

    key: str  # digest of everything the job's files were made from
    outside: bool  # its templates read other lessons' bodies: it depends on the whole site
    files: tuple[Written, ...]


def _is_files(value: object) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(item, tuple) and len(item) == 3 and isinstance(item[0], str) and isinstance(item[1], int) and isinstance(item[2], int)
        for item in value
    )


class Manifest:
    """The records of one output folder, in `.lessonpress/cache/outputs.sqlite3` of the site."""

    def __init__(self, site_root: Path, output: Path) -> None:
        self._store = SqliteStore(
            site_root, DATABASE, SHAPE,
            "CREATE TABLE jobs (output TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL,"
            " outside INTEGER NOT NULL, files BLOB NOT NULL, PRIMARY KEY (output, name))",
            "started again (this build renders every page again; output/ is still checked file by file)",
        )
        self._output = str(output.resolve())

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
