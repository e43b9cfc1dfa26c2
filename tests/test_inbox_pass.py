"""`lessonpress inbox`: the list keeps itself by mail, against real mbox and Maildir files, Dovecot and aiosmtpd."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lessonpress.cli import main
from lessonpress.mail.sources import PASSWORD_VARIABLE
from lessonpress.send.roster import Roster
from lessonpress.tokens import make_token
from test_imap import PASSWORD, ImapServer, imap_server  # noqa: F401 - fixture
from test_send_support import Recorder, make_site, smtp_server
from test_tally import write_mbox

SECRET = "lessonpress-test-secret"  # the bounce samples' tokens were made with it
DOMAIN = "retention.example.org"
SAMPLES = Path(__file__).parent / "data" / "bounces"
LIST_SETTINGS = f"""
[list]
address = "letters@{DOMAIN}"
unsubscribe_address = "letters+unsubscribe-{{token}}@{DOMAIN}"
confirm_address = "letters+confirm-{{token}}@{DOMAIN}"
soft_bounces = 2
soft_bounce_days = 30
"""


def list_site(tmp_path: Path) -> Path:
    """The example site with [list] addresses on one mailbox by plus-addressing, as the README sets it up, and the samples' VERP bounce address."""
    root = make_site(tmp_path)
    config = root / "lessonpress.toml"
    text = config.read_text().replace("[polls]", f'bounce_address = "bounces+{{token}}@{DOMAIN}"\n\n[polls]')
    config.write_text(text + LIST_SETTINGS)
    return root


def mail(sender: str, to: str, subject: str, body: str = "", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC) - timedelta(minutes=5))
    message["Message-ID"] = make_msgid(domain="reader.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body or "Hello")
    return message


def run(root: Path, source: str, *options: str, env: dict[str, str] | None = None) -> Result:
    environment = {"LESSONPRESS_SECRET": SECRET, **(env or {})}
    return CliRunner(env=environment).invoke(main, ["--site", str(root), "inbox", source, *options])


def summary(result: Result) -> str:
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def relay() -> Iterator[tuple[Recorder, dict[str, str]]]:
    recorder = Recorder()
    with smtp_server(recorder) as settings:
        yield recorder, {"LESSONPRESS_SMTP_URL": f"smtp://{settings.host}:{settings.port}"}


def add_readers(root: Path, *addresses: str, status: str = "active") -> None:
    roster = Roster.open(root)
    for address in addresses:
        roster.add(address, status=status)
    roster.close()


def status_of(root: Path, address: str) -> str:
    roster = Roster.open(root, read_only=True)
    try:
        reader = roster.find(address)
        return reader.status if reader else "absent"
    finally:
        roster.close()


def only_confirmation(recorder: Recorder, address: str) -> EmailMessage:
    """The one confirmation the relay received for `address`, checked as a reader's mail client sees it."""
    found = [message for recipients, message in recorder.messages if recipients == (address,)]
    assert len(found) == 1, f"{len(found)} confirmations to {address}"
    message = found[0]
    assert message["To"] == address and message["Subject"] == "Confirm your subscription to The Retention Letter"
    assert message["Reply-To"] == f"letters+confirm-{make_token(SECRET, address, 'confirm')}@{DOMAIN}"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "reply to this message" in text.lower() and "The Retention Letter" in text and address in text
    assert "Please confirm your subscription" in html and 'class="masthead"' in html and "<style>" in html
    return message


def reply_to(confirmation: EmailMessage, sender: str) -> EmailMessage:
    """What a reader's client sends when they press Reply on the confirmation."""
    return mail(sender, str(confirmation["Reply-To"]), f"Re: {confirmation['Subject']}", "Yes please", In_Reply_To=str(confirmation["Message-ID"]))


def test_a_reader_subscribes_gets_one_confirmation_replies_and_is_active(tmp_path: Path, relay: tuple[Recorder, dict[str, str]]) -> None:
    recorder, env = relay
    root = list_site(tmp_path)
    asked = [mail("Ann Lee <ann@example.com>", f"letters@{DOMAIN}", "Re:  SUBSCRIBE "), mail("ann@example.com", f"letters@{DOMAIN}", "subscribe")]
    first = run(root, str(write_mbox(tmp_path / "one.mbox", asked)), env=env)

    assert first.exit_code == 0, first.output
    assert "one.mbox:1: ann@example.com is pending: sent a confirmation" in first.stdout
    assert "ann@example.com is pending; a confirmation already went out today, so none is sent" in first.stdout
    assert summary(first).startswith("Inbox: 2 messages in ")
    assert "1 subscribed (1 confirmation sent), 0 confirmed" in summary(first)
    assert status_of(root, "ann@example.com") == "pending"
    confirmation = only_confirmation(recorder, "ann@example.com")

    second = run(root, str(write_mbox(tmp_path / "two.mbox", [*asked, reply_to(confirmation, "Ann Lee <ann@example.com>")])), env=env)
    assert second.exit_code == 0, second.output
    assert "confirmed ann@example.com: now active" in second.stdout
    assert "0 subscribed (0 confirmations sent), 1 confirmed" in summary(second) and "2 already handled" in summary(second)
    assert status_of(root, "ann@example.com") == "active"
    roster = Roster.open(root, read_only=True)
    record = roster.show("ann@example.com")
    roster.close()
    assert record is not None and [(change.status, change.how) for change in record.history] == [("pending", "mail"), ("active", "mail")]
    assert record.history[-1].source.startswith("<") and record.history[-1].source.endswith("@reader.example>")

    again = run(root, str(tmp_path / "two.mbox"), env=env)
    assert "0 subscribed (0 confirmations sent), 0 confirmed, 0 unsubscribed, 0 bounced" in summary(again)
    assert "3 already handled, 0 refused" in summary(again)
    assert len(recorder.messages) == 1


def test_an_out_of_office_reply_to_the_confirmation_confirms_nobody(tmp_path: Path, relay: tuple[Recorder, dict[str, str]]) -> None:
    recorder, env = relay
    root = list_site(tmp_path)
    run(root, str(write_mbox(tmp_path / "one.mbox", [mail("bob@example.com", f"letters@{DOMAIN}", "Subscribe")])), env=env)
    confirmation = only_confirmation(recorder, "bob@example.com")
    automatic = reply_to(confirmation, "bob@example.com")
    automatic["Auto-Submitted"] = "auto-replied"
    result = run(root, str(write_mbox(tmp_path / "two.mbox", [automatic])), env=env)
    assert "refused: an automatic reply (out of office?) to the confirmation sent to bob@example.com does not confirm it" in result.stdout
    assert status_of(root, "bob@example.com") == "pending"


def test_unsubscribe_by_token_whatever_the_mail_says_and_a_forged_token_changes_nothing(tmp_path: Path) -> None:
    root = list_site(tmp_path)
    add_readers(root, "ann@example.com", "ben@example.com")
    token = make_token(SECRET, "ann@example.com", "unsubscribe")
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    mails = [
        mail("mallory@evil.example", f"letters+unsubscribe-{forged}@{DOMAIN}", "Unsubscribe", "unsubscribe ben please"),
        mail("Someone <someone@example.net>", f"letters+unsubscribe-{make_token(SECRET, 'ben@example.com', 'bounce')}@{DOMAIN}", "Unsubscribe"),
        mail("ann@example.com", f"Letters+Unsubscribe-{token.upper()}@{DOMAIN.upper()}", "Please keep me subscribed!", "I love it"),
        mail("ben@example.com", f"lessons+why-customers-leave@{DOMAIN}", "Re: Why Customers Leave\x1b[2J", "STOP"),
    ]
    result = run(root, str(write_mbox(tmp_path / "in.mbox", mails)))

    assert result.exit_code == 0, result.output
    assert "in.mbox:1: refused: unsubscribe from mallory@evil.example: its token names no reader on the list (forged, altered, signed with another LESSONPRESS_SECRET, or for a reader since forgotten); nothing changed" in result.stdout
    assert "refused: unsubscribe from someone@example.net: its token names no reader on the list" in result.stdout  # a bounce token
    assert ": unsubscribed ann@example.com\n" in result.stdout
    assert "\x1b" not in result.stdout
    assert "ben@example.com asks in plain words to stop ('Re: Why Customers Leave [2J'); not acted on: if they mean it, run 'lessonpress list remove ben@example.com'" in result.stdout
    assert "1 unsubscribed" in summary(result) and "2 refused" in summary(result)
    assert (status_of(root, "ann@example.com"), status_of(root, "ben@example.com")) == ("unsubscribed", "active")


def test_a_request_by_mail_never_brings_back_a_stopped_or_forgotten_reader(tmp_path: Path, relay: tuple[Recorder, dict[str, str]]) -> None:
    recorder, env = relay
    root = list_site(tmp_path)
    add_readers(root, "gone@example.com", status="unsubscribed")
    add_readers(root, "erased@example.com")
    roster = Roster.open(root)
    roster.forget("erased@example.com")
    roster.close()
    mails = [mail(address, f"letters@{DOMAIN}", "Subscribe") for address in ("gone@example.com", "erased@example.com")]
    result = run(root, str(write_mbox(tmp_path / "in.mbox", mails)), env=env)
    assert result.exit_code == 0, result.output
    assert "refused: a subscribe request: gone@example.com is unsubscribed: only 'lessonpress list add' brings them back" in result.stdout
    assert "refused: a subscribe request: erased@example.com was forgotten" in result.stdout
    assert recorder.messages == [] and status_of(root, "gone@example.com") == "unsubscribed" and status_of(root, "erased@example.com") == "absent"


def bounce_sample(name: str, date: datetime | None = None) -> bytes:
    """A sample as it came, or as a later bounce of the same kind: its own date and Message-ID."""
    raw = (SAMPLES / name).read_bytes()
    if date is None:
        return raw
    for header, value in ((b"date", format_datetime(date)), (b"message-id", make_msgid(domain="mail.retention.example.org"))):
        raw = re.sub(rb"(?im)^" + header + rb":.*$", header + b": " + value.encode(), raw, count=1)
    return raw


def test_bounces_and_complaints_from_real_servers_mark_the_right_reader(tmp_path: Path) -> None:
    root = list_site(tmp_path)
    add_readers(root, "priya@example.com", "tom.baker@example.net", "reader@aol.com", "busy@example.org", "ana@example.com", "j.okafor@outlook.com")
    now = datetime.now(UTC)
    folder = mailbox.Maildir(tmp_path / "Bounces", create=True)
    for raw in (
        bounce_sample("postfix.eml"), bounce_sample("arf-complaint.eml"), bounce_sample("out-of-office.eml"), bounce_sample("malformed-dsn.eml"),
        bounce_sample("soft-mailbox-full.eml", now - timedelta(days=2)), bounce_sample("soft-mailbox-full.eml", now - timedelta(days=1)),
        bounce_sample("exim-delayed.eml"), bounce_sample("reader-reply.eml"),
    ):
        folder.add(raw)
    result = run(root, str(tmp_path / "Bounces"))

    assert result.exit_code == 0, result.output
    assert "bounced priya@example.com: hard bounce: 5.1.1 550 5.1.1 <priya@example.com>: Recipient address rejected" in result.stdout
    assert "complained reader@aol.com: complaint (marked as spam): abuse" in result.stdout
    assert "soft bounce 1 of 2 in 30 days for busy@example.org: 4.2.2 452 4.2.2 <busy@example.org>: Mailbox full" in result.stdout
    assert "bounced busy@example.org: soft bounce 2 in 30 days" in result.stdout
    # A delay from January is older than soft_bounce_days: counted as it happened, it stops no one.
    assert "soft bounce 0 of 2 in 30 days for tom.baker@example.net" in result.stdout
    # The malformed report still says, through its one readable field block, that ana's mailbox is unknown.
    assert "bounced ana@example.com: hard bounce: 5.1.1 550 5.1.1 mailbox unknown" in result.stdout
    assert [status_of(root, address) for address in ("priya@example.com", "reader@aol.com", "busy@example.org", "tom.baker@example.net", "ana@example.com", "j.okafor@outlook.com")] == [
        "bounced", "complained", "bounced", "active", "bounced", "active",
    ]
    # The out-of-office reply and the reader's reply are no bounces: they go where replies go.
    assert "3 bounced, 1 complained" in summary(result) and "1 reply" in summary(result) and "Traceback" not in result.output
    again = run(root, str(tmp_path / "Bounces"))
    assert "0 bounced" in summary(again) and "8 already handled" in summary(again)


def test_dry_run_shows_what_it_would_do_and_changes_nothing(tmp_path: Path, relay: tuple[Recorder, dict[str, str]]) -> None:
    recorder, env = relay
    root = list_site(tmp_path)
    add_readers(root, "ann@example.com")
    list_file = root / ".lessonpress" / "list.sqlite"
    before = list_file.read_bytes()
    token = make_token(SECRET, "ann@example.com", "unsubscribe")
    mails = [mail("new@example.com", f"letters@{DOMAIN}", "Subscribe"), mail("ann@example.com", f"letters+unsubscribe-{token}@{DOMAIN}", "Unsubscribe")]
    result = run(root, str(write_mbox(tmp_path / "in.mbox", mails)), "--dry-run", env=env)

    assert result.exit_code == 0, result.output
    assert "new@example.com is pending: would send a confirmation" in result.stdout and "unsubscribed ann@example.com" in result.stdout
    assert summary(result).startswith("Dry run, nothing changed. Inbox: 2 messages")
    assert "1 subscribed (1 confirmation to send), 0 confirmed, 1 unsubscribed" in summary(result)
    assert recorder.messages == [] and list_file.read_bytes() == before
    assert not (root / ".lessonpress" / "inbox.sqlite").exists()
    real = run(root, str(tmp_path / "in.mbox"), env=env)
    assert "0 already handled" in summary(real) and len(recorder.messages) == 1


def raw_mail(number: int, sender: str, to: str, subject: str, body: str = "Hello") -> bytes:
    return (
        f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: {format_datetime(datetime.now(UTC))}\n"
        f"Message-ID: <m{number}@reader.example>\n\n{body}\n"
    ).encode()


def test_hostile_mail_gives_clear_lines_and_no_traceback(tmp_path: Path) -> None:
    root = list_site(tmp_path)
    add_readers(root, "ann@example.com")
    forged_bounce = bounce_sample("postfix.eml").replace(b"b822c84e8bfa6c93a0ac7adae81c2a168", b"b" + b"0" * 32)
    mails: list[EmailMessage | bytes] = [
        raw_mail(1, "big@example.com", f"lessons+why-customers-leave@{DOMAIN}", "Re: Why Customers Leave", "x" * (30 * 1024 * 1024)),
        b"Subject: no sender at all\nMessage-ID: <nosender@example>\n\nhi\n",
        forged_bounce,
        bounce_sample("malformed-dsn.eml").replace(b"To: bounces+b7329954bee1eed696502f55ade482c2c@retention.example.org\n", b""),
        raw_mail(2, "eve@example.com", f"letters+confirm-c{'1' * 32}@{DOMAIN}", "Re: Confirm your subscription"),
        raw_mail(3, "eve@example.com", f"letters+confirm-not-a-token@{DOMAIN}", "Re: Confirm"),
    ]
    result = run(root, str(write_mbox(tmp_path / "hostile.mbox", mails)))

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    out = result.stdout
    assert "hostile.mbox:1: refused: skipped message <m1@reader.example>: larger than 10 MB, the limit for one message" in out
    assert "refused: skipped message <nosender@example>, cannot read this message: no sender address in From" in out
    assert "refused: hard report about priya@example.com from mailer-daemon@mail.retention.example.org: its token names no reader on the list" in out
    assert "refused: hard report about ana@example.com from mailer-daemon@relay.example.com: its token names no reader on the list" in out
    assert out.count("refused: confirmation from eve@example.com: its token names no reader on the list") == 2
    assert summary(result).endswith("6 refused") and status_of(root, "ann@example.com") == "active"
    again = run(root, str(tmp_path / "hostile.mbox"))
    assert again.stdout.splitlines() == [again.stdout.strip()] and "6 already handled, 0 refused" in summary(again)


def test_ten_thousand_messages_in_one_pass(tmp_path: Path) -> None:
    root = list_site(tmp_path)
    readers = [f"reader{number}@example.org" for number in range(200)]
    add_readers(root, *readers)
    mails: list[EmailMessage | bytes] = []
    for number in range(10_000):
        reader = readers[number % len(readers)]
        if number % 1000 == 7:
            reader = readers[number // 1000]
            mails.append(raw_mail(number, reader, f"letters+unsubscribe-{make_token(SECRET, reader, 'unsubscribe')}@{DOMAIN}", "Unsubscribe"))
        elif number % 3:
            mails.append(raw_mail(number, reader, f"polls@{DOMAIN}", f"Vote: retention-the-first-ninety-days #{number % 4 + 1} x"))
        else:
            mails.append(raw_mail(number, reader, f"lessons+the-first-ninety-days@{DOMAIN}", "Re: The First Ninety Days", f"Thought {number}"))
    box = tmp_path / "big.mbox"
    box.write_bytes(b"".join(b"From reader@example.org Thu Jan  1 00:00:00 2026\n" + item + b"\n" for item in mails if isinstance(item, bytes)))
    result = run(root, str(box))

    assert result.exit_code == 0, result.output
    line = summary(result)
    assert line.startswith("Inbox: 10000 messages in ") and "10 unsubscribed" in line and "0 refused" in line
    assert "200 votes" in line  # each reader's latest vote counts, as in `polls tally`
    assert "wrote data/polls/retention-the-first-ninety-days.json" in result.stdout
    again = run(root, str(box))
    assert "10000 already handled" in summary(again) and "0 replies" in summary(again) and "200 votes" in summary(again)


def test_the_whole_loop_over_real_imap_and_smtp(tmp_path: Path, imap_server: ImapServer, relay: tuple[Recorder, dict[str, str]]) -> None:
    """Subscribe, confirm, bounce and a forged unsubscribe, all through Dovecot; twice is a no-op, a dry run changes nothing."""
    recorder, env = relay
    root = list_site(tmp_path)
    add_readers(root, "priya@example.com", "lee@example.org")
    env = {**env, PASSWORD_VARIABLE: PASSWORD}
    source = imap_server.url("List")
    lee_token = make_token(SECRET, "lee@example.org", "unsubscribe")
    imap_server.deliver("List", [
        mail("Dana Reed <dana@example.net>", f"letters@{DOMAIN}", "Subscribe"),
        mail("mallory@evil.example", f"letters+unsubscribe-{lee_token[:-4]}beef@{DOMAIN}", "Unsubscribe"),
        bounce_sample("postfix.eml"),
    ])

    dry = run(root, source, "--dry-run", env=env)
    assert dry.exit_code == 0, dry.output
    assert "dana@example.net is pending: would send a confirmation" in dry.stdout and "bounced priya@example.com" in dry.stdout
    assert recorder.messages == [] and not (root / ".lessonpress" / "inbox.sqlite").exists() and status_of(root, "priya@example.com") == "active"

    first = run(root, source, env=env)
    assert first.exit_code == 0, first.output
    assert f"{source} UID 2: refused: unsubscribe from mallory@evil.example: its token names no reader on the list" in first.stdout
    assert "1 subscribed (1 confirmation sent), 0 confirmed, 0 unsubscribed, 1 bounced" in summary(first)
    assert [status_of(root, address) for address in ("dana@example.net", "lee@example.org", "priya@example.com")] == ["pending", "active", "bounced"]
    confirmation = only_confirmation(recorder, "dana@example.net")

    imap_server.deliver("List", [reply_to(confirmation, "Dana Reed <dana@example.net>")])
    second = run(root, source, env=env)
    assert "confirmed dana@example.net: now active" in second.stdout
    assert "0 subscribed (0 confirmations sent), 1 confirmed" in summary(second) and "3 already handled, 0 refused" in summary(second)
    assert status_of(root, "dana@example.net") == "active"

    third = run(root, source, env=env)
    assert third.stdout.splitlines() == [summary(third)] and "4 already handled, 0 refused" in summary(third)
    assert len(recorder.messages) == 1


def test_a_reader_added_with_confirm_gets_one_confirmation_and_an_imported_one_none(tmp_path: Path, relay: tuple[Recorder, dict[str, str]]) -> None:
    recorder, env = relay
    root = list_site(tmp_path)
    added = CliRunner().invoke(main, ["--site", str(root), "list", "add", "bob@example.org", "--confirm"])
    assert added.exit_code == 0, added.output
    (tmp_path / "old.csv").write_text("email,status\nold@example.org,pending\n")
    imported = CliRunner().invoke(main, ["--site", str(root), "list", "import", str(tmp_path / "old.csv")])
    assert imported.exit_code == 0, imported.output
    empty = write_mbox(tmp_path / "empty.mbox", [mail("someone@example.com", f"polls@{DOMAIN}", "Hello")])

    first = run(root, str(empty), env=env)
    assert ".lessonpress/list.sqlite: bob@example.org is pending: sent a confirmation" in first.stdout
    only_confirmation(recorder, "bob@example.org")
    again = run(root, str(empty), env=env)
    assert again.stdout.splitlines() == [summary(again)] and "0 subscribed (0 confirmations sent)" in summary(again)
    assert len(recorder.messages) == 1  # none to the imported pending reader: not mailed unasked


def test_without_the_secret_or_with_a_damaged_record_nothing_is_handled(tmp_path: Path) -> None:
    root = list_site(tmp_path)
    box = str(write_mbox(tmp_path / "in.mbox", [mail("ann@example.com", f"letters@{DOMAIN}", "Subscribe")]))
    unsigned = CliRunner(env={"LESSONPRESS_SECRET": ""}).invoke(main, ["--site", str(root), "inbox", box])
    assert unsigned.exit_code == 1 and unsigned.stdout == ""
    assert unsigned.stderr.startswith("LESSONPRESS_SECRET: is not set: export the secret 'lessonpress send' signs tokens with")
    assert unsigned.stderr.strip().endswith("inbox pass stopped: nothing was handled")

    record = root / ".lessonpress" / "inbox.sqlite"
    record.write_bytes(b"not a database at all")
    damaged = run(root, box)
    assert damaged.exit_code == 1 and "Traceback" not in damaged.output
    assert damaged.stderr.startswith(".lessonpress/inbox.sqlite: is not an SQLite database")
    assert record.read_bytes() == b"not a database at all" and status_of(root, "ann@example.com") == "absent"


def test_a_flood_of_subscribe_requests_sends_at_most_a_hundred_confirmations_a_pass(tmp_path: Path, relay: tuple[Recorder, dict[str, str]]) -> None:
    recorder, env = relay
    root = list_site(tmp_path)
    flood = [raw_mail(number, f"stranger{number}@example.net", f"letters@{DOMAIN}", "Subscribe") for number in range(105)]
    box = str(write_mbox(tmp_path / "flood.mbox", flood))
    first = run(root, box, env=env)
    assert "105 subscribed (100 confirmations sent)" in summary(first) and len(recorder.messages) == 100
    assert "stranger104@example.net is pending: 100 confirmations went out in this pass, the most one pass sends; the next pass sends this one" in first.stdout
    second = run(root, box, env=env)
    assert "0 subscribed (5 confirmations sent)" in summary(second) and "100 already handled" in summary(second)
    assert len(recorder.messages) == 105 and len({recipients for recipients, _ in recorder.messages}) == 105


def test_subscribe_confirm_receive_then_unsubscribe_through_that_very_message(tmp_path: Path, imap_server: ImapServer, relay: tuple[Recorder, dict[str, str]]) -> None:
    """Issue 21's loop, all real: Dovecot IMAP in, aiosmtpd out, the sent lesson's own List-Unsubscribe mailto used to leave."""
    recorder, env = relay
    root = list_site(tmp_path)
    add_readers(root, "lee@example.org")
    env = {**env, PASSWORD_VARIABLE: PASSWORD, "LESSONPRESS_SECRET": SECRET}
    source = imap_server.url("Loop")

    def send(lesson: str) -> list[EmailMessage]:
        before = len(recorder.messages)
        sent = CliRunner(env=env).invoke(main, ["--site", str(root), "send", lesson, "--now", "2026-11-01T09:00:00+00:00"])
        assert sent.exit_code == 0, sent.output
        return [message for _, message in recorder.messages[before:]]

    imap_server.deliver("Loop", [mail("Dana Reed <dana@example.net>", f"letters@{DOMAIN}", "Subscribe")])
    assert run(root, source, env=env).exit_code == 0
    imap_server.deliver("Loop", [reply_to(only_confirmation(recorder, "dana@example.net"), "Dana Reed <dana@example.net>")])
    assert "confirmed dana@example.net: now active" in run(root, source, env=env).stdout

    first = {str(message["To"]): message for message in send("retention/why-customers-leave")}
    assert set(first) == {"dana@example.net", "lee@example.org"}
    links = re.findall(r"<([^>]+)>", str(first["dana@example.net"]["List-Unsubscribe"]))
    [mailto] = [link for link in links if link.startswith("mailto:")]
    address, _, query = mailto.removeprefix("mailto:").partition("?")
    assert address == f"letters+unsubscribe-{make_token(SECRET, 'dana@example.net', 'unsubscribe')}@{DOMAIN}"
    assert query == "subject=Unsubscribe"

    # What Gmail's "Unsubscribe" button sends for a mailto: a message to that address, nothing else asked of the reader.
    imap_server.deliver("Loop", [mail("dana@example.net", address, "Unsubscribe")])
    left = run(root, source, env=env)
    assert left.exit_code == 0, left.output
    assert "1 unsubscribed" in summary(left) and status_of(root, "dana@example.net") == "unsubscribed"

    second = send("retention/the-first-ninety-days")
    assert [str(message["To"]) for message in second] == ["lee@example.org"]
