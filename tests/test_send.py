"""`lessonpress send` against a real SMTP server on 127.0.0.1: what arrives, and what does not."""

from __future__ import annotations

import hashlib
import hmac
import smtplib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from lessonpress.cli import main
from lessonpress.errors import SendFailed
from lessonpress.send.ledger import Ledger
from lessonpress.send.smtp import SmtpSettings, connect, settings_from_env
from test_send_support import (
    LESSON,
    SECRET,
    Recorder,
    make_site,
    many,
    run_send,
    smtp_server,
    write_list,
)


def test_500_recipients_each_get_exactly_one_personal_copy(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(500))
    handler = Recorder()
    with smtp_server(handler) as settings:
        report = run_send(root, listed, settings, connections=4)
        again = run_send(root, listed, settings, connections=4)

    assert (report.sent, len(report.failed), len(report.uncertain)) == (500, 0, 0)
    assert (again.sent, again.already_sent) == (0, 500)
    copies = handler.copies()
    assert len(copies) == 500 and set(copies.values()) == {1}
    ids = {message["Message-ID"] for _, message in handler.messages}
    assert len(ids) == 500
    _rcpts, message = next(item for item in handler.messages if item[0] == ("reader7@example.org",))
    assert message["To"] == "reader7@example.org"
    assert "Reader 7" in message.get_body(("plain",)).get_content()
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    query = parse_qs(urlsplit(unsubscribe).query)
    expected = hmac.new(SECRET.encode(), b"reader7@example.org", hashlib.sha256).hexdigest()
    assert unsubscribe.startswith("https://retention.example.org/unsubscribe?")
    assert query == {"email": ["reader7@example.org"], "token": [expected]}
    assert unsubscribe in message.get_body(("html",)).get_content().replace("&amp;", "&")


def test_bad_unsubscribed_and_suppressed_rows_are_skipped_and_reported(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", [
        "ana@example.org,Ana,,",
        "not-an-address,Bad,,",
        "ANA@example.org,Ana again,,",
        "gone@example.org,Gone,,unsubscribed",
        "bounce@example.org,Bounce,,bounced",
        "hidden@example.org,Hidden,,",
    ])
    suppress = tmp_path / "suppress.txt"
    suppress.write_text("# complaints\nHidden@example.org\n", encoding="utf-8")
    handler = Recorder()
    with smtp_server(handler) as settings:
        report = run_send(root, listed, settings, suppress=suppress)
    assert set(handler.copies()) == {"ana@example.org"}
    assert report.sent == 1 and report.skipped == 5
    assert [str(warning) for warning in report.warnings] == [
        f"{listed}:3: 'not-an-address' is not a valid email address; row skipped",
        f"{listed}:4: duplicate of line 2 (ANA@example.org); row skipped",
    ]


def test_a_name_with_a_newline_cannot_inject_a_header(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", ['eve@example.org,"Eve\r\nBcc: victim@example.net\nX-Evil: yes",,'])
    handler = Recorder()
    with smtp_server(handler) as settings:
        run_send(root, listed, settings)
    [(rcpts, message)] = handler.messages
    assert rcpts == ("eve@example.org",)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert sorted(message.keys()) == sorted(["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "MIME-Version", "Content-Type"])
    assert "Eve Bcc: victim@example.net X-Evil: yes" in message.get_body(("plain",)).get_content().replace("\n", " ")


def test_dry_run_renders_everything_and_sends_nothing(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(3))
    result = CliRunner().invoke(
        main, ["-C", str(root), "send", LESSON, "--list", str(listed), "--dry-run"],
        env={"LESSONPRESS_SECRET": SECRET, "LESSONPRESS_SMTP_URL": "smtp://127.0.0.1:9"},  # read and checked, never connected to
    )
    assert result.exit_code == 0, result.output
    assert f"would send {LESSON} to reader2@example.org" in result.output
    assert "Dry run for retention/why-customers-leave: would send 3, skipped 0, failed 0, uncertain 0 in" in result.output
    assert not (root / ".lessonpress" / "sends.sqlite").exists()


def test_cli_sends_and_the_ledger_shows_it(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(3))
    handler = Recorder()
    runner = CliRunner()
    with smtp_server(handler) as settings:
        env = {"LESSONPRESS_SMTP_URL": f"smtp://127.0.0.1:{settings.port}", "LESSONPRESS_SECRET": SECRET}
        result = runner.invoke(main, ["-C", str(root), "send", "lessons/retention/01-why-customers-leave.md", "--list", str(listed), "--rate", "1000"], env=env)
        test_copy = runner.invoke(main, ["-C", str(root), "send", LESSON, "--test-to", "me@example.org"], env=env)
    assert result.exit_code == 0, result.output
    assert "Sent retention/why-customers-leave: sent 3, skipped 0, failed 0, uncertain 0 in" in result.output
    assert test_copy.exit_code == 0, test_copy.output
    assert "Sent a test copy of retention/why-customers-leave to me@example.org in" in test_copy.output
    assert handler.copies()["me@example.org"] == 1
    shown = runner.invoke(main, ["-C", str(root), "sends"])
    assert shown.exit_code == 0
    assert shown.output.splitlines()[1].split() == [LESSON, "0", "0", "3", "0", "0", "0"]
    assert "1 lesson, 3 recipient rows in the ledger" in shown.output


def test_refuses_to_send_without_a_secret(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(1))
    with pytest.raises(SendFailed, match="LESSONPRESS_SECRET: is not set"):
        run_send(root, listed, SmtpSettings(host="127.0.0.1", port=1, implicit_tls=False), secret="")


@pytest.mark.parametrize(("lesson", "message"), [
    ("retention/the-renewal-conversation", "lessons/retention/06-the-renewal-conversation.md: is dated 2027-03-03"),
    ("relationships/saying-no-well", "lessons/relationships/05-saying-no-well.md: is a draft"),
])
def test_unpublished_lessons_are_refused_with_the_reason(tmp_path: Path, lesson: str, message: str) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(1))
    with pytest.raises(SendFailed) as caught:
        run_send(root, listed, None, lesson=lesson, dry_run=True)
    assert str(caught.value.errors[0]).startswith(message)


def test_smtp_settings_come_from_the_environment_only() -> None:
    settings = settings_from_env({"LESSONPRESS_SMTP_URL": "smtp://me%40example.org@mail.example.org", "LESSONPRESS_SMTP_PASSWORD": "hunter2"})
    assert (settings.host, settings.port, settings.user, settings.needs_tls) == ("mail.example.org", 587, "me@example.org", True)
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    assert settings_from_env({"LESSONPRESS_SMTP_URL": "smtps://relay.example.org"}).port == 465
    assert not settings_from_env({"LESSONPRESS_SMTP_URL": "smtp://127.0.0.1:2525"}).needs_tls
    assert not settings_from_env({"LESSONPRESS_SMTP_URL": "smtp://relay.example.org"}, insecure=True).needs_tls
    for url, problem in [
        ("", "is not set"),
        ("http://relay.example.org", "must look like"),
        ("smtp://me:pw@relay.example.org", "must not hold the password"),
        ("smtp://me@relay.example.org", "LESSONPRESS_SMTP_PASSWORD: is not set"),
    ]:
        with pytest.raises(SendFailed, match=problem):
            settings_from_env({"LESSONPRESS_SMTP_URL": url})


class RemoteLooking(SmtpSettings):
    """Settings for the local server that behave as if it were a remote relay."""

    @property
    def loopback(self) -> bool:
        return False


def test_starttls_is_required_on_a_relay_that_is_not_loopback() -> None:
    with smtp_server(Recorder()) as local:
        remote = RemoteLooking(host=local.host, port=local.port, implicit_tls=False)
        with pytest.raises(smtplib.SMTPNotSupportedError, match="does not offer STARTTLS"):
            connect(remote)
        connect(RemoteLooking(host=local.host, port=local.port, implicit_tls=False, insecure=True)).quit()
        connect(local).quit()


def test_the_ledger_lives_in_the_site_folder_not_output(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(2))
    with smtp_server(Recorder()) as settings:
        run_send(root, listed, settings)
    ledger = Ledger.open(root)
    assert [row.state for row in ledger.rows()] == ["sent", "sent"]
    ledger.close()
    assert not (root / "output").exists()
