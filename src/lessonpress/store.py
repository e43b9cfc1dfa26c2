"""State files under `.lessonpress/`: every one opens through `open_state`, which checks it before anything is read or written.

A cache (parse results, build records) only costs time to make again, so a damaged one is set aside
and rebuilt with a notice; the send ledger records who was sent what, so its owner turns a
`DamagedState` into a stop and leaves the file exactly as it was.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import SourceError, source_error

CACHE_DIR = Path(".lessonpress") / "cache"
HEADER = b"SQLite format 3\x00"
HEADER_SIZE = 100
SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Shape:
    """What a state file must hold to be trusted: tables with at least these columns, and the stamp in `meta` if it has one."""

    kind: str  # what the file is, for messages: "lessonpress send ledger"
    tables: tuple[tuple[str, tuple[str, ...]], ...]
    stamp: str = ""


class DamagedState(Exception):
    """A state file that failed its check; `reason` completes "<path> …"."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} {reason}")
        self.path = path
        self.reason = reason


def _header_problem(path: Path, size: int) -> str | None:
    """Check the 100-byte SQLite header and the file's length against it, without SQLite."""
    if size == 0:
        return "is empty (0 bytes): it was truncated or never written"
    with path.open("rb") as handle:
        header = handle.read(HEADER_SIZE)
    if not header.startswith(HEADER):
        return "is not an SQLite database: its first bytes are not an SQLite header (overwritten or not ours)"
    if len(header) < HEADER_SIZE:
        return f"is truncated: {size} bytes, shorter than an SQLite header"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count in the header is only valid when its change counter matches (see the SQLite file format).
    counted = header[92:96] == header[24:28]
    # A live write-ahead log may hold pages the main file does not have yet: the length is then SQLite's to judge.
    if Path(f"{path}-wal").exists():
        return None
    if size % page_size:
        return f"is truncated: {size} bytes, not a whole number of its {page_size}-byte pages"
    if counted and size < pages * page_size:
        return f"is truncated: {size} bytes where its header promises {pages * page_size}"
    return None


def _connect_read_only(path: Path) -> sqlite3.Connection:
    # Without a log to read, `immutable` opens without creating -wal and -shm files beside a file that may be refused.
    immutable = "" if Path(f"{path}-wal").exists() else "&immutable=1"
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro{immutable}", uri=True)


def _content_problem(path: Path, shape: Shape) -> str | None:
    """Run SQLite's quick check and compare the tables with `shape`, reading only."""
    connection = _connect_read_only(path)
    try:
        verdict = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()]
        if verdict != ["ok"]:
            first = verdict[0].replace("*** in database main ***", "").strip().splitlines()[0]
            return f"is damaged: SQLite's check found '{first}'{f' and {len(verdict) - 1} more' if len(verdict) > 1 else ''}"
        stamped = (("meta", ("format",)),) if shape.stamp else ()
        for table, columns in (*shape.tables, *stamped):
            found = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            missing = [column for column in columns if column not in found]
            if missing:
                tables = sorted(row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
                return f"is not a {shape.kind}: {_shape_gap(table, found, missing)} (its tables: {', '.join(tables) or 'none'})"
        if shape.stamp and connection.execute("SELECT format FROM meta").fetchall() != [(shape.stamp,)]:
            return f"was made by another version of lessonpress (its format is not {shape.stamp})"
    except sqlite3.DatabaseError as error:
        return f"is damaged: SQLite says '{error}'"
    finally:
        connection.close()
    return None


def _shape_gap(table: str, found: set[str], missing: list[str]) -> str:
    return f"its '{table}' table lacks {', '.join(missing)}" if found else f"it has no '{table}' table"


def state_problem(path: Path, shape: Shape) -> str | None:
    """Return why the file at `path` cannot be trusted (completing "<path> …"), or None when it is sound or absent; reads only."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return "is a link to a file that does not exist" if path.is_symlink() else None
    if stat.S_ISDIR(found.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(found.st_mode):
        return "is not a regular file (a pipe, device or socket)"
    return _header_problem(path, found.st_size) or _content_problem(path, shape)


def folder_problem(folder: Path) -> DamagedState | None:
    """Return what stands where `folder` (or a folder above it) should be: a file, or a link to nothing; None if it can be made."""
    for parent in (folder, *folder.parents):
        if os.path.lexists(parent) and not parent.is_dir():
            reason = "is a link to nothing" if parent.is_symlink() else "is a file"
            return DamagedState(parent, f"{reason} where lessonpress keeps a folder of its state")
    return None


def make_state_folder(folder: Path) -> None:
    """Make the folder state files live in; raise `DamagedState` when something else stands in its way."""
    problem = folder_problem(folder)
    if problem:
        raise problem
    folder.mkdir(parents=True, exist_ok=True)


class LockBusy(Exception):
    """Another process holds a state lock."""


def hold_lock(path: Path) -> IO[str]:
    """Take the exclusive lock at `path` (made if absent) and return the open file that holds it: closing it lets go.

    Raises `DamagedState` when something stands where the lock's folder should be, `LockBusy` when another process holds it.
    """
    make_state_folder(path.parent)
    handle = path.open("w")
    try:
        # The kernel drops a flock when its process dies, even by kill -9: no stale lock files.
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise LockBusy(path) from None
    return handle


def _initialise(connection: sqlite3.Connection, shape: Shape, schema: str) -> None:
    stamp = f"CREATE TABLE meta (format TEXT NOT NULL); INSERT INTO meta VALUES ('{shape.stamp}');" if shape.stamp else ""
    connection.executescript(f"BEGIN; {stamp} {schema}; COMMIT;")


def open_in_memory(shape: Shape, schema: str, **options: Any) -> sqlite3.Connection:
    """Open an empty state of `shape` in memory: for reading a state file that does not exist yet, without making it."""
    connection = sqlite3.connect(":memory:", **options)
    _initialise(connection, shape, schema)
    return connection


def _create(path: Path, shape: Shape, schema: str) -> None:
    """Make a new state file beside `path` and link it into place: no one ever sees a half-made one, and none is overwritten."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        connection = sqlite3.connect(temporary, isolation_level=None)
        try:
            # WAL + NORMAL: a commit survives the process being killed (only power loss can undo the last ones).
            connection.execute("PRAGMA journal_mode=WAL")
            _initialise(connection, shape, schema)
        finally:
            connection.close()
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: open theirs
    finally:
        os.unlink(temporary)


def open_state(path: Path, shape: Shape, schema: str, **options: Any) -> sqlite3.Connection:
    """Open a checked state file for reading and writing, creating it with `schema` if absent; raise `DamagedState` if it fails the check."""
    make_state_folder(path.parent)
    if not os.path.lexists(path):
        _create(path, shape, schema)
    problem = state_problem(path, shape)
    if problem:
        raise DamagedState(path, problem)
    connection = sqlite3.connect(path, timeout=30, **options)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def set_aside(path: Path, *, ours: bool) -> Path | None:
    """Remove a damaged file of ours; move anything else aside (a folder may hold what lessonpress did not write). Return where it went."""
    if ours and (path.is_symlink() or not path.is_dir()):
        # Only the link, the file or the pipe goes: never what a link points at.
        for name in ("", *SIDE_FILES):
            Path(f"{path}{name}").unlink(missing_ok=True)
        return None
    number = 1
    while os.path.lexists(aside := path.with_name(f"{path.name}.moved-aside-{number}")):
        number += 1
    path.rename(aside)
    return aside


class SqliteStore:
    """A cache in `<site>/.lessonpress/cache/<name>` made by `schema`: damaged, it is set aside and started again, with a `notices` line."""

    def __init__(self, site_root: Path, name: str, shape: Shape, schema: str, cost: str) -> None:
        self._root = site_root
        self.path = site_root / CACHE_DIR / name
        self._shape = shape
        self._schema = schema
        self._cost = cost  # what losing it means to the user, e.g. "rebuilt from the lessons"
        self.notices: list[SourceError] = []
        self.connection = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            return open_state(self.path, self._shape, self._schema, isolation_level=None)
        except DamagedState as damaged:
            if not damaged.path.is_relative_to(self.path.parent):
                return self._in_memory(damaged)
            self._start_again(damaged.path, damaged.reason)
        return open_state(self.path, self._shape, self._schema, isolation_level=None)

    def _in_memory(self, damaged: DamagedState) -> sqlite3.Connection:
        """Keep the cache in memory for this run: `.lessonpress/` itself also holds the send ledger, so a cache never moves it."""
        self.notices.append(source_error(self._root, damaged.path, 0, f"{damaged.reason}: the cache is not kept for the next build; move it away"))
        return open_in_memory(self._shape, self._schema, isolation_level=None)

    def _start_again(self, path: Path, reason: str) -> None:
        aside = set_aside(path, ours=path == self.path)
        moved = f"moved to {aside.name}" if aside else "removed"
        self.notices.append(source_error(self._root, path, 0, f"{reason}: {moved} and {self._cost}"))

    def reset(self, error: sqlite3.DatabaseError) -> None:
        """Start an empty file after SQLite failed on this one: what it held only costs time to make again."""
        self.connection.close()
        self._start_again(self.path, f"could not be read ('{error}')")
        self.connection = open_state(self.path, self._shape, self._schema, isolation_level=None)

    def close(self) -> None:
        self.connection.close()
