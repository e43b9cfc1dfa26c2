"""`lessonpress inbox`: the list keeps itself by mail, against real mbox and Maildir files, Dovecot and aiosmtpd."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lessonpress.cli import main
from lessonpress.send.roster import Roster
from lessonpress.tokens import make_token
from test_send_support import Recorder, make_site, smtp_server

SECRET = "lessonpress-test-secret"  # the bounce samples' tokens were made with it
DOMAIN = "retention.example.org"
SAMPLES = Path(__file__).parent / "data" / "bounces"
LIST_SETTINGS = f"""
[list]
address = "letters@{DOMAIN}"
unsubscribe_address = "unsubscribe+{{token}}@{DOMAIN}"
confirm_address = "confirm+{{token}}@{DOMAIN}"
soft_bounces = 2
soft_bounce_days = 30
"""


def list_site(tmp_path: Path) -> Path:
    """The example site with [list] addresses on one mailbox and a VERP bounce address."""
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


def write_mbox(path: Path, mails: list[EmailMessage | bytes]) -> Path:
    box = mailbox.mbox(path)
    for item in mails:
        box.add(item)
    box.flush()
    box.close()
    return path


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
