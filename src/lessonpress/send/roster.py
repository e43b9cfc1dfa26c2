"""The subscriber list lessonpress keeps: one SQLite file, `.lessonpress/list.sqlite`, with every status change on record."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..addresses import is_address
from ..errors import SourceError, Stopped, source_error
from ..store import DamagedState
from ..untrusted import one_line, shorten
from .roster_file import LIST_PATH, RECOVERY, connect

STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
STOPPED = frozenset({"unsubscribed", "bounced", "complained"})  # never mailed; only an explicit `list add` undoes them
HOWS = ("command", "import", "mail", "form")
NAME_LIMIT = 200
SOURCE_LIMIT = 300


class ListRefused(Stopped):
    """A list command that changed nothing."""

    def __init__(self, errors: Iterable[SourceError], closing: str = "the list was not changed") -> None:
        super().__init__(sorted(errors), closing)


@dataclass(frozen=True)
class Reader:
    address: str  # as the reader wrote it; the key is its lowercase form
    name: str
    status: str
    tags: tuple[str, ...]
    created: str  # ISO 8601, UTC
    changed: str


@dataclass(frozen=True)
class Change:
    """One status change: what it became, when, how (`command`, `import`, `mail`, `form`) and the evidence."""

    status: str
    at: str
    how: str
    source: str  # a Message-ID, `file.csv:12`, a command line


@dataclass(frozen=True)
class ReaderRecord:
    reader: Reader
    history: tuple[Change, ...]


@dataclass(frozen=True)
class Recipient:
    """An active reader, as a send needs them."""

    address: str
    name: str
    since: str = ""  # ISO 8601, UTC: when they joined (a course's day one), or confirmed if they were pending first


@dataclass(frozen=True)
class ImportRow:
    """One row of an import file, already read: `source` is its `file:line`."""

    source: str
    address: str
    name: str = ""
    status: str = "active"
    tags: tuple[str, ...] = ()
    created: str = ""


@dataclass(frozen=True)
class Forgotten:
    """What `forget` did: whether the list held the address, and whether its bytes have left the file already."""

    known: bool
    settled: bool


@dataclass(frozen=True)
class Merged:
    """What an import did: counts, and a note for each row it did not follow."""

    added: int
    changed: int
    unchanged: int
    notes: tuple[SourceError, ...]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Return tags one-lined, without commas (the export's separator) or duplicates, sorted."""
    return tuple(sorted({one_line(tag.replace(",", " ")) for tag in tags} - {""}))


def _clean_source(source: str) -> str:
    return shorten(one_line(source), SOURCE_LIMIT)


def _reader(row: tuple[str, str, str, str, str, str]) -> Reader:
    address, name, status, tags, created, changed = row
    return Reader(address, name, status, tuple(json.loads(tags)), created, changed)


_READER = "SELECT address, name, status, tags, created, changed FROM readers"
# A reader who confirmed starts a course on the day they became active after their last `pending`, not the day they asked.
_ACTIVE = """
SELECT address, name, coalesce((
    SELECT min(at) FROM history AS made WHERE made.key = readers.key AND made.status = 'active'
    AND made.id > (SELECT max(id) FROM history AS asked WHERE asked.key = readers.key AND asked.status = 'pending')
), created)
FROM readers WHERE status = 'active' ORDER BY key
"""


class Roster:
    """Thread-safe access to `.lessonpress/list.sqlite`; every change is committed before it returns."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._lock = threading.Lock()

    @classmethod
    def open(cls, root: Path, *, read_only: bool = False) -> Roster:
        """Open (creating) the site's list; read-only opens an empty one in memory if there is none yet, and creates nothing."""
        path = root / LIST_PATH
        if read_only and not path.exists() and not path.is_symlink():
            return cls(connect(None))
        try:
            return cls(connect(path))
        except DamagedState as damaged:
            raise ListRefused([source_error(root, damaged.path, 0, damaged.reason)], RECOVERY) from None
        except (OSError, sqlite3.Error) as error:
            reason = f"{error.strerror}: {error.filename}" if isinstance(error, OSError) and error.filename else str(error)
            raise ListRefused([SourceError(LIST_PATH.as_posix(), 0, f"cannot be opened ({reason})")]) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- reading ------------------------------------------------------------

    def find(self, address: str) -> Reader | None:
        with self._lock:
            row = self._db.execute(_READER + " WHERE key = ?", (address.strip().lower(),)).fetchone()
        return _reader(row) if row else None

    def show(self, address: str) -> ReaderRecord | None:
        """Return a reader with every status change, oldest first."""
        with self._lock:
            row = self._db.execute(_READER + " WHERE key = ?", (address.strip().lower(),)).fetchone()
            changes = self._db.execute("SELECT status, at, how, source FROM history WHERE key = ? ORDER BY id", (address.strip().lower(),)).fetchall()
        return ReaderRecord(_reader(row), tuple(Change(*change) for change in changes)) if row else None

    def counts(self) -> dict[str, int]:
        """Return {status: readers} for every status, zeros included."""
        with self._lock:
            found = dict(self._db.execute("SELECT status, COUNT(*) FROM readers GROUP BY status").fetchall())
        return {status: found.get(status, 0) for status in STATUSES}

    def readers(self, statuses: Iterable[str] = STATUSES) -> list[Reader]:
        """Return the readers of some statuses, sorted by address."""
        wanted = sorted(set(statuses))
        marks = ", ".join("?" * len(wanted))
        with self._lock:
            rows = self._db.execute(_READER + f" WHERE status IN ({marks}) ORDER BY key", wanted).fetchall()
        return [_reader(row) for row in rows]

    def active(self) -> list[Recipient]:
        """Return who a send goes to now: the active readers, sorted by address."""
        with self._lock:
            rows = self._db.execute(_ACTIVE).fetchall()
        return [Recipient(*row) for row in rows]

    def is_forgotten(self, address: str) -> bool:
        with self._lock:
            return self._forgotten(address)

    def digest(self, address: str) -> str:
        """The keyed one-way digest `forget` keeps of an address: other state files put it where the address was."""
        with self._lock:
            return self._digest(address)

    # -- changing -----------------------------------------------------------

    def add(self, address: str, *, name: str = "", tags: Iterable[str] = (), status: str = "active", how: str = "command", source: str = "") -> tuple[Reader, str]:
        """Add a reader, or set an existing one to `status`; return the reader and their status before ("" if new).

        Only `how="command"` (the author, explicitly) may bring back a forgotten address or a stopped reader.
        """
        address, name, tags = self._check(address, name, tags, status, how)
        with self._lock, self._writing():
            existing = self._db.execute("SELECT status, name, tags FROM readers WHERE key = ?", (address.lower(),)).fetchone()
            if how != "command":
                if existing is None and self._forgotten(address):
                    raise ListRefused([SourceError(LIST_PATH.as_posix(), 0, f"{address} was forgotten ('lessonpress list forget'): only 'lessonpress list add' brings it back")])
                if existing is not None and existing[0] in STOPPED:
                    raise ListRefused([SourceError(LIST_PATH.as_posix(), 0, f"{address} is {existing[0]}: only 'lessonpress list add' brings them back")])
            if existing is not None and existing[0] == "active" and status == "pending":
                status = "active"  # asking to confirm again never takes an active reader off the list
            self._db.execute("DELETE FROM forgotten WHERE digest = ?", (self._digest(address),))
            previous = self._put(address, name, tags, status, how, source, existing, created="")
        reader = self.find(address)
        assert reader is not None
        return reader, previous

    def set_status(self, address: str, status: str, *, how: str, source: str) -> Reader | None:
        """Record a new status with its evidence; return the reader, or None if the list does not hold the address."""
        if status not in STATUSES or how not in HOWS:
            raise ValueError(f"unknown status {status!r} or way {how!r}")
        address = address.strip()
        with self._lock, self._writing():
            row = self._db.execute("SELECT status FROM readers WHERE key = ?", (address.lower(),)).fetchone()
            if row is None:
                return None
            if row[0] != status:
                stamp = _now()
                self._db.execute("UPDATE readers SET status = ?, changed = ? WHERE key = ?", (status, stamp, address.lower()))
                self._record(address, status, stamp, how, source)
        return self.find(address)

    def remove(self, address: str, *, how: str = "command", source: str = "") -> Reader | None:
        """Unsubscribe a reader: the row and its history stay, so no import or bounce brings them back."""
        return self.set_status(address, "unsubscribed", how=how, source=source)

    def merge(self, rows: Iterable[ImportRow]) -> Merged:
        """Import rows in one transaction: new readers are added; a stopped or forgotten reader is never brought back."""
        added = changed = unchanged = 0
        notes: list[SourceError] = []
        with self._lock, self._writing():
            for row in rows:
                path, _, line = row.source.rpartition(":")
                where = (path, int(line)) if line.isdigit() else (row.source, 0)
                address, name, tags = self._check(row.address, row.name, row.tags, row.status, "import")
                key = address.lower()
                existing = self._db.execute("SELECT status, name, tags FROM readers WHERE key = ?", (key,)).fetchone()
                if existing is None and self._forgotten(address):
                    notes.append(SourceError(*where, f"{row.address} was forgotten ('lessonpress list forget'): not imported; 'lessonpress list add' brings it back"))
                    continue
                status = row.status
                if existing is not None and existing[0] in STOPPED and status not in STOPPED:
                    notes.append(SourceError(*where, f"{row.address} stays {existing[0]}: an import never reactivates a reader ('lessonpress list add' does)"))
                    status = existing[0]
                if existing is not None and existing[0] == "active" and status == "pending":
                    status = "active"  # a pending row elsewhere does not undo a confirmation here
                before = existing
                self._put(address, name, tags, status, "import", row.source, existing, created=row.created)
                after = self._db.execute("SELECT status, name, tags FROM readers WHERE key = ?", (key,)).fetchone()
                if before is None:
                    added += 1
                elif tuple(before) != tuple(after):
                    changed += 1
                else:
                    unchanged += 1
        return Merged(added, changed, unchanged, tuple(notes))

    def forget(self, address: str) -> Forgotten:
        """Erase a reader's address, name and history, keeping a keyed digest so no import or bounce re-adds them."""
        address = self._check(address, "", (), "unsubscribed", "command")[0]
        key = address.lower()
        with self._lock:
            with self._writing():
                known = self._db.execute("DELETE FROM readers WHERE key = ?", (key,)).rowcount
                self._db.execute("DELETE FROM history WHERE key = ?", (key,))
                # Evidence that names the address (a command line, a Message-ID) goes with it.
                self._db.execute("UPDATE history SET source = '(forgotten)' WHERE instr(lower(source), ?) > 0", (key,))
                self._db.execute("INSERT OR IGNORE INTO forgotten (digest, at) VALUES (?, ?)", (self._digest(address), _now()[:10]))
            # secure_delete zeroed the freed bytes; fold the log into the file so no old page keeps them.
            # Another process reading the list can hold the log back: it then goes when that process closes the list.
            busy, logged, moved = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return Forgotten(bool(known), settled=not busy and logged == moved)

    # -- inside ------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction, taken at once: what it read cannot change under it, even from another process."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise ListRefused([SourceError(LIST_PATH.as_posix(), 0, f"is busy ({error}): another lessonpress command holds it; run this one again")]) from None
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _check(self, address: str, name: str, tags: Iterable[str], status: str, how: str) -> tuple[str, str, tuple[str, ...]]:
        address = address.strip()
        if not is_address(address):
            raise ListRefused([SourceError(LIST_PATH.as_posix(), 0, f"'{shorten(one_line(address), 80)}' is not a valid email address")])
        if status not in STATUSES or how not in HOWS:
            raise ValueError(f"unknown status {status!r} or way {how!r}")
        return address, shorten(one_line(name), NAME_LIMIT), clean_tags(tags)

    def _put(self, address: str, name: str, tags: tuple[str, ...], status: str, how: str, source: str, existing: tuple[str, str, str] | None, created: str) -> str:
        """Insert or update one reader inside the caller's transaction; return the status before ("" if new)."""
        stamp = _now()
        key = address.lower()
        if existing is None:
            self._db.execute(
                "INSERT INTO readers (key, address, name, status, tags, created, changed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, address, name, status, json.dumps(list(tags)), created or stamp, stamp),
            )
            self._record(address, status, stamp, how, source)
            return ""
        old_status, old_name, old_tags = existing
        merged_tags = clean_tags([*json.loads(old_tags), *tags])
        self._db.execute(
            "UPDATE readers SET name = ?, tags = ?, status = ?, changed = CASE WHEN status = ? THEN changed ELSE ? END WHERE key = ?",
            (name or old_name, json.dumps(list(merged_tags)), status, status, stamp, key),
        )
        if old_status != status:
            self._record(address, status, stamp, how, source)
        return old_status

    def _record(self, address: str, status: str, stamp: str, how: str, source: str) -> None:
        self._db.execute("INSERT INTO history (key, status, at, how, source) VALUES (?, ?, ?, ?, ?)", (address.lower(), status, stamp, how, _clean_source(source)))

    def _digest(self, address: str) -> str:
        (secret,) = self._db.execute("SELECT value FROM settings WHERE name = 'forget_key'").fetchone()
        return hmac.new(bytes.fromhex(secret), address.strip().lower().encode(), hashlib.sha256).hexdigest()

    def _forgotten(self, address: str) -> bool:
        return self._db.execute("SELECT 1 FROM forgotten WHERE digest = ?", (self._digest(address),)).fetchone() is not None
