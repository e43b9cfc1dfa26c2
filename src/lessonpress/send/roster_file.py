"""Open `.lessonpress/list.sqlite` through `store.open_state`: a damaged or foreign file is refused and left byte for byte as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..store import Shape, open_in_memory, open_state

LIST_PATH = Path(".lessonpress") / "list.sqlite"
# The tables a list file must hold, with the columns read from them, and its format stamp: anything else is not ours.
SHAPE = Shape(
    "lessonpress subscriber list",
    (
        ("settings", ("name", "value")),
        ("readers", ("key", "address", "name", "status", "tags", "created", "changed")),
        ("history", ("id", "key", "status", "at", "how", "source")),
        ("forgotten", ("digest", "at")),
    ),
    stamp="lessonpress list 1",
)
SCHEMA = """
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO settings VALUES ('forget_key', lower(hex(randomblob(32))));
CREATE TABLE readers (
    key TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'complained')),
    tags TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL,
    changed TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    how TEXT NOT NULL CHECK (how IN ('command', 'import', 'mail', 'form')),
    source TEXT NOT NULL
);
CREATE INDEX history_by_key ON history (key, id);
CREATE TABLE forgotten (digest TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID
"""
RECOVERY = (
    "the list was not changed: restore .lessonpress/list.sqlite from a backup, or try "
    "'sqlite3 .lessonpress/list.sqlite .recover | sqlite3 recovered.sqlite' and move recovered.sqlite into its place"
)


def connect(path: Path | None) -> sqlite3.Connection:
    """Open the list at `path` for reading and writing (None: a new empty one in memory); raise `store.DamagedState` if it fails the check."""
    # Autocommit: `Roster` opens each write transaction itself, with BEGIN IMMEDIATE.
    if path is None:
        return open_in_memory(SHAPE, SCHEMA, check_same_thread=False, isolation_level=None)
    connection = open_state(path, SHAPE, SCHEMA, check_same_thread=False, isolation_level=None)
    # `forget` must erase, not unlink: freed bytes are overwritten with zeros.
    connection.execute("PRAGMA secure_delete=ON")
    return connection
