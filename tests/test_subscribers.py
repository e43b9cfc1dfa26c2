"""Reading a subscriber list: every bad row is reported with its line, never dropped silently."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lessonpress.errors import SendFailed
from lessonpress.send.subscribers import read_subscribers, read_suppressed

LONDON = ZoneInfo("Europe/London")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_rows_are_reported_by_line_and_good_ones_kept(tmp_path: Path) -> None:
    listed = write(tmp_path / "list.csv", (
        "Email,Name,Subscribed_At,Status\n"
        "ana@example.org,Ana,2026-03-02,\n"
        '"bob@example.org","Bob\nBrown",2026-03-02T08:30,active\n'  # a quoted name over two lines
        "not an address,X,,\n"
        "\n"
        "Ana@Example.org,Ana twice,,\n"
        "cy@example.org,Cy,last tuesday,\n"
        "dee@example.org,Dee,,unsubscribed\n"
        "eve@example.org,Eve,,BOUNCED\n"
        "fay@example.org,Fay,,\n"
        "gus@example.org\n"
    ))
    result = read_subscribers(listed, LONDON, suppressed=frozenset({"fay@example.org"}))
    assert [(item.email, item.name, item.line) for item in result.subscribers] == [
        ("ana@example.org", "Ana", 2), ("bob@example.org", "Bob Brown", 3), ("gus@example.org", "", 12),
    ]
    assert result.subscribers[1].subscribed_at == datetime(2026, 3, 2, 8, 30, tzinfo=LONDON)
    assert [str(warning) for warning in result.warnings] == [
        f"{listed}:5: 'not an address' is not a valid email address; row skipped",
        f"{listed}:7: duplicate of line 2 (Ana@Example.org); row skipped",
        f"{listed}:8: subscribed_at 'last tuesday' is not a date like 2026-01-31 or 2026-01-31T09:00; row skipped",
    ]
    assert result.skipped == 6


@pytest.mark.parametrize(("text", "message"), [
    ("name,subscribed_at\nAna,2026-01-01\n", ":1: no 'email' column"),
    ("", ":1: the list is empty"),
])
def test_a_list_without_an_email_column_stops_the_send(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SendFailed, match=message):
        read_subscribers(write(tmp_path / "list.csv", text), LONDON)


def test_a_missing_list_says_so(tmp_path: Path) -> None:
    with pytest.raises(SendFailed, match=r"missing\.csv: file not found"):
        read_subscribers(tmp_path / "missing.csv", LONDON)


def test_suppression_files_are_csv_or_one_address_a_line(tmp_path: Path) -> None:
    plain = write(tmp_path / "plain.txt", "# complaints\nA@example.org\n\nb@example.org\n")
    table = write(tmp_path / "table.csv", "reason,email\ncomplaint,C@example.org\n")
    assert read_suppressed(plain) == frozenset({"a@example.org", "b@example.org"})
    assert read_suppressed(table) == frozenset({"c@example.org"})
