"""Read subscriber exports (lessonpress's own CSV, Mailchimp, Substack, Buttondown, listmonk) and write the list as CSV.

Every row of an import file is checked before anything is changed; each bad row becomes one
`file:line: message`. The column names are those the services write in their exports, as far
as their documentation and migration tools show them (see the README: "The subscriber list").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TextIO

from ..addresses import is_address
from ..errors import SourceError
from ..untrusted import one_line, shorten
from .roster import STATUSES, ImportRow, Reader

FORMATS = ("lessonpress", "mailchimp", "substack", "buttondown", "listmonk")
EXPORT_COLUMNS = ("email", "name", "subscribed_at", "status", "tags")
_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n"})

# Buttondown's subscriber types (its API's SubscriberType): who may be mailed, who not.
_BUTTONDOWN = {
    **dict.fromkeys(("regular", "premium", "trialed", "unpaid", "gifted", "churning", "paused", "past_due"), "active"),
    "unactivated": "pending",
    "unsubscribed": "unsubscribed",
    "removed": "unsubscribed",
    "spammy": "unsubscribed",
    "undeliverable": "bounced",
    "complained": "complained",
}
_LISTMONK = {"enabled": "active", "disabled": "unsubscribed", "blocklisted": "unsubscribed"}
_LESSONPRESS = {"": "active", "subscribed": "active", **{status: status for status in STATUSES}}


@dataclass(frozen=True)
class ImportFile:
    """An import file read and checked: its format, its good rows and one error per bad row."""

    format: str
    rows: tuple[ImportRow, ...]
    errors: tuple[SourceError, ...]


Cells = Mapping[str, str]  # lowercased column name → the row's cell, stripped
StatusOf = Callable[[Cells, str], "tuple[str, str]"]  # (cells, file name) → (status, problem)


@dataclass(frozen=True)
class _Spec:
    email: tuple[str, ...]
    name: tuple[str, ...]  # joined with a space: Mailchimp's first and last name
    created: tuple[str, ...]  # the first one that is filled in
    tags: str
    status: StatusOf


def _flag(cells: Cells, column: str) -> bool | None:
    value = cells.get(column, "").lower()
    return True if value in _TRUE else False if value in _FALSE else None


def _mapped(table: Mapping[str, str], columns: tuple[str, ...], what: str) -> StatusOf:
    def status(cells: Cells, _: str) -> tuple[str, str]:
        raw = next((cells[column] for column in columns if column in cells), "")
        if raw.lower() in table:
            return table[raw.lower()], ""
        return "", f"{what} '{shorten(one_line(raw), 40)}' is not one of {', '.join(sorted(name for name in table if name))}"
    return status


def _mailchimp_status(cells: Cells, file_name: str) -> tuple[str, str]:
    # Mailchimp exports one file per status; the unsubscribed and cleaned ones carry their own columns.
    if "unsub_time" in cells or "unsubscribed" in file_name:
        return "unsubscribed", ""
    if "clean_time" in cells or "cleaned" in file_name:
        return "bounced", ""
    return "active", ""


def _substack_status(cells: Cells, _: str) -> tuple[str, str]:
    if _flag(cells, "email_disabled") or _flag(cells, "active_subscription") is False:
        return "unsubscribed", ""
    return "active", ""


SPECS: dict[str, _Spec] = {
    "lessonpress": _Spec(("email",), ("name",), ("subscribed_at",), "tags", _mapped(_LESSONPRESS, ("status",), "status")),
    "mailchimp": _Spec(("email address",), ("first name", "last name"), ("confirm_time", "optin_time"), "tags", _mailchimp_status),
    "substack": _Spec(("email",), ("name",), ("created_at",), "", _substack_status),
    "buttondown": _Spec(("email", "email_address"), ("name",), ("creation_date", "created_date"), "tags", _mapped(_BUTTONDOWN, ("subscriber_type", "type"), "subscriber type")),
    "listmonk": _Spec(("email",), ("name",), ("created_at",), "", _mapped(_LISTMONK, ("status",), "status")),
}


def detect(columns: Iterable[str]) -> str | None:
    """Return the format whose export has these (lowercased) columns, or None."""
    header = set(columns)
    if {"uuid", "email", "attributes"} <= header:
        return "listmonk"
    if "email address" in header:
        return "mailchimp"
    if header & {"active_subscription", "email_disabled"}:
        return "substack"
    if header & {"subscriber_type", "creation_date"}:
        return "buttondown"
    return "lessonpress" if "email" in header else None


def _records(text: str, shown: str) -> tuple[list[tuple[int, list[str]]], list[SourceError]]:
    """Return each CSV record with the line it starts on; a record the csv module refuses is an error at its line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return records, []
        except csv.Error as error:
            return records, [SourceError(shown, start, f"cannot be read as CSV ({error}): fix this line and import again")]
        records.append((start, record))
        start = reader.line_num + 1


def _tags(raw: str) -> tuple[str, ...]:
    # Mailchimp writes `"one","two"`, Buttondown a list: keep the words, drop the quotes and brackets.
    return tuple(tag for tag in (part.strip(" \"'[]") for part in raw.split(",")) if tag)


def _created(raw: str, tz: tzinfo) -> str | None:
    """Return a date or date and time as ISO 8601 UTC; a naive value is in `tz`; None if it is not one."""
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    parsed = parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed
    return parsed.astimezone(UTC).isoformat(timespec="seconds")


def read_import(text: str, shown: str, format_name: str = "auto", tz: tzinfo = UTC) -> ImportFile:
    """Read an import file's text; `shown` is its name in messages, `format_name` one of FORMATS or `auto`."""
    records, errors = _records(text.removeprefix("\ufeff"), shown)
    records = [(line, record) for line, record in records if any(cell.strip() for cell in record)]
    if not records:
        return ImportFile(format_name, (), (*errors, SourceError(shown, 1, "has no rows: the first line must name the columns, e.g. email,name")))
    header_line, header = records[0]
    columns = [cell.strip().lower() for cell in header]
    found = detect(columns) if format_name == "auto" else format_name
    if found is None:
        return ImportFile(format_name, (), (SourceError(shown, header_line, "cannot tell which service wrote this file: no 'email' or 'Email Address' column; pass --format"),))
    spec = SPECS[found]
    if not any(column in columns for column in spec.email):
        return ImportFile(found, (), (SourceError(shown, header_line, f"no {' or '.join(repr(name) for name in spec.email)} column, as a {found} export has"),))
    file_name = Path(shown).name.lower()
    rows: list[ImportRow] = []
    first_line: dict[str, int] = {}
    for line, record in records[1:]:
        cells = {column: record[index].strip() for index, column in enumerate(columns) if index < len(record)}
        address = next((cells[column] for column in spec.email if cells.get(column)), "")
        status, problem = spec.status(cells, file_name)
        raw_date = next((cells[column] for column in spec.created if cells.get(column)), "")
        created = _created(raw_date, tz) if raw_date else ""
        if not is_address(address):
            problem = f"'{shorten(one_line(address), 80)}' is not a valid email address"
        elif address.lower() in first_line:
            problem = f"{address} is already on line {first_line[address.lower()]}"
        elif not problem and created is None:
            problem = f"'{shorten(one_line(raw_date), 40)}' is not a date like 2026-01-31 or 2026-01-31T09:00"
        first_line.setdefault(address.lower(), line)
        if problem:
            errors.append(SourceError(shown, line, problem))
            continue
        name = " ".join(cells.get(column, "") for column in spec.name)
        if name.startswith("'") and _FORMULA.match(name[1:]):
            name = name[1:]  # written so by `list export`, to keep spreadsheets from running it
        tags = _tags(cells.get(spec.tags, "")) if spec.tags else ()
        rows.append(ImportRow(f"{shown}:{line}", address, name, status, tags, created or ""))
    return ImportFile(found, tuple(rows), tuple(errors))


_FORMULA = re.compile(r"^[=+\-@\t\r]")


def _cell(value: str) -> str:
    # A reader's name starting with `=` would run as a formula in a spreadsheet: quote it as text.
    return "'" + value if _FORMULA.match(value) else value


def write_export(readers: Iterable[Reader], handle: TextIO) -> int:
    """Write readers in the CSV format `send --list` reads (plus tags); return how many."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for reader in readers:
        writer.writerow([reader.address, _cell(reader.name), reader.created, reader.status, _cell(", ".join(reader.tags))])
        count += 1
    return count
