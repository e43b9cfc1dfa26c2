"""Shared pieces of the endpoint tests: a site with [list] endpoint, a relay that delivers the list's mail to a real Maildir,
and `lessonpress endpoint` running under waitress in a process of its own."""

from __future__ import annotations

import email
import http.client
import mailbox
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from test_inbox_pass import DOMAIN, LIST_SETTINGS
from test_send_support import Recorder, make_site

SRC = Path(__file__).parents[1] / "src"
SECRET = "endpoint-test-secret"
LIST_ADDRESS = f"letters@{DOMAIN}"
PUBLIC = "https://letters.example.org/list"


def endpoint_site(tmp_path: Path, public: str = PUBLIC) -> Path:
    """The example site with the README's [list] addresses and `endpoint` set to `public`."""
    root = make_site(tmp_path)
    config = root / "lessonpress.toml"
    config.write_text(config.read_text() + LIST_SETTINGS + f'endpoint = "{public}"\n')
    return root


class ListRelay(Recorder):
    """A relay that keeps every message and, like a mail host, delivers what is addressed to the list into a Maildir."""

    maildir: Path = Path()

    async def handle_DATA(self, server, session, envelope) -> str:
        if LIST_ADDRESS in [rcpt.lower() for rcpt in envelope.rcpt_tos]:
            box = mailbox.Maildir(self.maildir)
            box.add(email.message_from_bytes(envelope.content))
            box.close()
        self.keep(envelope)
        return "250 2.0.0 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.arrived:
            return [message for recipients, message in self.messages if address in recipients]

    def handoffs(self) -> int:
        return len(list(mailbox.Maildir(self.maildir)))


def environment(smtp_port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ, "PYTHONPATH": str(SRC), "PYTHONUNBUFFERED": "1", "LESSONPRESS_SECRET": SECRET,
        "LESSONPRESS_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", **extra,
    }


def lessonpress(root: Path, smtp_port: int, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run a lessonpress command in a process of its own, as cron would."""
    return subprocess.run(
        [sys.executable, "-m", "lessonpress", "-C", str(root), *arguments],
        capture_output=True, text=True, env=environment(smtp_port), check=False, timeout=300,
    )


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


@dataclass
class Endpoint:
    """A running `lessonpress endpoint`, reached over HTTP on 127.0.0.1."""

    process: subprocess.Popen[str]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, target: str, body: bytes | str | None = None, headers: dict[str, str] | None = None,
                connection: http.client.HTTPConnection | None = None) -> Answer:
        """Send one request; `target` may be a public URL (as in a mail), whose path and query the proxy would pass on."""
        parts = urlsplit(target)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        own = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            own.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=headers or {})
            response = own.getresponse()
            return Answer(response.status, response.headers, response.read().decode("utf-8", "replace"))
        finally:
            if connection is None:
                own.close()

    def post_form(self, target: str, fields: dict[str, str], headers: dict[str, str] | None = None,
                  connection: http.client.HTTPConnection | None = None) -> Answer:
        """POST fields as a browser posts a form."""
        form = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", target, urlencode(fields), form, connection)


@contextmanager
def run_endpoint(root: Path, smtp_port: int, port: int = 0) -> Iterator[Endpoint]:
    """Start `lessonpress endpoint` under waitress (port 0: any free one); stop it with SIGTERM, as systemd does, and check it said goodbye."""
    process = subprocess.Popen(
        [sys.executable, "-m", "lessonpress", "-C", str(root), "endpoint", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(smtp_port),
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    if "listening on http://127.0.0.1:" not in first:
        process.kill()
        raise AssertionError(f"the endpoint did not start: {first}{process.communicate()[1]}")
    port = int(first.split("http://127.0.0.1:")[1].split("/")[0])
    try:
        yield Endpoint(process, port)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert out.strip().splitlines()[-1].startswith("Endpoint stopped after "), out


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message
