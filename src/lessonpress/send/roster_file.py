"""Open `.lessonpress/list.sqlite`, checked first: a damaged or foreign file is refused and left byte for byte as it was.

`connect` is the only way the list file is opened. It does what `store.open_state` (the checked
opener the ledger moves to) does, so at merge its body becomes one call to `open_state` with
`SHAPE` and `SCHEMA`, catching `DamagedState` in place of `DamagedList`.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from pathlib import Path

LIST_PATH = Path(".lessonpress") / "list.sqlite"
STAMP = "lessonpress list 1"
HEADER = b"SQLite format 3\x00"
# The tables a list file must hold, with the columns read from them: anything else is not ours.
SHAPE = (
    ("meta", ("format",)),
    ("settings", ("name", "value")),
    ("readers", ("key", "address", "name", "status", "tags", "created", "changed")),
    ("history", ("id", "key", "status", "at", "how", "source")),
    ("forgotten", ("digest", "at")),
)
SCHEMA = f"""
CREATE TABLE meta (format TEXT NOT NULL);
INSERT INTO meta VALUES ('{STAMP}');
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
CREATE TABLE forgotten (digest TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID;
"""
RECOVERY = (
    "the list was not changed: restore .lessonpress/list.sqlite from a backup, or try "
    "'sqlite3 .lessonpress/list.sqlite .recover | sqlite3 recovered.sqlite' and move recovered.sqlite into its place"
)


class DamagedList(Exception):
    """The list file failed its check; `reason` completes "<file>: …", `recovery` says what to do."""

    def __init__(self, reason: str, recovery: str = RECOVERY) -> None:
        super().__init__(reason)
        self.reason = reason
        self.recovery = recovery


def _problem(path: Path) -> str | None:
    """Return why the file cannot be trusted, reading only; None when it is sound."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        return "is a folder, not the list file" if stat.S_ISDIR(mode) else "is not a regular file (a pipe, device or socket)"
    with path.open("rb") as handle:
        header = handle.read(100)
    if not header:
        return "is empty (0 bytes): it was truncated or never written"
    if not header.startswith(HEADER) or len(header) < 100:
        return "is not an SQLite database (overwritten, truncated or not lessonpress's)"
    # Without a write-ahead log to read, `immutable` opens without making -wal and -shm files beside a refused file.
    immutable = "" if Path(f"{path}-wal").exists() else "&immutable=1"
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro{immutable}", uri=True)
    try:
        verdict = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()]
        if verdict != ["ok"]:
            return f"is damaged: SQLite's check found '{verdict[0].splitlines()[0]}'"
        for table, columns in SHAPE:
            found = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            if not set(columns) <= found:
                return f"is not a lessonpress subscriber list: it has no '{table}' table with {', '.join(columns)}"
        if connection.execute("SELECT format FROM meta").fetchall() != [(STAMP,)]:
            return f"is not a lessonpress subscriber list of this version (format '{STAMP}')"
    except sqlite3.DatabaseError as error:
        return f"is damaged: SQLite says '{error}'"
    finally:
        connection.close()
    return None


def _create(path: Path) -> None:
    """Make a new list beside `path` and link it into place: nobody sees a half-made list, and none is overwritten."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        connection = sqlite3.connect(temporary, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(f"BEGIN; {SCHEMA} COMMIT;")
        finally:
            connection.close()
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: open theirs
    finally:
        os.unlink(temporary)


def connect(path: Path | None) -> sqlite3.Connection:
    """Open the list at `path` for reading and writing (None: a new empty one in memory); create it if absent, refuse it if damaged."""
    if path is None:
        connection = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        connection.executescript(SCHEMA)
        return connection
    path.parent.mkdir(parents=True, exist_ok=True)
    if not os.path.lexists(path):
        _create(path)
    try:
        problem = _problem(path)
    except FileNotFoundError:
        problem = "is a link to a file that does not exist"
    except OSError as error:
        problem = f"cannot be read ({error.strerror})"
    if problem:
        raise DamagedList(problem)
    # Autocommit: `Roster` opens each write transaction itself, with BEGIN IMMEDIATE.
    connection = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
    # WAL + NORMAL: a commit survives the process being killed (only power loss can undo the last ones).
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    # `forget` must erase, not unlink: freed bytes are overwritten with zeros.
    connection.execute("PRAGMA secure_delete=ON")
    return connection
