"""`lessonpress send` to the list lessonpress keeps, against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import mailbox
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from lessonpress.cli import main
from lessonpress.content.config import SiteConfig
from lessonpress.errors import SendFailed
from lessonpress.render.emails import _plain_header
from lessonpress.render.list_id import list_id, list_id_value
from lessonpress.send.ledger import LEDGER_PATH, Ledger
from lessonpress.send.roster import Roster
from lessonpress.tokens import AddressTemplate, make_token, url_token, verify_token
from test_send_support import LESSON, SECRET, Recorder, make_site, many, run_send, smtp_server, write_list

SRC = Path(__file__).parents[1] / "src"


def listed_site(tmp_path: Path, statuses: dict[str, str]) -> Path:
    """A copy of the example site whose list holds one reader per address, with that status."""
    root = make_site(tmp_path)
    roster = Roster.open(root)
    for address, status in statuses.items():
        roster.add(address, name=address.split("@")[0].title(), status="active" if status != "pending" else "pending")
        if status not in ("active", "pending"):
            roster.set_status(address, status, how="mail", source="<test@example.org>")
    roster.close()
    return root


def lessonpress(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run lessonpress in a process of its own, as an inbox pass from cron would."""
    environment = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-m", "lessonpress", "-C", str(root), *arguments], capture_output=True, text=True, env=environment, check=False, timeout=120)


def test_send_without_list_goes_to_the_active_readers_only(tmp_path: Path) -> None:
    root = listed_site(tmp_path, {
        "ana@example.org": "active", "ben@example.org": "active", "pia@example.org": "pending",
        "una@example.org": "unsubscribed", "bo@example.org": "bounced", "cy@example.org": "complained",
    })
    handler = Recorder()
    with smtp_server(handler) as settings:
        report = run_send(root, None, settings)
        again = run_send(root, None, settings)
    assert set(handler.copies()) == {"ana@example.org", "ben@example.org"}
    assert (report.sent, again.sent, again.already_sent) == (2, 0, 2)
    [(_, message)] = [item for item in handler.messages if item[0] == ("ana@example.org",)]
    assert "Good morning, Ana!" in message.get_body(("plain",)).get_content()


def test_no_list_and_no_csv_says_how_to_make_one(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    with pytest.raises(SendFailed) as caught:
        run_send(root, None, None, dry_run=True)
    message = str(caught.value.errors[0])
    assert message.startswith(".lessonpress/list.sqlite: there is no subscriber list yet")
    assert "lessonpress list add ADDRESS" in message and "lessonpress list import FILE.csv" in message
    assert not (root / ".lessonpress" / "list.sqlite").exists()


def test_a_csv_sends_only_active_rows_and_warns_of_unknown_statuses(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", [
        "ana@example.org,Ana,,", "ben@example.org,Ben,,active", "sue@example.org,Sue,,Subscribed",
        "pia@example.org,Pia,,pending", "cy@example.org,Cy,,complained", "una@example.org,Una,,unsubscribed",
        "bo@example.org,Bo,,bounced", "odd@example.org,Odd,,archived",
    ])
    handler = Recorder()
    with smtp_server(handler) as settings:
        report = run_send(root, listed, settings)
    assert set(handler.copies()) == {"ana@example.org", "ben@example.org", "sue@example.org"}
    assert report.skipped == 5
    assert [str(warning) for warning in report.warnings] == [
        f"{listed}:9: status 'archived' is not one of active, bounced, complained, pending, subscribed, unsubscribed; row skipped",
    ]
    assert not (root / ".lessonpress" / "list.sqlite").exists(), "a send to a CSV makes no list"


class UnsubscribesMidSend(Recorder):
    """A relay during whose third message another process unsubscribes one reader and bounces another."""

    root: Path = Path()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.keep(envelope)
        if len(self.messages) == 3:
            assert lessonpress(self.root, "list", "remove", "r5@example.org").returncode == 0
            roster = Roster.open(self.root)  # another connection, as the inbox pass holds its own
            roster.set_status("r7@example.org", "bounced", how="mail", source="<dsn@example.org>")
            roster.close()
        return "250 2.0.0 OK"


def test_a_reader_unsubscribed_mid_send_gets_nothing_after_and_the_ledger_says_why(tmp_path: Path) -> None:
    root = listed_site(tmp_path, {f"r{number}@example.org": "active" for number in range(10)})
    handler = UnsubscribesMidSend()
    handler.root = root
    with smtp_server(handler) as settings:
        report = run_send(root, None, settings)
    assert set(handler.copies()) == {f"r{number}@example.org" for number in range(10)} - {"r5@example.org", "r7@example.org"}
    assert (report.sent, report.skipped) == (8, 2)
    assert [(row.email, row.state) for row in report.left_out] == [("r5@example.org", "skipped"), ("r7@example.org", "skipped")]
    shown = CliRunner().invoke(main, ["-C", str(root), "sends"])
    assert shown.output.splitlines()[1].split() == [LESSON, "0", "0", "8", "0", "0", "2"]
    assert f"skipped: {LESSON} to r5@example.org (0 attempts): not sent: the list says unsubscribed (since" in shown.output
    assert f"skipped: {LESSON} to r7@example.org (0 attempts): not sent: the list says bounced (since" in shown.output


def test_a_ledger_of_the_previous_format_is_migrated_with_every_row(tmp_path: Path) -> None:
    root = listed_site(tmp_path, {"ana@example.org": "active", "ben@example.org": "active"})
    (root / LEDGER_PATH).parent.mkdir(exist_ok=True)
    with sqlite3.connect(root / LEDGER_PATH) as connection:
        connection.execute(
            "CREATE TABLE sends (lesson TEXT NOT NULL, email TEXT NOT NULL,"
            " state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'uncertain')),"
            " attempts INTEGER NOT NULL DEFAULT 0, reply TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL, PRIMARY KEY (lesson, email)) WITHOUT ROWID"
        )
        connection.executemany("INSERT INTO sends VALUES (?, ?, 'sent', 1, '250 OK', '2026-01-01T00:00:00+00:00')", [(LESSON, "ana@example.org"), ("old/lesson", "x@example.org")])
    connection.close()
    handler = Recorder()
    with smtp_server(handler) as settings:
        report = run_send(root, None, settings)
    assert set(handler.copies()) == {"ben@example.org"} and report.already_sent == 1
    ledger = Ledger.open(root)
    ledger.mark(LESSON, "ben@example.org", "skipped", "now allowed")
    assert [(row.lesson, row.email, row.state) for row in ledger.rows()] == [
        ("old/lesson", "x@example.org", "sent"), (LESSON, "ana@example.org", "sent"), (LESSON, "ben@example.org", "skipped"),
    ]
    ledger.close()


def test_a_course_runs_from_the_list(tmp_path: Path) -> None:
    root = listed_site(tmp_path, {"ana@example.org": "active", "pia@example.org": "pending"})
    handler = Recorder()
    with smtp_server(handler) as settings:
        # Day one is the day each reader joined: today, for readers added by this test.
        today = datetime.now(UTC)
        first = run_send(root, None, settings, lesson="", course="retention", now=today)
        later = run_send(root, None, settings, lesson="", course="retention", now=today)
    assert [rcpts for rcpts, _ in handler.messages] == [("ana@example.org",)]
    assert (first.sent, later.sent) == (1, 0)


def test_csv_send_still_works_beside_a_list(tmp_path: Path) -> None:
    root = listed_site(tmp_path, {"reader1@example.org": "unsubscribed", "reader3@example.org": "active"})
    roster = Roster.open(root)
    roster.forget("reader3@example.org")
    roster.close()
    listed = write_list(tmp_path / "list.csv", many(5))
    handler = Recorder()
    with smtp_server(handler) as settings:
        report = run_send(root, listed, settings)
    # The CSV still names reader1 and reader3, but the list says one unsubscribed and forgot the other: the list wins.
    # Addresses the list never held (reader0, 2, 4) are the CSV's to decide.
    assert set(handler.copies()) == {"reader0@example.org", "reader2@example.org", "reader4@example.org"}
    assert [(row.email, row.reply.split(" (")[0]) for row in report.left_out] == [
        ("reader1@example.org", "not sent: the list says unsubscribed"),
        ("reader3@example.org", "not sent: the reader was forgotten"),
    ]


class KeepsSenders(Recorder):
    """A relay that also keeps each message's envelope sender (MAIL FROM), by recipient."""

    senders: dict[str, str]

    async def handle_DATA(self, server, session, envelope) -> str:
        self.senders = getattr(self, "senders", {})
        self.senders[envelope.rcpt_tos[0]] = envelope.mail_from
        self.keep(envelope)
        return "250 2.0.0 OK"


def configure(root: Path, *, web: bool = True, title: str = "") -> None:
    """Give the site a signed unsubscribe mailto and a VERP bounce address (and, if asked, no https URL or another title)."""
    config = root / "lessonpress.toml"
    text = config.read_text(encoding="utf-8")
    if not web:
        text = text.replace('unsubscribe_url = "https://retention.example.org/unsubscribe"\n', "")
    if title:
        text = text.replace('title = "The Retention Letter"', f'title = "{title}"', 1)
    text = text.replace("[email]\n", '[email]\nbounce_address = "bounces+{token}@retention.example.org"\n', 1)
    config.write_text(text + '\n[list]\nunsubscribe_address = "unsubscribe+{token}@retention.example.org"\n', encoding="utf-8")


def test_each_message_carries_the_readers_signed_mailto_verp_sender_and_the_list_id(tmp_path: Path) -> None:
    readers = {f"r{number}@example.org": "active" for number in range(3)}
    root = listed_site(tmp_path, readers)
    configure(root)
    handler = KeepsSenders()
    with smtp_server(handler) as settings:
        run_send(root, None, settings)
    bounces = AddressTemplate.parse("bounces+{token}@retention.example.org")
    unsubscribes = AddressTemplate.parse("unsubscribe+{token}@retention.example.org")
    assert len(handler.messages) == 3
    for (address,), message in handler.messages:
        web, mail = (way.strip().strip("<>") for way in message["List-Unsubscribe"].split(","))
        assert web.startswith("https://retention.example.org/unsubscribe?") and "token=" + url_token(SECRET, address) in web
        assert mail.startswith("mailto:unsubscribe+") and mail.endswith("@retention.example.org?subject=Unsubscribe")
        token = unsubscribes.token_in(mail.removeprefix("mailto:").split("?")[0])
        assert token is not None and verify_token(SECRET, address, "unsubscribe", token)
        assert not verify_token(SECRET, "someone@example.org", "unsubscribe", token)
        bounce_token = bounces.token_in(handler.senders[address])
        assert bounce_token is not None and verify_token(SECRET, address, "bounce", bounce_token)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Id"] == '"The Retention Letter" <lessons.retention.example.org>'
        assert address not in handler.senders[address] and address not in mail, "the address itself travels only in To"


def test_without_an_https_url_the_signed_mailto_is_the_way_out_and_there_is_no_one_click(tmp_path: Path) -> None:
    root = listed_site(tmp_path, {"ana@example.org": "active"})
    configure(root, web=False, title="Café Lettres: “les leçons” <du matin>")
    handler = KeepsSenders()
    with smtp_server(handler) as settings:
        run_send(root, None, settings)
    [(_, message)] = handler.messages
    [mail] = [way.strip().strip("<>") for way in message["List-Unsubscribe"].split(",")]
    assert mail.startswith("mailto:unsubscribe+u")
    assert message["List-Unsubscribe-Post"] is None
    assert mail in message.get_body(("plain",)).get_content()
    assert message["List-Id"] == 'Café Lettres: “les leçons” <du matin> <lessons.retention.example.org>'
    raw = message.as_bytes()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\n") if line.startswith((b"List-Id", b" =?utf-8")))


def test_the_built_eml_has_no_list_headers_even_when_configured(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    plain = CliRunner().invoke(main, ["-C", str(root), "email", LESSON])
    configure(root)
    configured = CliRunner().invoke(main, ["-C", str(root), "email", LESSON])
    assert plain.exit_code == configured.exit_code == 0
    assert configured.output.splitlines()[:-1] == plain.output.splitlines()[:-1], "the same message; only the timing line differs"
    assert "List-Id" not in plain.output and "mailto:unsubscribe+" not in plain.output


class QuotesTheAddress(Recorder):
    """A relay whose reply names the recipient, as many do."""

    async def handle_DATA(self, server, session, envelope) -> str:
        self.keep(envelope)
        return f"250 2.0.0 OK: queued for <{envelope.rcpt_tos[0]}>"


def test_forget_erases_the_reader_from_the_ledger_file_and_keeps_the_counts(tmp_path: Path) -> None:
    root = listed_site(tmp_path, {"ana@example.org": "active", "ben@example.org": "active"})
    with smtp_server(QuotesTheAddress()) as settings:
        run_send(root, None, settings)
    assert b"ana@example.org" in (root / LEDGER_PATH).read_bytes()
    forgot = CliRunner().invoke(main, ["-C", str(root), "list", "forget", "Ana@example.org"])
    assert forgot.exit_code == 0, forgot.output
    assert "and replaced by that digest in 1 row of .lessonpress/sends.sqlite" in forgot.output
    for path in (root / ".lessonpress").glob("*.sqlite*"):  # the list, the ledger, and any log beside them
        assert b"ana@example.org" not in path.read_bytes(), path.name
    shown = CliRunner().invoke(main, ["-C", str(root), "sends"])
    assert shown.output.splitlines()[1].split() == [LESSON, "0", "0", "2", "0", "0", "0"]
    ledger = Ledger.open(root, read_only=True)
    rows = {row.email: row.reply for row in ledger.rows()}
    ledger.close()
    assert rows["ben@example.org"] == "250 2.0.0 OK: queued for <ben@example.org>"
    [(key, reply)] = [(key, reply) for key, reply in rows.items() if key != "ben@example.org"]
    assert key.startswith("forgotten:") and reply == "(forgotten)"


@pytest.mark.parametrize(("url", "expected"), [
    ("https://retention.example.org", "lessons.retention.example.org"),
    ("https://Example.org/Letters/Retention/", "retention.letters.example.org"),
    ("https://example.org/ünï code_x/", "n-code-x.example.org"),
    ("http://[::1]:8000/", "lessons.1"),
    ("http://localhost/", "lessons.localhost"),
])
def test_the_list_id_is_made_from_the_site_url_alone(tmp_path: Path, url: str, expected: str) -> None:
    config = SiteConfig(root=tmp_path, title="T", url=url)
    assert list_id(config) == expected
    name, value = _plain_header("List-Id", list_id_value(config))
    assert (name, value) == ("List-Id", f'"T" <{expected}>')


class InboxPassMidSend(Recorder):
    """A relay during whose third message a real `lessonpress inbox` pass reads an unsubscribe for one reader."""

    root: Path = Path()
    mbox: Path = Path()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.keep(envelope)
        if len(self.messages) == 3:
            environment = {**os.environ, "PYTHONPATH": str(SRC), "LESSONPRESS_SECRET": SECRET}
            passed = subprocess.run(
                [sys.executable, "-m", "lessonpress", "-C", str(self.root), "inbox", str(self.mbox)],
                capture_output=True, text=True, env=environment, check=False, timeout=120,
            )
            assert passed.returncode == 0 and "1 unsubscribed" in passed.stdout, passed.stdout + passed.stderr
        return "250 2.0.0 OK"


def test_an_inbox_pass_during_a_send_stops_mail_to_the_reader_it_unsubscribes(tmp_path: Path) -> None:
    """Issue 21: an inbox pass and a send at once lose no change, and no one is mailed after leaving."""
    root = listed_site(tmp_path, {f"r{number}@example.org": "active" for number in range(10)})
    settings_file = root / "lessonpress.toml"
    settings_file.write_text(settings_file.read_text() + '\n[list]\nunsubscribe_address = "leave+{token}@example.org"\n')
    leaving = EmailMessage()
    leaving["From"], leaving["Subject"], leaving["Message-ID"] = "r6@example.org", "Unsubscribe", "<leave-r6@example.org>"
    leaving["To"] = AddressTemplate.parse("leave+{token}@example.org").fill(make_token(SECRET, "r6@example.org", "unsubscribe"))
    leaving.set_content("Please stop.")
    mbox = tmp_path / "list.mbox"
    box = mailbox.mbox(mbox)
    box.add(leaving)
    box.close()
    handler = InboxPassMidSend()
    handler.root, handler.mbox = root, mbox
    with smtp_server(handler) as settings:
        report = run_send(root, None, settings)
    assert "r6@example.org" not in handler.copies() and len(handler.copies()) == 9
    assert (report.sent, report.skipped) == (9, 1)
    roster = Roster.open(root, read_only=True)
    try:
        reader = roster.find("r6@example.org")
        assert reader is not None and reader.status == "unsubscribed"
    finally:
        roster.close()
