"""The send ledger: states survive re-opening, a dead run's `sending` rows become `uncertain`."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessonpress.errors import SendFailed
from lessonpress.send.ledger import INTERRUPTED, LEDGER_PATH, Ledger, send_lock
from lessonpress.send.smtp import RateLimiter

LESSON = "retention/why-customers-leave"


def test_rows_are_queued_once_and_states_survive_reopening(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path)
    ledger.enqueue([(LESSON, "a@example.org"), (LESSON, "b@example.org")])
    ledger.mark(LESSON, "a@example.org", "sent", "250 OK", attempt=True)
    ledger.enqueue([(LESSON, "a@example.org"), (LESSON, "c@example.org")])  # a re-run must not reset a sent row
    ledger.close()

    reopened = Ledger.open(tmp_path)
    assert [(row.email, row.state, row.attempts, row.reply) for row in reopened.rows([LESSON])] == [
        ("a@example.org", "sent", 1, "250 OK"),
        ("b@example.org", "queued", 0, ""),
        ("c@example.org", "queued", 0, ""),
    ]
    assert reopened.counts() == {LESSON: {"queued": 2, "sending": 0, "sent": 1, "failed": 0, "uncertain": 0, "skipped": 0}}
    assert (tmp_path / LEDGER_PATH).is_file()
    reopened.close()


def test_a_row_left_in_sending_becomes_uncertain_and_can_be_requeued(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path)
    ledger.enqueue([(LESSON, "a@example.org"), (LESSON, "b@example.org")])
    ledger.mark(LESSON, "a@example.org", "sending")
    ledger.close()  # as if the process had died here

    ledger = Ledger.open(tmp_path)
    assert ledger.recover() == 1
    [row] = [row for row in ledger.rows() if row.state == "uncertain"]
    assert (row.email, row.reply) == ("a@example.org", INTERRUPTED)
    ledger.requeue_uncertain([(LESSON, "a@example.org"), (LESSON, "b@example.org")])
    assert {row.email: row.state for row in ledger.rows()} == {"a@example.org": "queued", "b@example.org": "queued"}
    ledger.close()


def test_read_only_opening_of_a_missing_ledger_creates_nothing(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path, read_only=True)
    assert ledger.rows() == [] and ledger.counts() == {}
    ledger.close()
    assert not (tmp_path / ".lessonpress").exists()


def test_two_sends_for_one_site_cannot_run_at_once(tmp_path: Path) -> None:
    with send_lock(tmp_path):
        with pytest.raises(SendFailed, match="another lessonpress send is running"):
            with send_lock(tmp_path):
                pass
    with send_lock(tmp_path):  # released when the first run ends
        pass


def test_the_rate_limiter_spaces_messages_evenly() -> None:
    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(4, clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        limiter.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]
    unlimited = RateLimiter(None, clock=lambda: clock[0], sleep=sleep)
    unlimited.wait()
    assert len(slept) == 4
