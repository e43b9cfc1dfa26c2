"""Read a subscriber list (CSV) and a suppression file, reporting every bad row by line."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ..content.read import parse_date
from ..errors import SendFailed, SourceError

# A plain dot-atom address: stricter than RFC 5322 on purpose, so nothing odd reaches a header.
ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
SKIPPED_STATUSES = frozenset({"unsubscribed", "bounced"})
COLUMNS = ("email", "name", "subscribed_at", "status")


@dataclass(frozen=True)
class Subscriber:
    """One valid, active row of the list."""

    email: str
    name: str = ""
    subscribed_at: datetime | None = None
    line: int = 0

    @property
    def key(self) -> str:
        """The address as the ledger knows it: mailbox providers treat addresses case-insensitively."""
        return self.email.lower()


@dataclass(frozen=True)
class SubscriberList:
    subscribers: tuple[Subscriber, ...]
    skipped: int  # bad rows, unsubscribed, bounced and suppressed
    warnings: tuple[SourceError, ...]  # one per bad row, `list.csv:LINE: …`


def is_address(value: str) -> bool:
    """Return whether `value` is a plain email address we are willing to send to."""
    return bool(ADDRESS.match(value)) and len(value) <= 254


def _one_line(value: str) -> str:
    """Fold newlines and runs of space: a name is greeted on one line and must never reach a header."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", value).split())


def _read_text(path: Path, shown: str) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise SendFailed([SourceError(shown, 0, "file not found: check the path")]) from None
    except UnicodeDecodeError:
        raise SendFailed([SourceError(shown, 0, "is not valid UTF-8: export the list as UTF-8 CSV")]) from None


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """Return each CSV record with the line it starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    start = 1
    for record in reader:
        rows.append((start, record))
        start = reader.line_num + 1
    return rows


def read_suppressed(path: Path) -> frozenset[str]:
    """Read lowercased addresses from a suppression file: a CSV with an `email` column, or one address a line."""
    shown = str(path)
    rows = [(line, record) for line, record in _rows(_read_text(path, shown)) if record and record[0].strip() and not record[0].startswith("#")]
    column = 0
    if rows:
        header = [cell.strip().lower() for cell in rows[0][1]]
        if "email" in header:
            column = header.index("email")
            rows = rows[1:]
    return frozenset(record[column].strip().lower() for _, record in rows if len(record) > column)


def read_subscribers(path: Path, tz: ZoneInfo, suppressed: frozenset[str] = frozenset()) -> SubscriberList:
    """Read the list; skip (and report) invalid and duplicate rows, and leave out inactive and suppressed ones."""
    shown = str(path)
    rows = _rows(_read_text(path, shown))
    if not rows:
        raise SendFailed([SourceError(shown, 1, "the list is empty: the first line must name the columns, e.g. email,name,subscribed_at")])
    header_line, header = rows[0]
    columns = {cell.strip().lower(): index for index, cell in enumerate(header)}
    if "email" not in columns:
        raise SendFailed([SourceError(shown, header_line, f"no 'email' column: the first line must name the columns ({', '.join(COLUMNS)})")])

    def cell(record: list[str], name: str) -> str:
        index = columns.get(name)
        return record[index].strip() if index is not None and index < len(record) else ""

    subscribers: list[Subscriber] = []
    warnings: list[SourceError] = []
    first_line: dict[str, int] = {}
    skipped = 0
    for line, record in rows[1:]:
        if not any(field.strip() for field in record):
            continue
        address = cell(record, "email")
        problem = ""
        subscribed_at = None
        if not is_address(address):
            problem = f"'{_one_line(address)}' is not a valid email address"
        elif address.lower() in first_line:
            problem = f"duplicate of line {first_line[address.lower()]} ({address})"
        else:
            first_line[address.lower()] = line
            raw_date = cell(record, "subscribed_at")
            if raw_date:
                subscribed_at = parse_date(raw_date, tz)
                if subscribed_at is None:
                    problem = f"subscribed_at '{_one_line(raw_date)}' is not a date like 2026-01-31 or 2026-01-31T09:00"
        if problem:
            warnings.append(SourceError(shown, line, f"{problem}; row skipped"))
            skipped += 1
            continue
        if cell(record, "status").lower() in SKIPPED_STATUSES or address.lower() in suppressed:
            skipped += 1
            continue
        subscribers.append(Subscriber(email=address, name=_one_line(cell(record, "name")), subscribed_at=subscribed_at, line=line))
    return SubscriberList(subscribers=tuple(subscribers), skipped=skipped, warnings=tuple(warnings))
