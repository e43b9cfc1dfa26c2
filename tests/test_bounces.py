"""Bounces and complaints: which reader, how hard and why, from real servers' formats and from hostile mail."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lessonpress.mail.bounces import READ_LIMIT, Bounce, Kind, read_bounce
from lessonpress.tokens import AddressTemplate, TokenIndex, make_token

SAMPLES = Path(__file__).parent / "data" / "bounces"
SECRET = "lessonpress-test-secret"  # the samples' tokens were made with it
TEMPLATE = AddressTemplate.parse("bounces+{token}@retention.example.org")
READERS = ["priya@example.com", "tom.baker@example.net", "ana.lima@gmail.com", "j.okafor@outlook.com", "old-reader@qmail.example.net", "busy@example.org", "reader@aol.com", "ana@example.com", "lee@example.org"]


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def read(name: str) -> Bounce | None:
    return read_bounce(sample(name), TEMPLATE)


@pytest.mark.parametrize(
    ("name", "kind", "reader", "status", "reason"),
    [
        ("postfix.eml", "hard", "priya@example.com", "5.1.1", "550 5.1.1 <priya@example.com>: Recipient address rejected: User unknown in virtual mailbox table"),
        ("exim.eml", "hard", "tom.baker@example.net", "5.1.1", "550 5.1.1 <tom.baker@example.net>: no such user here"),
        ("gmail.eml", "hard", "ana.lima@gmail.com", "5.1.1", "550-5.1.1 No account by that name exists here. Check the address for typos or stray spaces. Help: https://support.google.com/mail/?p=NoSuchUser a1b2c3d4e5-6f7a8b9c0d.11 - gsmtp"),
        ("outlook.eml", "hard", "j.okafor@outlook.com", "5.1.1", "550 5.1.1 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"),
        ("qmail.eml", "hard", "old-reader@qmail.example.net", "5.1.1", "No mailbox by that name is here. (#5.1.1)"),
        ("soft-mailbox-full.eml", "soft", "busy@example.org", "4.2.2", "452 4.2.2 <busy@example.org>: Mailbox full"),
        ("exim-delayed.eml", "soft", "tom.baker@example.net", "4.3.0", "451 4.3.0 Temporary local problem, please try later"),
        ("arf-complaint.eml", "complaint", "reader@aol.com", "", "abuse"),
    ],
)
def test_each_server_s_report_names_the_reader_by_address_and_by_token(name: str, kind: Kind, reader: str, status: str, reason: str) -> None:
    found = read(name)
    assert found == Bounce(kind, (reader,), make_token(SECRET, reader, "bounce"), status, reason)
    assert found is not None and TokenIndex(SECRET, READERS, "bounce").find(found.token or "") == reader


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.eml")), ids=lambda path: path.name)
def test_crlf_line_ends_as_imap_gives_them_read_the_same(path: Path) -> None:
    raw = path.read_bytes()
    assert read_bounce(raw.replace(b"\n", b"\r\n"), TEMPLATE) == read_bounce(raw, TEMPLATE)


MANGLE = """
import logging, random, sys
from pathlib import Path
from lessonpress.mail.bounces import read_bounce
from lessonpress.tokens import AddressTemplate

template = AddressTemplate.parse("bounces+{token}@retention.example.org")
randomness = random.Random(21)
samples = [path.read_bytes() for path in sorted(Path(sys.argv[1]).glob("*.eml"))]
pieces = [b"\\n", b"\\n--", b"\\x00", b"\\xff\\xfe", b";", b"=?utf-8?b?", b"--x\\n", b"<", b"@", b"\\r", b"From:\\n", b"Content-Transfer-Encoding: base64\\n"]
for _ in range(300):
    raw = bytearray(randomness.choice(samples))
    for _ in range(randomness.randint(1, 20)):
        at = randomness.randrange(len(raw) + 1)
        if randomness.random() < 0.5:
            raw[at:at] = randomness.choice(pieces)
        else:
            del raw[at : at + randomness.randint(1, 40)]
    read_bounce(bytes(raw), template)
# What flufl.bounce does when one of its detectors fails: log the traceback, then raise.
try:
    raise IndexError("a detector failed")
except IndexError:
    logging.getLogger("flufl.bounce").exception("Exception in detector")
"""


def test_mangled_reports_never_raise_nor_print() -> None:
    # In a process of its own: pytest's log capture would hide what a bare `lessonpress` prints.
    run = subprocess.run([sys.executable, "-c", MANGLE, str(SAMPLES)], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}, timeout=120)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


def test_a_free_form_bounce_without_a_sender_is_still_read() -> None:
    # Without a From, one of flufl.bounce's detectors fails and stops the rest; qmail's is after it.
    found = read_bounce(sample("qmail.eml").replace(b"From: MAILER-DAEMON@qmail.example.net\n", b""), TEMPLATE)
    assert found is not None and found.recipients == ("old-reader@qmail.example.net",)


def test_the_token_is_found_whatever_case_the_server_wrote_it_in() -> None:
    # gmail.eml's To header holds the token uppercased; Delivered-To, read first, holds it as sent.
    raw = sample("gmail.eml").replace(b"Delivered-To: bounces+be9c3a39823983e70969a1c8ecceb7978@retention.example.org\n", b"")
    found = read_bounce(raw, TEMPLATE)
    assert found is not None and found.token == make_token(SECRET, "ana.lima@gmail.com", "bounce")


def test_without_the_envelope_headers_the_token_comes_from_the_returned_message() -> None:
    raw = sample("postfix.eml").replace(b"Delivered-To:", b"X-Was-Delivered-To:").replace(b"\nTo: bounces+", b"\nX-Was-To: bounces+")
    found = read_bounce(raw, TEMPLATE)
    assert found is not None and found.token == make_token(SECRET, "priya@example.com", "bounce")


def test_without_a_template_a_bounce_still_names_its_reader_by_address() -> None:
    assert read_bounce(sample("postfix.eml")) == Bounce("hard", ("priya@example.com",), None, "5.1.1", "550 5.1.1 <priya@example.com>: Recipient address rejected: User unknown in virtual mailbox table")
    found = read_bounce(sample("qmail.eml"), AddressTemplate.parse("other+{token}@example.org"))
    assert found is not None and found.token is None


@pytest.mark.parametrize("name", ["out-of-office.eml", "reader-reply.eml"])
def test_an_auto_reply_or_a_reader_s_reply_is_not_a_bounce(name: str) -> None:
    # Both mention failed delivery and 5.1.1; the auto-reply even went to the VERP address.
    assert read(name) is None


def test_a_malformed_report_gives_what_it_can_and_never_an_error() -> None:
    # malformed-dsn.eml: a field block without Action, a recipient without an address, a status
    # of 9.9.9, an unknown charset and no closing boundary.
    assert read("malformed-dsn.eml") == Bounce("hard", ("ana@example.com",), make_token(SECRET, "ana@example.com", "bounce"), "5.1.1", "550 5.1.1 mailbox unknown")
    broken = [
        b"",
        b"\x00\xff" * 100,
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=\n\n--\n\n--",
        b"From: MAILER-DAEMON@x.example\nContent-Type: multipart/report; report-type=delivery-status; boundary=z\n\n--z\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n!!!\n--z--",
        b"From: MAILER-DAEMON@x.example\nContent-Type: multipart/report; report-type*=''%ZZ; boundary=z\n\n--z--",
        b"Content-Type: multipart/report; report-type=feedback-report\n\nno parts at all",
    ]
    for raw in broken:
        assert read_bounce(raw, TEMPLATE) is None, raw
    # Cut anywhere, every sample still reads without an error.
    for path in sorted(SAMPLES.glob("*.eml")):
        raw = path.read_bytes()
        for end in range(0, len(raw), 97):
            read_bounce(raw[:end], TEMPLATE)


def test_a_report_sent_with_a_transfer_encoding_is_read_too() -> None:
    fields = b"Reporting-MTA: dns; relay.example.com\n\nFinal-Recipient: rfc822; ana@example.com\nAction: failed\nStatus: 5.7.1\nDiagnostic-Code: smtp; 550 5.7.1 refused by policy\n"
    raw = (
        b"From: MAILER-DAEMON@relay.example.com\nTo: bounces+abc@retention.example.org\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=z\n\n"
        b"--z\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n" + base64.encodebytes(fields) + b"--z--\n"
    )
    assert read_bounce(raw, TEMPLATE) == Bounce("hard", ("ana@example.com",), "abc", "5.7.1", "550 5.7.1 refused by policy")


def test_the_most_severe_failure_of_a_report_counts_and_deliveries_do_not() -> None:
    fields = (
        "Final-Recipient: rfc822; delivered@example.com\nAction: delivered\nStatus: 2.0.0\n\n"
        "Final-Recipient: rfc822; slow@example.com\nAction: delayed\nStatus: 4.4.1\n\n"
        "Final-Recipient: rfc822; gone@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 gone\n"
    )
    raw = _report(fields)
    assert read_bounce(raw, TEMPLATE) == Bounce("hard", ("gone@example.com",), "b1", "5.1.1", "550 5.1.1 gone")
    only_delivered = _report("Final-Recipient: rfc822; delivered@example.com\nAction: delivered\nStatus: 2.0.0\n")
    assert read_bounce(only_delivered, TEMPLATE) is None
    # A full mailbox is soft even as 5.2.2, and a failure with a 4.x.x status (given up after retries) is soft.
    assert _kind_of("Final-Recipient: rfc822; full@example.com\nAction: failed\nStatus: 5.2.2\n") == "soft"
    assert _kind_of("Final-Recipient: rfc822; late@example.com\nAction: failed\nStatus: 4.4.7\n") == "soft"
    assert _kind_of("Final-Recipient: rfc822; x@example.com\nAction: failed\n") == "hard"


def test_the_original_recipient_is_the_reader_not_where_their_mail_was_forwarded() -> None:
    raw = _report("Original-Recipient: rfc822; reader@example.com\nFinal-Recipient: rfc822; reader@forward.example.net\nAction: failed\nStatus: 5.1.1\n")
    found = read_bounce(raw, TEMPLATE)
    assert found is not None and found.recipients == ("reader@example.com",)


def test_a_diagnostic_is_one_clean_line() -> None:
    raw = _report("Final-Recipient: rfc822; ana@example.com\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 no\x1b[31m \u202eway\n  550 still\tno\n".replace("\u202e", "\xe2\x80\xae"))
    found = read_bounce(raw, TEMPLATE)
    assert found is not None
    assert "\x1b" not in found.diagnostic and "\n" not in found.diagnostic and "\t" not in found.diagnostic
    assert found.diagnostic.startswith("550 no") and found.diagnostic.endswith("still no")


def test_a_complaint_needs_no_readable_recipient_and_not_spam_is_none() -> None:
    # Feedback loops often redact the recipient; the return path's token still names the reader.
    redacted = sample("arf-complaint.eml").replace(b"To: reader@aol.com", b"To: redacted")
    found = read_bounce(redacted, TEMPLATE)
    assert found == Bounce("complaint", (), make_token(SECRET, "reader@aol.com", "bounce"), "", "abuse")
    named = sample("arf-complaint.eml").replace(b"Version: 1\n", b"Version: 1\nOriginal-Rcpt-To: <Reader@AOL.com>\n")
    assert read_bounce(named, TEMPLATE) == Bounce("complaint", ("reader@aol.com",), make_token(SECRET, "reader@aol.com", "bounce"), "", "abuse")
    assert read_bounce(sample("arf-complaint.eml").replace(b"Feedback-Type: abuse", b"Feedback-Type: not-spam"), TEMPLATE) is None


def test_a_30_mb_bounce_is_read_from_its_start_and_30_mb_of_junk_is_nothing() -> None:
    gmail = sample("gmail.eml")
    cut = gmail.rindex(b"--000000000000d4c3b2a1f0e9--")
    attachment = b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" + b"QUJD" * 19 + b"\n"
    huge = gmail[:cut] + b"--000000000000d4c3b2a1f0e9\n" + attachment * (30 * 1024 * 1024 // len(attachment)) + gmail[cut:]
    assert len(huge) > 30 * 1024 * 1024 > READ_LIMIT
    found = read_bounce(huge, TEMPLATE)
    assert found is not None and (found.kind, found.recipients) == ("hard", ("ana.lima@gmail.com",))
    assert found.token == make_token(SECRET, "ana.lima@gmail.com", "bounce")
    head = b"From: MAILER-DAEMON@x.example\nSubject: Undeliverable\nTo: bounces+abc@retention.example.org\n\n"
    for junk in (b"rcpt to: <" * (3 * 1024 * 1024), b"a@" * (15 * 1024 * 1024), b"\n--x" * (8 * 1024 * 1024), b"To: a@b\n" * (4 * 1024 * 1024)):
        assert read_bounce(head + junk, TEMPLATE) is None


def _report(fields: str) -> bytes:
    return (
        "From: MAILER-DAEMON@relay.example.com\nTo: bounces+b1@retention.example.org\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=z\n\n"
        f"--z\nContent-Type: text/plain\n\nSee below.\n\n--z\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.example.com\n\n{fields}\n--z--\n"
    ).encode("latin-1")


def _kind_of(fields: str) -> str | None:
    found = read_bounce(_report(fields), TEMPLATE)
    return found.kind if found else None
