"""The send ledger: one SQLite row per (lesson, recipient) that survives crashes and re-runs."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import SendFailed, SourceError, source_error
from ..site.model import Issue
from ..store import DamagedState, LockBusy, Shape, folder_problem, hold_lock, open_in_memory, open_state

LEDGER_PATH = Path(".lessonpress") / "sends.sqlite"
LOCK_PATH = Path(".lessonpress") / "send.lock"
# `skipped`: the list said, just before the message would have gone, that the reader is no longer to be sent to.
STATES = ("queued", "sending", "sent", "failed", "uncertain", "skipped")
# PRAGMA user_version of a ledger whose `sends` table allows every state above; earlier ledgers are 0 and are rebuilt on opening.
FORMAT = 1
INTERRUPTED = "the sender stopped during the SMTP transaction: the relay may or may not have accepted it"

_TABLE = """
CREATE TABLE {name} (
    lesson TEXT NOT NULL,
    email TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ({states})),
    attempts INTEGER NOT NULL DEFAULT 0,
    reply TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL,
    PRIMARY KEY (lesson, email)
) WITHOUT ROWID
""".replace("{states}", ", ".join(f"'{state}'" for state in STATES))
_SCHEMA = _TABLE.format(name="sends") + f"; PRAGMA user_version = {FORMAT}"
# SQLite cannot change a CHECK in place: the table is copied whole into one that allows every state, in one transaction,
# so a crash leaves either the old table or the new one, with every row.
_MIGRATION = f"""
BEGIN IMMEDIATE;
{_TABLE.format(name="sends_new")};
INSERT INTO sends_new (lesson, email, state, attempts, reply, updated) SELECT lesson, email, state, attempts, reply, updated FROM sends;
DROP TABLE sends;
ALTER TABLE sends_new RENAME TO sends;
PRAGMA user_version = {FORMAT};
COMMIT;
"""
FORGOTTEN = "forgotten:"  # a forgotten reader's rows are keyed by this and the list's digest of their address
# No format stamp: ledgers made before the check have only this table, and must still open.
SHAPE = Shape("lessonpress send ledger", (("sends", ("lesson", "email", "state", "attempts", "reply", "updated")),))
# `.dump` rather than `.recover`: sqlite3 3.40's `.recover` fails on WITHOUT ROWID tables; `.dump` ends a damaged file with ROLLBACK.
RECOVERY = (
    "nothing was sent and the file was left as it is. Restore it from a backup; or keep the rows SQLite can still read with"
    " sqlite3 .lessonpress/sends.sqlite .dump | sed 's/^ROLLBACK; -- due to errors$/COMMIT;/' | sqlite3 recovered.sqlite"
    " and put recovered.sqlite in its place (readers whose rows were lost may get a second copy);"
    " moving it aside without a replacement means every reader on the list may get a second copy"
)

STANDS_IN_THE_WAY = "nothing was sent: if the ledger lives elsewhere (a link to a disk), make it reachable; otherwise move this away and run again"


@dataclass(frozen=True)
class LedgerRow:
    lesson: str  # the lesson's site path without the trailing slash, e.g. `retention/why-customers-leave`
    email: str  # lowercased
    state: str
    attempts: int
    reply: str
    updated: str


def lesson_id(issue: Issue) -> str:
    """The ledger's name for a lesson: its site path without the slash, e.g. `retention/why-customers-leave`."""
    return issue.path.rstrip("/")


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Ledger:
    """Thread-safe access to `.lessonpress/sends.sqlite`; every change is committed before it returns."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._lock = threading.Lock()

    @classmethod
    def open(cls, root: Path, *, read_only: bool = False) -> Ledger:
        """Open (creating) the site's ledger; read-only opens an empty in-memory one if there is none yet.

        A ledger that fails its check stops the command (`SendFailed`) before anything reads or writes it:
        sending without knowing who was already sent would give readers a second copy.
        """
        path = root / LEDGER_PATH
        # A link to an unmounted disk, say: "no ledger yet" would be a lie.
        folder = folder_problem(path.parent)
        if folder:
            raise SendFailed([source_error(root, folder.path, 0, f"{folder.reason}: {STANDS_IN_THE_WAY}")])
        if read_only and not os.path.lexists(path):
            return cls(open_in_memory(SHAPE, _SCHEMA, check_same_thread=False))
        try:
            connection = open_state(path, SHAPE, _SCHEMA, check_same_thread=False)
        except DamagedState as damaged:
            raise SendFailed([source_error(root, damaged.path, 0, f"{damaged.reason}: {RECOVERY}")]) from None
        if not read_only:
            _migrate(connection)
        return cls(connection)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def forget(self, address: str, digest: str) -> int:
        """Put `digest` where the ledger held `address`, and erase its bytes from the file; return how many rows named it.

        The rows stay (under the digest), so counts stay true and a resumed run of the same lesson is not confused.
        """
        key = address.strip().lower()
        with self._lock:
            self._db.execute("PRAGMA secure_delete=ON")
            with self._db:
                changed = self._db.execute(
                    # A relay's reply may quote the address back ("550 <ann@…>: no such user").
                    "UPDATE sends SET email = ?, reply = CASE WHEN instr(lower(reply), ?) > 0 THEN '(forgotten)' ELSE reply END WHERE email = ?",
                    (FORGOTTEN + digest, key, key),
                ).rowcount
            # Freed cells were zeroed; fold the log into the file so no old page keeps the address.
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return changed

    def recover(self) -> int:
        """Turn rows a dead run left in `sending` into `uncertain`; return how many."""
        with self._lock, self._db:
            cursor = self._db.execute(
                "UPDATE sends SET state = 'uncertain', reply = ?, updated = ? WHERE state = 'sending'", (INTERRUPTED, _stamp())
            )
            return cursor.rowcount

    def enqueue(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Add `queued` rows for (lesson, email) pairs the ledger does not know yet."""
        stamp = _stamp()
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO sends (lesson, email, state, updated) VALUES (?, ?, 'queued', ?)",
                ((lesson, email, stamp) for lesson, email in pairs),
            )

    def requeue_uncertain(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Put `uncertain` rows back in the queue: the publisher accepts a possible second copy."""
        stamp = _stamp()
        with self._lock, self._db:
            self._db.executemany(
                "UPDATE sends SET state = 'queued', updated = ? WHERE lesson = ? AND email = ? AND state = 'uncertain'",
                ((stamp, lesson, email) for lesson, email in pairs),
            )

    def mark(self, lesson: str, email: str, state: str, reply: str = "", *, attempt: bool = False) -> None:
        """Record a new state (and the relay's reply); `attempt` counts one more try."""
        with self._lock, self._db:
            self._db.execute(
                "UPDATE sends SET state = ?, reply = ?, attempts = attempts + ?, updated = ? WHERE lesson = ? AND email = ?",
                (state, reply, int(attempt), _stamp(), lesson, email),
            )

    def rows(self, lessons: Iterable[str] | None = None) -> list[LedgerRow]:
        """Return the rows of some lessons (all when None), sorted by lesson and address."""
        query = "SELECT lesson, email, state, attempts, reply, updated FROM sends"
        wanted = sorted(set(lessons)) if lessons is not None else None
        with self._lock:
            if wanted is None:
                found = self._db.execute(query + " ORDER BY lesson, email").fetchall()
            else:
                found = [
                    row
                    for lesson in wanted
                    for row in self._db.execute(query + " WHERE lesson = ? ORDER BY email", (lesson,)).fetchall()
                ]
        return [LedgerRow(*row) for row in found]

    def counts(self) -> dict[str, dict[str, int]]:
        """Return {lesson: {state: count}} for every lesson in the ledger."""
        with self._lock:
            found = self._db.execute("SELECT lesson, state, COUNT(*) FROM sends GROUP BY lesson, state ORDER BY lesson").fetchall()
        result: dict[str, dict[str, int]] = {}
        for lesson, state, count in found:
            result.setdefault(lesson, dict.fromkeys(STATES, 0))[state] = count
        return result


def _migrate(connection: sqlite3.Connection) -> None:
    """Rebuild a ledger of an earlier format so its `sends` table allows `skipped`, keeping every row."""
    if connection.execute("PRAGMA user_version").fetchone()[0] >= FORMAT:
        return
    try:
        connection.executescript(_MIGRATION)
    except sqlite3.Error as error:
        if connection.in_transaction:
            connection.rollback()
        raise SendFailed([SourceError(LEDGER_PATH.as_posix(), 0, f"could not be brought up to this version's format ('{error}'): nothing was sent and the file was left as it is")]) from None


@contextmanager
def send_lock(root: Path) -> Iterator[None]:
    """Hold the site's send lock, so an overlapping cron run cannot send the same rows twice."""
    try:
        handle = hold_lock(root / LOCK_PATH)
    except DamagedState as damaged:
        raise SendFailed([source_error(root, damaged.path, 0, f"{damaged.reason}: {STANDS_IN_THE_WAY}")]) from None
    except LockBusy:
        raise SendFailed([SourceError(LOCK_PATH.as_posix(), 0, "another lessonpress send is running for this site: wait for it to finish, then run again")]) from None
    with handle:
        yield
