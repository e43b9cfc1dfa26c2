"""Sends that go wrong: dropped connections, 4xx and 5xx relays, and a sender killed mid-run."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from lessonpress.cli import main
from lessonpress.send.ledger import Ledger
from test_send_support import (
    LESSON,
    NOW,
    SECRET,
    Recorder,
    make_site,
    many,
    pause,
    run_send,
    smtp_server,
    write_list,
)


class DropsAfterEvery(Recorder):
    """Closes the connection right after every `every`-th accepted message (after its 250)."""

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every = every

    async def handle_DATA(self, server, session, envelope) -> str:
        self.keep(envelope)
        if len(self.messages) % self.every == 0:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 2.0.0 OK"


class DropsBeforeReplying(Recorder):
    """Keeps the message to `victim`, then drops the connection before answering: the classic ambiguity."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim = victim

    async def handle_DATA(self, server, session, envelope) -> str:
        self.keep(envelope)
        if self.victim in envelope.rcpt_tos and self.copies()[self.victim] == 1:
            server.transport.abort()
        return "250 2.0.0 OK"


class Greylists(Recorder):
    """Answers 451 to each recipient's first RCPT and, separately, to its first DATA; then accepts."""

    def __init__(self) -> None:
        super().__init__()
        self.tries: Counter[str] = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        self.tries[f"rcpt {address}"] += 1
        if self.tries[f"rcpt {address}"] == 1:
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        address = envelope.rcpt_tos[0]
        self.tries[f"data {address}"] += 1
        if self.tries[f"data {address}"] == 1:
            return "452 4.3.1 Insufficient storage right now"
        self.keep(envelope)
        return "250 2.0.0 OK"


class Refuses(Recorder):
    """Rejects some addresses for good (5xx), or for now (4xx) while `busy` is set."""

    def __init__(self, unknown: set[str], busy: set[str]) -> None:
        super().__init__()
        self.unknown, self.busy = unknown, busy

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.unknown:
            return "550 5.1.1 No such mailbox here"
        if address in self.busy:
            return "450 4.2.1 Mailbox busy"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class Slow(Recorder):
    """Keeps each message, then takes a while to answer, so a sender can be killed mid-transaction."""

    async def handle_DATA(self, server, session, envelope) -> str:
        self.keep(envelope)
        await pause(0.05)
        return "250 2.0.0 OK"


def states(root: Path) -> dict[str, str]:
    ledger = Ledger.open(root)
    try:
        return {row.email: row.state for row in ledger.rows()}
    finally:
        ledger.close()


def test_a_relay_that_drops_the_connection_every_k_messages(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(30))
    handler = DropsAfterEvery(7)
    with smtp_server(handler) as settings:
        report = run_send(root, listed, settings, connections=2)
    assert (report.sent, len(report.failed), len(report.uncertain), len(report.deferred)) == (30, 0, 0, 0)
    assert len(handler.copies()) == 30 and set(handler.copies().values()) == {1}


def test_a_drop_between_data_and_reply_is_uncertain_and_not_resent_unless_asked(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(10))
    victim = "reader3@example.org"
    handler = DropsBeforeReplying(victim)
    with smtp_server(handler) as settings:
        first = run_send(root, listed, settings)
        second = run_send(root, listed, settings)
        assert handler.copies()[victim] == 1
        third = run_send(root, listed, settings, resend_uncertain=True)
    assert (first.sent, [row.email for row in first.uncertain]) == (9, [victim])
    assert "connection lost while the message was being accepted" in first.uncertain[0].reply
    assert (second.sent, second.already_sent, len(second.uncertain)) == (0, 9, 1)
    assert (third.sent, len(third.uncertain)) == (1, 0)
    copies = [message for rcpts, message in handler.messages if rcpts == (victim,)]
    assert len(copies) == 2 and copies[0]["Message-ID"] == copies[1]["Message-ID"]  # so the mailbox can fold the duplicate
    assert all(count == 1 for address, count in handler.copies().items() if address != victim)


def test_a_relay_answering_4xx_then_2xx_gets_every_message_once(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(12))
    handler = Greylists()
    with smtp_server(handler) as settings:
        report = run_send(root, listed, settings, connections=3)
    assert (report.sent, len(report.failed), len(report.deferred)) == (12, 0, 0)
    assert set(handler.copies().values()) == {1} and len(handler.copies()) == 12
    ledger = Ledger.open(root)
    assert {row.attempts for row in ledger.rows()} == {3}  # RCPT 451, DATA 452, then 250
    ledger.close()


def test_permanent_failures_are_listed_and_transient_ones_wait_for_the_next_run(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(4))
    handler = Refuses(unknown={"reader1@example.org"}, busy={"reader2@example.org"})
    with smtp_server(handler) as settings:
        first = run_send(root, listed, settings, max_attempts=3)
        handler.busy.clear()
        second = run_send(root, listed, settings)
    assert [(row.email, row.reply) for row in first.failed] == [("reader1@example.org", "550 5.1.1 No such mailbox here")]
    assert [(row.email, row.attempts, row.reply) for row in first.deferred] == [("reader2@example.org", 3, "450 4.2.1 Mailbox busy")]
    assert "deferred 1 (retried on the next run)" in first.summary()
    assert (second.sent, second.already_sent, len(second.failed), len(second.deferred)) == (1, 2, 1, 0)
    assert handler.copies() == Counter({"reader0@example.org": 1, "reader2@example.org": 1, "reader3@example.org": 1})
    shown = CliRunner().invoke(main, ["-C", str(root), "sends", LESSON])
    assert "failed: retention/why-customers-leave to reader1@example.org (1 attempt): 550 5.1.1 No such mailbox here" in shown.output


def _sender(root: Path, listed: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "LESSONPRESS_SMTP_URL": f"smtp://127.0.0.1:{port}", "LESSONPRESS_SECRET": SECRET}
    command = [sys.executable, "-m", "lessonpress", "-C", str(root), "send", LESSON, "--list", str(listed), "--now", NOW.isoformat(), *extra]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_sender_killed_with_sigkill_resumes_without_second_copies(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(24))
    handler = Slow()
    with smtp_server(handler) as settings:
        killed = _sender(root, listed, settings.port, "--connections", "2")
        assert handler.wait_for(6), killed.communicate()
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        resumed = _sender(root, listed, settings.port)
        out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    ledger = states(root)
    uncertain = {address for address, state in ledger.items() if state == "uncertain"}
    assert len(uncertain) <= 2  # at most the message in hand on each of the two connections
    assert {state for address, state in ledger.items() if address not in uncertain} == {"sent"}
    copies = handler.copies()
    for number in range(24):
        address = f"reader{number}@example.org"
        assert copies[address] == 1 or (address in uncertain and copies[address] == 0), address
    assert f"uncertain {len(uncertain)} in" in out


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_finishes_the_message_in_hand_and_leaves_nothing_uncertain(tmp_path: Path, stop: signal.Signals) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", many(16))
    handler = Slow()
    with smtp_server(handler) as settings:
        stopped = _sender(root, listed, settings.port)
        assert handler.wait_for(4), stopped.communicate()
        stopped.send_signal(stop)
        out, err = stopped.communicate(timeout=60)
        assert stopped.returncode == 130, err
        assert "interrupted: run the same command again to resume" in out
        assert set(states(root).values()) <= {"sent", "queued"}
        resumed = _sender(root, listed, settings.port)
        resumed.communicate(timeout=120)
    assert set(states(root).values()) == {"sent"}
    assert len(handler.copies()) == 16 and set(handler.copies().values()) == {1}
