"""Front matter splitting with line numbers, source decoding, and date reading."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from lessonpress.content.frontmatter import (
    FrontMatterError,
    decode_source,
    split_front_matter,
)
from lessonpress.content.read import parse_date

LONDON = ZoneInfo("Europe/London")


def test_values_lines_and_body() -> None:
    front = split_front_matter('---\ntitle: "T"\npoll:\n  question: Q\n  options: [a, b]\n---\nBody\nmore\n')
    assert front.values == {"title": "T", "poll": {"question": "Q", "options": ["a", "b"]}}
    assert front.lines == {"title": 2, "poll": 3}
    assert front.nested_lines == {"poll": {"question": 4, "options": 5}}
    assert (front.body, front.body_line) == ("Body\nmore\n", 7)


def test_optional_front_matter_may_be_absent() -> None:
    front = split_front_matter("Just an intro.\n", required=False)
    assert (front.values, front.body) == ({}, "Just an intro.\n")


def test_bom_and_crlf_are_normalised() -> None:
    text = decode_source(b"\xef\xbb\xbf---\r\ntitle: T\r\n---\r\nBody\r\n")
    assert text == "---\ntitle: T\n---\nBody\n"
    assert split_front_matter(text).values == {"title": "T"}


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(UnicodeDecodeError):
        decode_source(b"---\ntitle: Caf\xe9\n---\n")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("Body only\n", 1, "no front matter: start the file with a line '---', the YAML fields, then '---'"),
        ("---\ntitle: T\n", 1, "front matter is not closed: add a line '---' after the YAML fields"),
        ("---\n- a\n- b\n---\n", 2, "front matter must be 'key: value' lines"),
        ('---\ntitle: T\nsummary: "open\n---\n', 3, "malformed YAML in front matter (while scanning a quoted scalar, found unexpected end of stream): check quotes, colons and indentation"),
        ("---\ntitle: T\ndate: 2026-02-30\n---\n", 3, "cannot read 'date': day is out of range for month; use a real date as YYYY-MM-DD"),
    ],
)
def test_errors_carry_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(FrontMatterError) as failure:
        split_front_matter(text)
    assert (failure.value.line, failure.value.message) == (line, message)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 7, 1), datetime(2026, 7, 1, tzinfo=LONDON)),
        (datetime(2026, 7, 1, 7, 30), datetime(2026, 7, 1, 7, 30, tzinfo=LONDON)),
        (datetime(2026, 7, 1, 7, 30, tzinfo=UTC), datetime(2026, 7, 1, 7, 30, tzinfo=UTC)),
        ("2026-07-01", datetime(2026, 7, 1, tzinfo=LONDON)),
        ("2026-07-01T07:30:00", datetime(2026, 7, 1, 7, 30, tzinfo=LONDON)),
        ("2026-07-01T07:30:00+02:00", datetime(2026, 7, 1, 7, 30, tzinfo=timezone(timedelta(hours=2)))),
        ("2026-07-01T07:30:00Z", datetime(2026, 7, 1, 7, 30, tzinfo=UTC)),
    ],
)
def test_dates_naive_means_site_zone(value: object, expected: datetime) -> None:
    parsed = parse_date(value, LONDON)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("value", ["next tuesday", "2026-13-01", "", 20260701, None])
def test_unreadable_dates_are_none(value: object) -> None:
    assert parse_date(value, LONDON) is None


def test_yaml_dates_from_front_matter_are_read_in_site_zone() -> None:
    values = split_front_matter("---\na: 2026-07-01\nb: 2026-07-01T07:30:00\nc: 2026-07-01 07:30:00+02:00\n---\n").values
    assert [parse_date(values[key], LONDON).isoformat() for key in "abc"] == [
        "2026-07-01T00:00:00+01:00", "2026-07-01T07:30:00+01:00", "2026-07-01T07:30:00+02:00",
    ]
