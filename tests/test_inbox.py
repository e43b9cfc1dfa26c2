"""Mail sources: real mbox files and Maildir folders, good and broken."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from lessonpress.mail.sources import InboxFailed, read_source


def message(sender: str, subject: str, body: str, date: str = "Wed, 14 Jan 2026 08:00:00 +0000") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "Letters <lessons+why@example.org>, other@example.org"
    mail["Subject"] = subject
    mail["Date"] = date
    mail.set_content(body)
    return mail


def test_mbox_letters_know_their_line_and_text(tmp_path: Path) -> None:
    path = tmp_path / "in.mbox"
    box = mailbox.mbox(path)
    box.add(message("Ana Lima <Ana@Example.com>", "=?utf-8?q?Caf=C3=A9?=", "Hello\nFrom the top of the body\n"))
    box.add(message("ben@example.com", "Second", "x"))
    box.flush()
    inbox = read_source(str(path))
    first, second = inbox.letters
    assert first.where == f"{path}:1" and second.where.startswith(f"{path}:") and second.position == 1
    assert (first.sender, first.name, first.subject) == ("ana@example.com", "Ana Lima", "Café")
    assert first.recipients == ("lessons+why@example.org", "other@example.org")
    # mailbox.mbox escapes a body line starting with "From "; it must not split the message, and reads back unescaped.
    assert first.first_lines() == ("Hello", "From the top of the body")
    assert first.date is not None and first.date.isoformat() == "2026-01-14T08:00:00+00:00"


def test_first_lines_stop_at_quotes_attribution_and_signature() -> None:
    from lessonpress.mail.sources import Letter

    text = "> old quote first\n\nMy  answer,\nin two lines.\n\nOn Tue, 13 Jan 2026, Clara wrote:\n> quoted\n-- \nAna\n"
    letter = Letter("x", 0, "a@b.c", "", (), "", None, text)
    assert letter.first_lines() == ("My answer,", "in two lines.")
    signed = Letter("x", 0, "a@b.c", "", (), "", None, "Short.\n-- \nAna Lima, CEO\n")
    assert signed.first_lines() == ("Short.",)


def test_html_only_and_unknown_charset_bodies_are_read(tmp_path: Path) -> None:
    path = tmp_path / "in.mbox"
    html = EmailMessage()
    html["From"] = "a@example.com"
    html["Subject"] = "html"
    html.set_content("<p>Only <b>HTML</b> here</p>", subtype="html")
    raw = b"From: b@example.com\r\nSubject: odd charset\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\ncaf\xc3\xa9\r\n"
    box = mailbox.mbox(path)
    box.add(html)
    box.add(raw)
    box.flush()
    first, second = read_source(str(path)).letters
    assert first.first_lines() == ("Only", "HTML", "here")
    assert second.first_lines() == ("café",)


def test_maildir_reads_new_and_cur_in_name_order(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Mail", create=True)
    box.add(mailbox.MaildirMessage(message("a@example.com", "one", "1")))
    seen = mailbox.MaildirMessage(message("b@example.com", "two", "2"))
    seen.set_subdir("cur")
    seen.add_flag("S")
    box.add(seen)
    inbox = read_source(str(tmp_path / "Mail"))
    assert sorted(letter.subject for letter in inbox.letters) == ["one", "two"]
    assert read_source(str(tmp_path / "Mail")) == inbox, "the same folder reads the same way every time"


def test_unreadable_messages_are_counted_skips_and_the_rest_survive(tmp_path: Path) -> None:
    path = tmp_path / "in.mbox"
    box = mailbox.mbox(path)
    box.add(b"Subject: nobody sent this\r\n\r\nx\r\n")
    box.add(message("ok@example.com", "fine", "x"))
    box.flush()
    path.write_bytes(b"garbage line\n" + path.read_bytes())
    inbox = read_source(str(path))
    assert [letter.subject for letter in inbox.letters] == ["fine"]
    assert [str(skip) for skip in inbox.skipped] == [
        f"{path}:1: skipped text that is not a message (it comes before any 'From ' line)",
        f"{path}:2: skipped, cannot read this message: no sender address in From",
    ]


def test_empty_mbox_is_empty(tmp_path: Path) -> None:
    (tmp_path / "empty.mbox").write_bytes(b"")
    inbox = read_source(str(tmp_path / "empty.mbox"))
    assert inbox.letters == () and inbox.skipped == ()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda root: root / "missing", "missing: not found: give an mbox file, a Maildir folder or an imaps://user@host/FOLDER URL"),
        (lambda root: (root / "plain").mkdir() or root / "plain", "plain: is not a Maildir folder (it needs cur/ and new/ inside)"),
        (lambda root: (root / "x.json").write_bytes(b'{"a": 1}\n') and root / "x.json", "x.json:1: is not an mbox file: no line starts with 'From '"),
    ],
)
def test_sources_that_cannot_be_read_are_clear_errors(tmp_path: Path, make, expected: str) -> None:
    with pytest.raises(InboxFailed) as caught:
        read_source(str(make(tmp_path)))
    assert expected in caught.value.format_message()
    assert caught.value.format_message().endswith("nothing was written")
