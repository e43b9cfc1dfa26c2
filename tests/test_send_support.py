"""Shared pieces of the send tests: a real aiosmtpd server with fault handlers, a site copy, a list."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from aiosmtpd.controller import Controller

from conftest import copy_example_lessons
from lessonpress.send.campaign import SendReport, SendRequest, send
from lessonpress.send.smtp import SmtpSettings

LESSON = "retention/why-customers-leave"
SECRET = "test-secret-not-for-production"
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every message it accepts; subclasses add faults."""

    messages: list[tuple[tuple[str, ...], EmailMessage]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def keep(self, envelope) -> None:
        parsed = email.message_from_bytes(envelope.content, policy=default)
        with self.arrived:
            self.messages.append((tuple(envelope.rcpt_tos), parsed))
            self.arrived.notify_all()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.keep(envelope)
        return "250 2.0.0 OK"

    def copies(self) -> Counter[str]:
        """How many messages each address received (envelope recipients)."""
        with self.arrived:
            return Counter(rcpt.lower() for rcpts, _ in self.messages for rcpt in rcpts)

    def wait_for(self, count: int, timeout: float = 60) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(handler: Recorder) -> Iterator[SmtpSettings]:
    """Run a real SMTP server on 127.0.0.1 and yield the settings to reach it."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpSettings(host="127.0.0.1", port=controller.port, implicit_tls=False)
    finally:
        controller.stop()


def make_site(tmp_path: Path) -> Path:
    """Copy the example site (config and lessons) into tmp_path."""
    root = tmp_path / "site"
    root.mkdir()
    copy_example_lessons(root)
    return root


def write_list(path: Path, rows: list[str], header: str = "email,name,subscribed_at,status") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def many(count: int, prefix: str = "reader") -> list[str]:
    return [f"{prefix}{number}@example.org,Reader {number},2026-01-01," for number in range(count)]


def run_send(root: Path, list_path: Path, settings: SmtpSettings | None, **options: object) -> SendReport:
    """Call the library the way `lessonpress send` does, with fast retries."""
    values: dict[str, object] = {"lesson": LESSON, "now": NOW, "secret": SECRET, "retry_delay": 0.01}
    values.update(options)
    return send(SendRequest(root=root, list_path=list_path, **values), settings)  # type: ignore[arg-type]


async def pause(seconds: float) -> None:
    """Yield to the server's event loop (a slow relay), without blocking other sessions."""
    await asyncio.sleep(seconds)
