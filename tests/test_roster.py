"""The subscriber list lessonpress keeps: statuses with their history, imports that never bring a reader back, forget, damaged files."""

from __future__ import annotations

import io
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lessonpress.send.roster import LIST_PATH, ImportRow, ListRefused, Roster
from lessonpress.send.roster_csv import read_import, write_export

LISTS = Path(__file__).parent / "data" / "lists"


@pytest.fixture
def roster(tmp_path: Path) -> Iterator[Roster]:
    opened = Roster.open(tmp_path)
    yield opened
    opened.close()


def test_statuses_and_history_survive_reopening(tmp_path: Path) -> None:
    roster = Roster.open(tmp_path)
    roster.add("Ann@Example.org", name="Ann", tags=["vip"], source="lessonpress list add")
    roster.add("bob@example.org", status="pending", how="form", source="https://example.org/join")
    roster.set_status("ann@example.org", "bounced", how="mail", source="<dsn-1@mx.example.net>")
    roster.remove("bob@example.org", source="lessonpress list remove")
    roster.close()

    reopened = Roster.open(tmp_path)
    assert reopened.counts() == {"pending": 0, "active": 0, "unsubscribed": 1, "bounced": 1, "complained": 0}
    record = reopened.show("ANN@example.org")
    assert record is not None
    assert (record.reader.address, record.reader.name, record.reader.status, record.reader.tags) == ("Ann@Example.org", "Ann", "bounced", ("vip",))
    assert [(change.status, change.how, change.source) for change in record.history] == [
        ("active", "command", "lessonpress list add"),
        ("bounced", "mail", "<dsn-1@mx.example.net>"),
    ]
    reopened.close()


def test_active_readers_are_the_send_list(roster: Roster) -> None:
    roster.add("b@example.org", name="Bea")
    roster.add("a@example.org")
    roster.add("c@example.org", status="pending")
    roster.add("d@example.org")
    roster.remove("d@example.org")
    assert [(recipient.address, recipient.name) for recipient in roster.active()] == [("a@example.org", ""), ("b@example.org", "Bea")]


def test_a_reader_is_added_once_whatever_the_case_and_confirming_again_keeps_them_active(roster: Roster) -> None:
    roster.add("ann@example.org")
    reader, previous = roster.add("ANN@example.org", status="pending")
    assert (reader.status, previous) == ("active", "active")
    assert sum(roster.counts().values()) == 1


def test_hostile_names_and_bad_addresses(roster: Roster) -> None:
    reader, _ = roster.add("eve@example.org", name="\x1b[31mEve\r\nBcc: all@example.org\u202e", source="x\ny")
    assert reader.name == "[31mEve Bcc: all@example.org"
    with pytest.raises(ListRefused, match="'not an address' is not a valid email address"):
        roster.add("not an address")
    with pytest.raises(ListRefused, match="is not a valid email address"):
        roster.add("a@b.c\r\nBcc: x@example.org")


def test_mail_and_forms_never_bring_back_a_stopped_reader(roster: Roster) -> None:
    roster.add("ann@example.org")
    roster.set_status("ann@example.org", "complained", how="mail", source="<arf@example.net>")
    with pytest.raises(ListRefused, match="only 'lessonpress list add' brings them back"):
        roster.add("ann@example.org", status="pending", how="mail", source="<subscribe@example.net>")
    reader, previous = roster.add("ann@example.org", source="lessonpress list add")
    assert (previous, reader.status) == ("complained", "active")


def test_an_unknown_address_is_not_added_by_a_status_change(roster: Roster) -> None:
    assert roster.set_status("ghost@example.org", "bounced", how="mail", source="<dsn@example.net>") is None
    assert roster.remove("ghost@example.org") is None
    assert sum(roster.counts().values()) == 0


def test_import_never_reactivates_but_honours_an_unsubscribe_elsewhere(roster: Roster) -> None:
    roster.add("gone@example.org")
    roster.remove("gone@example.org")
    roster.add("here@example.org")
    roster.add("waiting@example.org", status="pending")
    merged = roster.merge([
        ImportRow("old.csv:2", "gone@example.org", status="active"),
        ImportRow("old.csv:3", "here@example.org", status="unsubscribed"),
        ImportRow("old.csv:4", "waiting@example.org", status="active"),
        ImportRow("old.csv:5", "new@example.org", status="pending", name="New", tags=("a",)),
    ])
    assert (merged.added, merged.changed, merged.unchanged) == (1, 2, 1)
    assert [str(note) for note in merged.notes] == [
        "old.csv:2: gone@example.org stays unsubscribed: an import never reactivates a reader ('lessonpress list add' does)"
    ]
    statuses = {reader.address: reader.status for reader in roster.readers()}
    assert statuses == {"gone@example.org": "unsubscribed", "here@example.org": "unsubscribed", "waiting@example.org": "active", "new@example.org": "pending"}
    record = roster.show("here@example.org")
    assert record is not None and (record.history[-1].how, record.history[-1].source) == ("import", "old.csv:3")


def test_forget_erases_the_address_from_the_file_and_blocks_imports_and_mail(tmp_path: Path) -> None:
    roster = Roster.open(tmp_path)
    roster.add("Secret.Reader@example.org", name="Sigrid Secretsdottir", tags=["private-tag"], source="lessonpress list add")
    roster.set_status("secret.reader@example.org", "bounced", how="mail", source="<bounce-for-secret.reader@example.org>")
    roster.add("other@example.org", source="forwarded by secret.reader@example.org")
    assert roster.forget("secret.reader@example.org").known
    roster.close()

    for path in (tmp_path / ".lessonpress").iterdir():
        data = path.read_bytes().lower()
        for trace in (b"secret.reader@example.org", b"secretsdottir", b"private-tag"):
            assert trace not in data, f"{path.name} still holds {trace!r}"

    roster = Roster.open(tmp_path)
    assert roster.show("secret.reader@example.org") is None and roster.is_forgotten("SECRET.reader@example.org")
    assert [change.source for change in roster.show("other@example.org").history] == ["(forgotten)"]  # type: ignore[union-attr]
    merged = roster.merge([ImportRow("old.csv:7", "secret.reader@example.org")])
    assert merged.added == 0 and "was forgotten" in str(merged.notes[0])
    with pytest.raises(ListRefused, match="was forgotten"):
        roster.add("secret.reader@example.org", status="pending", how="mail", source="<subscribe@example.net>")
    reader, previous = roster.add("secret.reader@example.org", source="lessonpress list add")
    assert (reader.status, previous) == ("active", "") and not roster.is_forgotten("secret.reader@example.org")
    roster.close()


def test_read_only_opening_of_a_missing_list_creates_nothing(tmp_path: Path) -> None:
    roster = Roster.open(tmp_path, read_only=True)
    assert sum(roster.counts().values()) == 0 and roster.active() == []
    roster.close()
    assert not (tmp_path / ".lessonpress").exists()


def _foreign_database(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE contacts (email TEXT)")
    connection.commit()
    connection.close()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda path: path.write_bytes(b"email,name\nann@example.org,Ann\n"), "is not an SQLite database"),
        (lambda path: path.write_bytes(b""), "is empty (0 bytes)"),
        (_foreign_database, "is not a lessonpress subscriber list"),
        (lambda path: path.mkdir(), "is a folder"),
    ],
    ids=["csv-over-it", "empty", "foreign-database", "folder"],
)
def test_a_damaged_or_foreign_list_is_refused_and_left_as_it_was(tmp_path: Path, make: object, expected: str) -> None:
    path = tmp_path / LIST_PATH
    path.parent.mkdir()
    make(path)  # type: ignore[operator]
    before = sorted((child.name, child.read_bytes() if child.is_file() else b"") for child in path.parent.iterdir())
    with pytest.raises(ListRefused) as refused:
        Roster.open(tmp_path)
    message = refused.value.format_message()
    assert f".lessonpress/list.sqlite: {expected}" in message
    assert "restore .lessonpress/list.sqlite from a backup" in message and "sqlite3 .lessonpress/list.sqlite .recover" in message
    assert sorted((child.name, child.read_bytes() if child.is_file() else b"") for child in path.parent.iterdir()) == before


def test_a_truncated_list_is_refused(tmp_path: Path) -> None:
    roster = Roster.open(tmp_path)
    for number in range(300):
        roster.add(f"reader{number}@example.org", name="x" * 100)
    roster.close()
    path = tmp_path / LIST_PATH
    path.write_bytes(path.read_bytes()[: 4096 * 3])
    with pytest.raises(ListRefused, match="is truncated: 12288 bytes where its header promises"):
        Roster.open(tmp_path)


def test_threads_lose_no_change(roster: Roster) -> None:
    def add_some(start: int) -> None:
        for number in range(start, start + 25):
            roster.add(f"r{number}@example.org")
            roster.remove(f"r{number}@example.org")

    threads = [threading.Thread(target=add_some, args=(start,)) for start in range(0, 200, 25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert roster.counts()["unsubscribed"] == 200
    assert all(len(roster.show(f"r{number}@example.org").history) == 2 for number in range(200))  # type: ignore[union-attr]


EXPECTED = {
    "lessonpress.csv": ("lessonpress", {
        "ann@example.org": ("active", "Ann Archer", ("onboarding", "vip"), "2026-01-05T00:00:00+00:00"),
        "bob@example.org": ("unsubscribed", "Bob Baker", (), "2026-01-06T08:30:00+00:00"),
        "cy@example.org": ("pending", "Cy Cole", (), ""),
    }),
    "subscribed_members_export_1a2b3c.csv": ("mailchimp", {
        "dana@example.org": ("active", "Dana Diaz", ("customers", "early birds"), "2025-11-02T09:16:40+00:00"),
        "eli@example.org": ("active", "Eli", (), "2025-12-01T18:00:00+00:00"),
    }),
    "unsubscribed_members_export_1a2b3c.csv": ("mailchimp", {"fay@example.org": ("unsubscribed", "Fay Fox", (), "2025-06-01T10:00:00+00:00")}),
    "cleaned_members_export_1a2b3c.csv": ("mailchimp", {"gus@example.org": ("bounced", "Gus Gray", (), "2025-06-01T10:00:00+00:00")}),
    "substack.csv": ("substack", {
        "hal@example.org": ("active", "", (), "2024-03-01T10:00:00+00:00"),
        "ida@example.org": ("unsubscribed", "", (), "2024-04-01T11:30:00+00:00"),
        "jon@example.org": ("unsubscribed", "", (), "2023-09-09T09:09:09+00:00"),
    }),
    "buttondown.csv": ("buttondown", {
        "kim@example.org": ("active", "", ("retention", "workshop"), "2025-02-02T12:00:00+00:00"),
        "lou@example.org": ("pending", "", (), "2025-02-03T12:00:00+00:00"),
        "max@example.org": ("unsubscribed", "", (), "2025-02-04T12:00:00+00:00"),
    }),
    "listmonk.csv": ("listmonk", {
        "ned@example.org": ("active", "Ned North", (), "2025-03-03T07:00:00+00:00"),
        "ola@example.org": ("unsubscribed", "Ola Olsen", (), "2025-03-04T07:00:00+00:00"),
    }),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_service_export_is_recognised_and_read(roster: Roster, name: str) -> None:
    format_name, readers = EXPECTED[name]
    found = read_import((LISTS / name).read_text(encoding="utf-8"), name)
    assert found.errors == () and found.format == format_name
    assert {row.address: (row.status, " ".join(row.name.split()), tuple(sorted(row.tags)), row.created) for row in found.rows} == readers
    merged = roster.merge(found.rows)
    assert merged.added == len(readers)
    assert {reader.address: reader.status for reader in roster.readers()} == {address: values[0] for address, values in readers.items()}


def test_bad_rows_are_each_reported_at_their_line(tmp_path: Path) -> None:
    found = read_import((LISTS / "malformed.csv").read_text(encoding="utf-8"), "malformed.csv")
    assert [str(error) for error in found.errors] == [
        "malformed.csv:3: 'not-an-address' is not a valid email address",
        "malformed.csv:4: pat@example.org is already on line 2",
        "malformed.csv:5: 'next tuesday' is not a date like 2026-01-31 or 2026-01-31T09:00",
    ]
    assert [row.address for row in found.rows] == ["pat@example.org", "rae@example.org"]


def test_unreadable_csv_and_unknown_columns(tmp_path: Path) -> None:
    huge = "email,name\nann@example.org," + "x" * 200_000 + "\n"
    assert "huge.csv:2: cannot be read as CSV" in str(read_import(huge, "huge.csv").errors[0])
    assert str(read_import("address,who\na@example.org,A\n", "odd.csv").errors[0]) == (
        "odd.csv:1: cannot tell which service wrote this file: no 'email' or 'Email Address' column; pass --format"
    )
    found = read_import("email,status\na@example.org,deleted\n", "x.csv")
    assert "x.csv:2: status 'deleted' is not one of" in str(found.errors[0])


def test_an_import_running_beside_removals_never_brings_anyone_back(tmp_path: Path) -> None:
    """Two connections, as two processes would have: each write transaction reads and writes as one."""
    remover, importer = Roster.open(tmp_path), Roster.open(tmp_path)
    addresses = [f"r{number}@example.org" for number in range(60)]

    def remove_each() -> None:
        for address in addresses:
            remover.add(address)
            remover.remove(address)

    def import_again_and_again() -> None:
        for round_number in range(15):
            importer.merge([ImportRow(f"old.csv:{round_number}", address) for address in addresses])

    threads = [threading.Thread(target=remove_each), threading.Thread(target=import_again_and_again)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {reader.status for reader in remover.readers()} == {"unsubscribed"}
    assert remover.counts()["unsubscribed"] == 60
    remover.close()
    importer.close()


def test_forget_needs_an_address_and_touches_no_one_else(roster: Roster) -> None:
    roster.add("keep@example.org", source="lessonpress list add")
    with pytest.raises(ListRefused, match="'' is not a valid email address"):
        roster.forget("  ")
    assert [change.source for change in roster.show("keep@example.org").history] == ["lessonpress list add"]  # type: ignore[union-attr]


def test_an_export_reads_back_and_a_formula_stays_text(roster: Roster) -> None:
    roster.add("calc@example.org", name="=HYPERLINK(\"http://evil.example\")", tags=["a b", "c"])
    roster.add("plain@example.org", name="Plain Reader", status="pending")
    written = io.StringIO()
    assert write_export(roster.readers(), written) == 2
    assert "'=HYPERLINK" in written.getvalue()
    found = read_import(written.getvalue(), "export.csv")
    assert found.errors == ()
    assert [(row.address, row.name, row.status, row.tags) for row in found.rows] == [
        ("calc@example.org", "=HYPERLINK(\"http://evil.example\")", "active", ("a b", "c")),
        ("plain@example.org", "Plain Reader", "pending", ()),
    ]
