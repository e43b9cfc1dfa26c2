"""Who a send goes to: the site's list (or a `--list` CSV), and the list asked again just before each message goes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ..errors import SendFailed, SourceError
from .roster import Roster
from .roster_file import LIST_PATH
from .subscribers import Subscriber, SubscriberList, read_subscribers

NO_LIST = (
    "there is no subscriber list yet: add readers with 'lessonpress list add ADDRESS' or "
    "'lessonpress list import FILE.csv', or send to a CSV file with --list subscribers.csv"
)


def has_list(root: Path) -> bool:
    """Say whether the site keeps a list (a link to nothing counts: opening it says what is wrong)."""
    path = root / LIST_PATH
    return path.exists() or path.is_symlink()


def _joined(since: str) -> datetime | None:
    """Read the list's time a reader joined; one without an offset is UTC, as the list writes them; None if unreadable."""
    try:
        joined = datetime.fromisoformat(since)
    except ValueError:
        return None  # a course then skips the reader with a warning, as it does a CSV row without subscribed_at
    return joined if joined.tzinfo else joined.replace(tzinfo=UTC)


def from_roster(roster: Roster, suppressed: frozenset[str]) -> SubscriberList:
    """The list's active readers as a send reads them; the day they joined is a course's day one."""
    active = roster.active()
    kept = [reader for reader in active if reader.address.lower() not in suppressed]
    subscribers = tuple(Subscriber(reader.address, reader.name, _joined(reader.since)) for reader in kept)
    return SubscriberList(subscribers=subscribers, skipped=len(active) - len(kept), warnings=())


def read_audience(root: Path, list_path: Path | None, tz: ZoneInfo, suppressed: frozenset[str], roster: Roster | None) -> SubscriberList:
    """Read who this run sends to: the `--list` CSV when given, else the site's list (which must exist)."""
    if list_path is not None:
        return read_subscribers(list_path, tz, suppressed)
    if roster is None:
        raise SendFailed([SourceError(LIST_PATH.as_posix(), 0, NO_LIST)])
    return from_roster(roster, suppressed)


class ListCheck:
    """Asks the list, just before a message goes, whether its reader may still have it.

    The list may change during a send (an inbox pass in another process unsubscribes a reader): each
    message reads its reader's row afresh, an indexed read. A reader stopped once stays stopped for the
    rest of the run. Sending to a CSV, an address the list does not hold is the CSV's to decide; sending
    to the list, it has left the list.
    """

    def __init__(self, roster: Roster | None, *, from_list: bool) -> None:
        self._roster = roster
        self._from_list = from_list
        self._stopped: dict[str, str] = {}
        self._lock = threading.Lock()

    def refusal(self, address: str) -> str:
        """Return why `address` must not be sent this message now, or "" when it may."""
        key = address.lower()
        with self._lock:
            if key in self._stopped:
                return self._stopped[key]
        reason = self._ask(address)
        if reason:
            with self._lock:
                self._stopped.setdefault(key, reason)
        return reason

    def _ask(self, address: str) -> str:
        if self._roster is None:
            return ""
        reader = self._roster.find(address)
        if reader is not None:
            return "" if reader.status == "active" else f"not sent: the list says {reader.status} (since {reader.changed})"
        if self._roster.is_forgotten(address):
            return "not sent: the reader was forgotten ('lessonpress list forget')"
        return "not sent: the reader is no longer on the list" if self._from_list else ""
