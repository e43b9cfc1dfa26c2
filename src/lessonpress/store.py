"""One SQLite file under `.lessonpress/cache/` stamped with a format: a damaged file or one of another format is replaced, never trusted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

CACHE_DIR = Path(".lessonpress") / "cache"


class SqliteStore:
    """A connection to `<site>/.lessonpress/cache/<name>` whose tables are made by `schema` for `format`."""

    def __init__(self, site_root: Path, name: str, format: str, schema: str) -> None:  # noqa: A002 - the stamp's name
        self.folder = site_root / CACHE_DIR
        self.path = self.folder / name
        self._format = format
        self._schema = schema
        self.connection = self._open()

    def _open(self) -> sqlite3.Connection:
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            connection = self._connect()
        except sqlite3.DatabaseError:
            # Not a database at all (truncated, overwritten): start again from empty.
            self._remove_files()
            connection = self._connect()
        return connection

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("CREATE TABLE IF NOT EXISTS meta (format TEXT NOT NULL)")
            if connection.execute("SELECT format FROM meta").fetchall() != [(self._format,)]:
                # The schema drops its own tables first: a store of another format is emptied whole.
                connection.executescript(f"BEGIN; DELETE FROM meta; INSERT INTO meta VALUES ('{self._format}'); {self._schema} COMMIT;")
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError:
            connection.close()
            raise
        return connection

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def reset(self) -> None:
        """Throw the file away and start an empty one: what it held only costs speed to make again."""
        self.connection.close()
        self._remove_files()
        self.connection = self._open()

    def close(self) -> None:
        self.connection.close()
