"""Read a subscriber list (CSV) and a suppression file, reporting every bad row by line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ..addresses import is_address
from ..content.read import parse_date
from ..errors import SendFailed, SourceError
from ..sitefiles import read_file, read_problem

# Only these are sent: a `pending` reader has not confirmed, and any other word may mean "stop" in some service's export.
SENT_STATUSES = frozenset({"", "active", "subscribed"})
KNOWN_STATUSES = SENT_STATUSES | {"pending", "unsubscribed", "bounced", "complained"}
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


def _one_line(value: str) -> str:
    """Fold newlines and runs of space: a name is greeted on one line and must never reach a header."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", value).split())


def _read_text(path: Path, shown: str) -> str:
    try:
        return read_file(path).decode("utf-8-sig")  # a FIFO or /dev/zero would wait or read forever
    except FileNotFoundError:
        raise SendFailed([SourceError(shown, 0, "file not found: check the path")]) from None
    except OSError as error:
        raise SendFailed([SourceError(shown, 0, read_problem(error, ": check the path"))]) from None
    except UnicodeDecodeError:
        raise SendFailed([SourceError(shown, 0, "is not valid UTF-8: export the list as UTF-8 CSV")]) from None


LINE_END = re.compile(r"\r\n|\r|\n")  # Excel for Mac still writes CR alone
# Longer than any name, address or date: a bigger cell is a damaged export, not a reader.
MAX_CELL = 4096


@dataclass(frozen=True)
class _Table:
    """The records of a CSV file with the line each starts on, and the quotes that make the file untrustworthy."""

    rows: tuple[tuple[int, tuple[str, ...]], ...]
    broken: tuple[tuple[int, str], ...]  # (line, message)


class _BrokenQuote(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _holds_an_address_cell(line: str) -> bool:
    """Whether a line has a cell that is an address alone: the mark of a reader's row swallowed by a quote left open above it.

    An address inside other text ("Bcc: victim@example.net") does not count: a quoted name may hold that.
    """
    return any(is_address(cell.strip().strip('"')) for cell in line.split(","))


def _quoted(lines: list[str], index: int, start: int) -> tuple[str, int, int]:
    """Read the quoted cell opening at lines[index][start]; return its text and the line and position after it."""
    parts: list[str] = []
    line, position = index, start + 1
    while True:
        text = lines[line]
        close = text.find('"', position)
        if close == -1:
            parts.append(text[position:] + "\n")
            line, position = line + 1, 0
            if line == len(lines):
                raise _BrokenQuote("a quoted cell opened on this line never closes: close the quote or remove it")
            if _holds_an_address_cell(lines[line]):
                raise _BrokenQuote(
                    f"a quoted cell opened on this line runs on into line {line + 1}, which holds an address of its own:"
                    " close the quote on this line or remove it"
                )
            continue
        parts.append(text[position:close])
        if text.startswith('"', close + 1):  # "" is one quote inside a quoted cell
            parts.append('"')
            position = close + 2
            continue
        if close + 1 < len(text) and text[close + 1] != ",":
            raise _BrokenQuote("text follows the closing quote of a quoted cell: quote the whole cell and double any quote inside it (\"\")")
        return "".join(parts), line, close + 1


def _record(lines: list[str], index: int) -> tuple[tuple[str, ...], int]:
    """Read the record starting on lines[index]; return its cells and the index of the line after it."""
    cells: list[str] = []
    line, position = index, 0
    while True:
        text = lines[line]
        if text.startswith('"', position):
            cell, line, position = _quoted(lines, line, position)
            text = lines[line]
        else:
            end = text.find(",", position)
            end = len(text) if end == -1 else end
            cell, position = text[position:end], end
        cells.append(cell)
        if position >= len(text):
            return tuple(cells), line + 1
        position += 1  # past the comma


def _table(text: str) -> _Table:
    """Split CSV text into records (RFC 4180 quoting, any line end); a broken quote is reported at the line it opens on and reading goes on after it."""
    lines = LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    rows: list[tuple[int, tuple[str, ...]]] = []
    broken: list[tuple[int, str]] = []
    index = 0
    while index < len(lines):
        try:
            cells, after = _record(lines, index)
        except _BrokenQuote as problem:
            broken.append((index + 1, problem.message))
            index += 1
            continue
        rows.append((index + 1, cells))
        index = after
    return _Table(tuple(rows), tuple(broken))


def _checked_table(path: Path, shown: str) -> _Table:
    """Read the file's records; stop on a broken quote, since the rows around it cannot be trusted."""
    table = _table(_read_text(path, shown))
    if table.broken:
        raise SendFailed([SourceError(shown, line, message) for line, message in table.broken])
    return table


def _cell_problem(record: tuple[str, ...], width: int) -> str:
    """Return what makes a record unreadable as a row of `width` columns, or ''."""
    for number, value in enumerate(record, start=1):
        if len(value) > MAX_CELL:
            return f"cell {number} is {len(value)} characters long, over the limit of {MAX_CELL}"
        if "\0" in value:
            return f"cell {number} holds a NUL byte: the file may be damaged or not text; export the list again as UTF-8 CSV"
    extra = [value for value in record[width:] if value.strip()]
    if extra:
        return f"has {width + len(extra)} cells but the header names {width}: a comma inside a name needs quotes, e.g. \"Smith, Ana\""
    return ""


def _address_problem(address: str, first_line: dict[str, int]) -> str:
    if not is_address(address):
        return f"'{_one_line(address)}' is not a valid email address"
    if address.lower() in first_line:
        return f"duplicate of line {first_line[address.lower()]} ({address})"
    return ""


def read_suppressed(path: Path) -> frozenset[str]:
    """Read lowercased addresses from a suppression file: a CSV with an `email` column, or one address a line."""
    shown = str(path)
    rows = [(line, record) for line, record in _checked_table(path, shown).rows if record[0].strip() and not record[0].startswith("#")]
    column = 0
    if rows:
        header = [cell.strip().lower() for cell in rows[0][1]]
        if "email" in header:
            column = header.index("email")
            rows = rows[1:]
    # A suppression row that cannot be read may be a reader who must not be mailed: stop rather than guess.
    problems = [SourceError(shown, line, f"{problem}; fix it, since an unreadable row may be someone who must not be mailed") for line, record in rows if (problem := _cell_problem(record, len(record)))]
    if problems:
        raise SendFailed(problems)
    return frozenset(record[column].strip().lower() for _, record in rows if len(record) > column)


def read_subscribers(path: Path, tz: ZoneInfo, suppressed: frozenset[str] = frozenset()) -> SubscriberList:
    """Read the list; skip (and report) invalid and duplicate rows, and leave out inactive and suppressed ones."""
    shown = str(path)
    rows = _checked_table(path, shown).rows
    if not rows:
        raise SendFailed([SourceError(shown, 1, "the list is empty: the first line must name the columns, e.g. email,name,subscribed_at")])
    header_line, header = rows[0]
    columns = {cell.strip().lower(): index for index, cell in enumerate(header)}
    if "email" not in columns:
        raise SendFailed([SourceError(shown, header_line, f"no 'email' column: the first line must name the columns ({', '.join(COLUMNS)})")])

    def cell(record: tuple[str, ...], name: str) -> str:
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
        # The cells first: an address is not quoted back from a row too long or holding NUL.
        problem = _cell_problem(record, len(header)) or _address_problem(address, first_line)
        subscribed_at = None
        if not problem:
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
        status = cell(record, "status").lower()
        if status not in KNOWN_STATUSES:
            warnings.append(SourceError(shown, line, f"status '{_one_line(status)}' is not one of {', '.join(sorted(KNOWN_STATUSES - {''}))}; row skipped"))
        if status not in SENT_STATUSES or address.lower() in suppressed:
            skipped += 1
            continue
        subscribers.append(Subscriber(email=address, name=_one_line(cell(record, "name")), subscribed_at=subscribed_at, line=line))
    return SubscriberList(subscribers=tuple(subscribers), skipped=skipped, warnings=tuple(warnings))
