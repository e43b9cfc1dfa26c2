"""What the inbox pass remembers: the messages it has handled, readers' soft bounces, and confirmations sent.

It lives in `.lessonpress/inbox.sqlite`, apart from the list (`list.sqlite`), because it is
bookkeeping about a mailbox, not about readers: it holds digests and tokens, never an address,
so `list forget` has nothing to erase here, and the list's schema and checks stay as they are.
Losing this file costs little: the list changes a message asked for are made again as no-ops,
and at worst a pending reader gets a second confirmation.

A message is known by the SHA-256 of its raw bytes and by a digest of its Message-ID: the first
catches a message without a Message-ID, the second the same message arriving twice with other
headers (sent to two of our addresses, copied to another folder).
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import SourceError, Stopped, source_error
from ..store import DamagedState, LockBusy, Shape, folder_problem, hold_lock, open_state, state_problem
from .sources import HEADER_LIMIT

HANDLED_PATH = Path(".lessonpress") / "inbox.sqlite"
LOCK_PATH = Path(".lessonpress") / "inbox.lock"
SHAPE = Shape(
    "lessonpress inbox record",
    (
        ("handled", ("digest", "message", "at", "outcome")),
        ("soft_bounces", ("digest", "token", "at")),
        ("confirmations", ("token", "day")),
    ),
    stamp="lessonpress inbox 1",
)
SCHEMA = """
CREATE TABLE handled (digest TEXT PRIMARY KEY, message TEXT NOT NULL, at TEXT NOT NULL, outcome TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX handled_by_message ON handled (message);
CREATE TABLE soft_bounces (digest TEXT PRIMARY KEY, token TEXT NOT NULL, at TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX soft_bounces_by_token ON soft_bounces (token, at);
CREATE TABLE confirmations (token TEXT PRIMARY KEY, day TEXT NOT NULL) WITHOUT ROWID
"""
# A regex rather than the email package: it runs on every message of every pass, and only needs this one header.
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]{1,250}>)", re.IGNORECASE | re.MULTILINE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
RECOVERY = "nothing was handled; move it aside to start the record again (messages are then handled again: list changes repeat as no-ops, a pending reader may get a second confirmation)"


class InboxRefused(Stopped):
    """An inbox pass that stopped: before handling any message, unless `closing` says otherwise."""

    def __init__(self, errors: list[SourceError], closing: str = "inbox pass stopped: nothing was handled") -> None:
        super().__init__(errors, closing)


@dataclass(frozen=True)
class MessageKeys:
    """How the record knows one message: its bytes' digest and its Message-ID's ("" without one)."""

    digest: str
    message: str
    message_id: str  # as the message gives it, for the list's history; reader-supplied, cleaned by the list


def message_keys(raw: bytes) -> MessageKeys:
    """Return the keys of a raw message; its Message-ID is looked for in its own headers only, not in a message it quotes."""
    end = _HEADER_END.search(raw, 0, HEADER_LIMIT)
    found = _MESSAGE_ID.search(raw, 0, end.start() if end else HEADER_LIMIT)
    message_id = found.group(1).decode("ascii", "replace") if found else ""
    message = hashlib.sha256(message_id.lower().encode("utf-8")).hexdigest() if message_id else ""
    return MessageKeys(hashlib.sha256(raw).hexdigest(), message, message_id)


def _stamp(moment: datetime) -> str:
    """Write a moment in UTC to the second: stamps of one form compare as text in time order."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def memory_copy(path: Path) -> sqlite3.Connection:
    """Copy an SQLite file into memory, reading it only: a dry run changes the copy, never the file."""
    copy = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as source:
        source.backup(copy)
    return copy


class HandledRecord:
    """`.lessonpress/inbox.sqlite`: each message handled, soft bounces per bounce token, confirmations per confirm token."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(cls, root: Path, *, dry_run: bool = False) -> HandledRecord:
        """Open (creating) the record; a dry run works on a copy in memory and creates nothing."""
        path = root / HANDLED_PATH
        try:
            if not dry_run:
                return cls(open_state(path, SHAPE, SCHEMA, isolation_level=None))
            blocked = folder_problem(path.parent)
            if blocked:
                raise InboxRefused([source_error(root, blocked.path, 0, blocked.reason)])
            problem = state_problem(path, SHAPE)
            if problem:
                raise DamagedState(path, problem)
        except DamagedState as damaged:
            raise InboxRefused([source_error(root, damaged.path, 0, f"{damaged.reason}: {RECOVERY}")]) from None
        if not os.path.lexists(path):
            connection = sqlite3.connect(":memory:", isolation_level=None)
            connection.executescript(SCHEMA)
            return cls(connection)
        return cls(memory_copy(path))

    def close(self) -> None:
        self._db.close()

    def seen(self, keys: MessageKeys) -> bool:
        # Two lookups, each by its own index: one query with OR would read the whole table for every message.
        if self._db.execute("SELECT 1 FROM handled WHERE digest = ?", (keys.digest,)).fetchone() is not None:
            return True
        return bool(keys.message) and self._db.execute("SELECT 1 FROM handled WHERE message = ? LIMIT 1", (keys.message,)).fetchone() is not None

    def soft_bounces(self, token: str, since: datetime) -> int:
        """Count the soft bounces recorded for a bounce token since a moment."""
        return int(self._db.execute("SELECT COUNT(*) FROM soft_bounces WHERE token = ? AND at >= ?", (token, _stamp(since))).fetchone()[0])

    def confirmed(self, token: str, now: datetime | None = None) -> bool:
        """Say whether a confirmation went to a confirm token's reader on the day of `now` (UTC), or ever when `now` is None.

        The token stands for the address (it is an HMAC of it): the record holds no address.
        """
        row = self._db.execute("SELECT day FROM confirmations WHERE token = ?", (token,)).fetchone()
        return row is not None and (now is None or row[0] == _stamp(now)[:10])

    def note_confirmation(self, token: str, now: datetime) -> None:
        """Record that a confirmation went to a confirm token's reader today (UTC)."""
        self._db.execute("INSERT OR REPLACE INTO confirmations (token, day) VALUES (?, ?)", (token, _stamp(now)[:10]))

    def record(self, keys: MessageKeys, outcome: str, now: datetime, *, soft_bounce: tuple[str, datetime] | None = None, confirmation: str = "") -> None:
        """Record one message as handled, with what it left behind, in one transaction: all of it or none."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR REPLACE INTO handled (digest, message, at, outcome) VALUES (?, ?, ?, ?)", (keys.digest, keys.message, _stamp(now), outcome))
            if soft_bounce is not None:
                token, at = soft_bounce
                self._db.execute("INSERT OR REPLACE INTO soft_bounces (digest, token, at) VALUES (?, ?, ?)", (keys.digest, token, _stamp(at)))
            if confirmation:
                self.note_confirmation(confirmation, now)


@contextmanager
def inbox_lock(root: Path) -> Iterator[None]:
    """Hold the site's inbox lock, so two passes (an overlapping cron run) never handle one message twice."""
    try:
        handle = hold_lock(root / LOCK_PATH)
    except DamagedState as damaged:
        raise InboxRefused([source_error(root, damaged.path, 0, damaged.reason)]) from None
    except LockBusy:
        raise InboxRefused([SourceError(LOCK_PATH.as_posix(), 0, "another lessonpress inbox pass is running for this site: wait for it to finish, then run again")]) from None
    with handle:
        yield
