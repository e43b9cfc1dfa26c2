"""The .eml writer's own header and quoted-printable encoding, checked against the email package's."""

from __future__ import annotations

import email
import random
import re
import string
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import copy_example_lessons
from lessonpress.build import BuildResult, build
from lessonpress.errors import SiteFailed
from lessonpress.render.emails import (
    _HTML_HEADERS,
    _ONE_CLICK,
    _TEXT_HEADERS,
    Mailer,
    Recipient,
    _header,
    _plain_header,
    _quoted_printable,
)
from lessonpress.site.model import BuildOptions

NOW = datetime(2027, 1, 1, tzinfo=UTC)
TOKEN_URL = "https://retention.example.org/unsubscribe?email=ana%40example.com&token=" + "0123456789abcdef" * 4


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    root = tmp_path_factory.mktemp("example") / "site"
    root.mkdir()
    copy_example_lessons(root)
    return build(root, BuildOptions(now=NOW), output=root / "output")


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def sample_values(rng: random.Random) -> list[tuple[str, str]]:
    """Header values of the plain forms, short and long, and some that are not plain."""
    atext = string.ascii_letters + string.digits + "_-"
    printable = "".join(chr(code) for code in range(0x21, 0x7F))

    def atom(longest: int) -> str:
        return "".join(rng.choice(atext) for _ in range(rng.randint(1, longest)))

    values = []
    for _ in range(300):
        local = ".".join(atom(14) for _ in range(rng.randint(1, 5)))
        domain = ".".join(atom(14).replace("_", "") or "a" for _ in range(rng.randint(1, 5)))
        values += [("Message-ID", f"<{local}@{domain}>"), ("Reply-To", f"{local}+x@{domain}"), ("To", f"{local}@{domain}")]
        words = ["".join(rng.choice(printable) for _ in range(rng.randint(1, 14))) for _ in range(rng.randint(1, 9))]
        values.append(("Subject", " ".join(words)))
        url = "".join(rng.choice(printable.replace("<", "").replace(">", "")) for _ in range(rng.randint(1, 58)))
        values.append(("List-Unsubscribe", f"<{url}>"))
        zone = rng.choice([UTC, ZoneInfo("Europe/London"), ZoneInfo("America/St_Johns"), timezone(timedelta(hours=-11))])
        values.append(("Date", format_datetime(datetime(rng.randint(1971, 2099), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), tzinfo=zone))))
    values += [
        ("Subject", "[Rétention] Où partent les clients ?"),
        ("Subject", "=?utf-8?q?Bcc=3A?= hidden"),
        ("Subject", "A subject " + "long " * 20),
        ("Reply-To", "jörg@example.org"),
        ("Message-ID", "<not valid@example.org>"),
        ("List-Unsubscribe", "<https://exämple.org/unsubscribe>"),
        ("List-Unsubscribe", "<https://example.org/u?x==?utf-8?q?y?=>"),
    ]
    return values


def test_plain_headers_are_written_as_the_email_package_writes_them() -> None:
    for name, value in sample_values(random.Random(20270101)):
        if name == "List-Unsubscribe" and len(name) + 2 + len(value) > 78:
            continue  # kept whole on purpose, see the next test
        assert _plain_header(name, value) == _header(name, value), (name, value)


def test_a_long_list_unsubscribe_url_stays_whole_and_reads_back_the_same(built: BuildResult) -> None:
    data = Mailer(built.site).message_bytes(built.site.issues[0], Recipient(email="ana@example.com", unsubscribe_url=TOKEN_URL))
    assert f"\r\nList-Unsubscribe: <{TOKEN_URL}>\r\n".encode() in data  # not RFC 2047-encoded, not folded
    assert parse(data)["List-Unsubscribe"] == f"<{TOKEN_URL}>"
    assert parse(data)["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_no_value_becomes_a_header_of_its_own(built: BuildResult) -> None:
    mailer = Mailer(built.site)
    sneaky = Recipient(email="ana@example.com", unsubscribe_url="https://example.org/u\r\nBcc: victim@example.com", message_id="<a@example.org>\nBcc: victim@example.com")
    message = parse(mailer.message_bytes(built.site.issues[0], sneaky))
    assert message["Bcc"] is None
    assert message["List-Unsubscribe"] == "<https://example.org/u Bcc: victim@example.com>"
    with pytest.raises(SiteFailed, match="not a plain email address"):
        mailer.message_bytes(built.site.issues[0], Recipient(email="ana@example.com\n"))
    for name in ("To", "Reply-To", "Subject", "Date", "Message-ID", "List-Unsubscribe"):
        for value in ("<a@example.org>\r\nBcc: victim@example.com", "a@example.org\n"):
            with pytest.raises(ValueError, match="may not contain a line break"):
                _plain_header(name, value)


def test_quoted_printable_lines_are_short_and_decode_to_the_text() -> None:
    text = "".join([
        "First line\n", ".\n", ".starts with a dot\n", "From the start of a line\n", "trailing spaces   \n", "trailing tab\t\n",
        "a = sign and =3D\n", "lone CR\rends a line\r\n", "Ünïcödé ☃ 💌 — ok\n", "\n", "x" * 200 + "\n", "y " * 120 + "\n",
        "z" * 75 + " \n", "\x00\x0c control\n", "no newline at the end",
    ])
    encoded = _quoted_printable(text)
    lines = encoded.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) <= 76 for line in lines)
    assert b"\n" not in encoded.replace(b"\r\n", b"") and b"\r" not in encoded.replace(b"\r\n", b"")
    assert all(not line.endswith((b" ", b"\t")) for line in lines)
    head = b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    # The parser keeps the CRLF line ends of the bytes it read.
    assert parse(head + encoded).get_content() == text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n") + "\r\n"


@pytest.mark.parametrize("recipient", [
    Recipient(),
    Recipient(email="ana@example.com", name="Ana", unsubscribe_url=TOKEN_URL),
    Recipient(email="bo@example.com", name="Bö Ünïcödé", unsubscribe_url="mailto:leave@retention.example.org?subject=Unsubscribe%20me"),
    Recipient(email="cy@example.com", message_id="<1700000000.123.456789@retention.example.org>"),
    Recipient(email="di@example.com", unsubscribe_url="https://exämple.org/ünsubscribe", message_id="not <a> message id"),
])
def test_message_object_writes_the_same_bytes_and_reads_the_same(built: BuildResult, recipient: Recipient) -> None:
    mailer = Mailer(built.site)
    date = datetime(2027, 2, 3, 9, 30, tzinfo=UTC)
    for issue in built.site.issues:
        message = mailer.message(issue, recipient, date=date)
        data = mailer.message_bytes(issue, recipient, date=date)
        assert message.as_bytes() == data
        assert all(len(line) <= 998 for line in data.split(b"\r\n"))
        parsed = parse(data)
        assert [(name, str(value)) for name, value in message.items()] == [(name, str(value)) for name, value in parsed.items()]
        # The object holds LF line ends, as set_content leaves them; the parser keeps the CRLF of the bytes it read.
        assert [part.get_content() for part in message.get_payload()] == [part.get_content().replace("\r\n", "\n") for part in parsed.get_payload()]
        assert parsed["Message-ID"] == mailer.message_id(issue, recipient) or not re.fullmatch(r"<\S+@\S+>", mailer.message_id(issue, recipient))
        assert parsed["Subject"] == mailer.subject(issue)


def test_long_message_id_is_not_given_a_leading_space(built: BuildResult) -> None:
    mailer = Mailer(built.site)
    issue = max(built.site.issues, key=lambda issue: len(issue.lesson.series + issue.lesson.slug))
    assert len(mailer.message_id(issue, Recipient())) > 78 - len("Message-ID: ")
    assert parse(mailer.message_bytes(issue))["Message-ID"] == mailer.message_id(issue, Recipient())


def test_fixed_headers_are_as_the_email_package_writes_them(built: BuildResult) -> None:
    for name, value in (*_TEXT_HEADERS, *_HTML_HEADERS, _ONE_CLICK):
        assert _header(name, value) == (name, value)
    data = Mailer(built.site).message_bytes(built.site.issues[0])
    content_type = re.search(rb"\r\nContent-Type: (multipart/alternative;\r\n [^\r]*)\r\n", data)
    assert content_type
    written = content_type.group(1).decode()
    assert _header("Content-Type", written.replace("\r\n", "")) == ("Content-Type", written)
