"""Deliver queued messages over parallel SMTP sessions, recording every step in the ledger."""

from __future__ import annotations

import heapq
import itertools
import queue
import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import SiteFailed
from ..site.model import Issue
from .ledger import Ledger, lesson_id
from .smtp import Outcome, RateLimiter, SmtpSettings, close, connect, transmit
from .subscribers import Subscriber

Composer = Callable[["Delivery"], "Composed"]


@dataclass(frozen=True)
class Composed:
    """A message ready to transmit: its envelope sender and its bytes, as `Mailer.message_bytes` writes them."""

    sender: str
    data: bytes


@dataclass(frozen=True)
class Delivery:
    """One message to deliver, and how many times this run has tried it."""

    issue: Issue
    subscriber: Subscriber
    attempt: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return lesson_id(self.issue), self.subscriber.key


class WorkQueue:
    """Jobs ready now or after a backoff; `take` returns None once nothing is left or the run stops."""

    def __init__(self, jobs: list[Delivery]) -> None:
        self._order = itertools.count()
        self._heap = [(0.0, next(self._order), job) for job in jobs]
        self._busy = 0
        self._stopped = False
        self._changed = threading.Condition()

    def take(self) -> Delivery | None:
        """Wait for the next ready job; None when the queue is drained and no job can come back."""
        with self._changed:
            while not self._stopped:
                if self._heap:
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        self._busy += 1
                        return heapq.heappop(self._heap)[2]
                    self._changed.wait(delay)
                elif self._busy:
                    self._changed.wait()  # a job in flight may come back for a retry
                else:
                    return None
            return None

    def finish(self, retry: Delivery | None = None, delay: float = 0.0) -> None:
        """Mark a taken job done, or put it back to be tried after `delay` seconds."""
        with self._changed:
            self._busy -= 1
            if retry is not None:
                heapq.heappush(self._heap, (time.monotonic() + delay, next(self._order), retry))
            self._changed.notify_all()

    def stop(self) -> None:
        """Let every worker finish its current message and take no more (Ctrl-C)."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()


def _anyone(address: str) -> str:
    """Refuse no one (a send without a list to ask)."""
    return ""


@dataclass(frozen=True)
class DeliveryOptions:
    """How to deliver: over which relay, how many sessions, how fast, how patiently, and whom to ask first."""

    smtp: SmtpSettings
    connections: int = 1
    rate: float | None = None
    retry_delay: float = 2.0
    max_attempts: int = 5
    refusal: Callable[[str], str] = _anyone  # why an address may not have its message now ("" if it may): `audience.ListCheck`


class _Worker:
    """One SMTP session working through the shared queue."""

    def __init__(self, work: WorkQueue, compose: Composer, ledger: Ledger, limiter: RateLimiter, options: DeliveryOptions, events: queue.Queue) -> None:
        self.work, self.compose, self.ledger, self.limiter, self.options, self.events = work, compose, ledger, limiter, options, events
        self.session: smtplib.SMTP | None = None

    def run(self) -> None:
        try:
            while (job := self.work.take()) is not None:
                outcome = self._try(job)
                self._record(job, outcome)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread, which re-raises it
            self.work.stop()
            self.events.put(("error", error))
        finally:
            close(self.session)
            self.events.put(("done", None))

    def _try(self, job: Delivery) -> Outcome:
        lesson, address = job.key
        try:
            message = self.compose(job)
        except SiteFailed as error:
            return Outcome("failed", f"could not be rendered: {error.format_message()}")
        try:
            if self.session is None:
                self.session = connect(self.options.smtp)
        except (smtplib.SMTPException, OSError) as error:
            return Outcome("retry", f"cannot connect: {error}", reconnect=True)
        self.limiter.wait()
        # Asked as late as can be: the reader may have unsubscribed since the run began, or since the last message.
        refused = self.options.refusal(job.subscriber.email)
        if refused:
            return Outcome("skipped", refused)
        # `sending` is committed before DATA: if we die from here on, the next run reports `uncertain`.
        return transmit(
            self.session, message.sender, job.subscriber.email, message.data,
            lambda: self.ledger.mark(lesson, address, "sending"),
        )

    def _record(self, job: Delivery, outcome: Outcome) -> None:
        lesson, address = job.key
        if outcome.reconnect:
            close(self.session)
            self.session = None
        if outcome.state == "retry" and job.attempt + 1 < self.options.max_attempts:
            self.ledger.mark(lesson, address, "queued", outcome.reply, attempt=True)
            self.work.finish(replace(job, attempt=job.attempt + 1), self.options.retry_delay * 2**job.attempt)
            return
        # A skipped message was never offered to the relay: no attempt is counted.
        state = "queued" if outcome.state == "retry" else outcome.state
        self.ledger.mark(lesson, address, state, outcome.reply, attempt=state != "skipped")
        self.work.finish()
        self.events.put(("outcome", outcome.state))


def deliver_all(jobs: list[Delivery], make_composer: Callable[[], Composer], options: DeliveryOptions, ledger: Ledger, progress: Callable[[int], None]) -> bool:
    """Deliver every job over `options.connections` sessions; return True if stopped by Ctrl-C."""
    work = WorkQueue(jobs)
    limiter = RateLimiter(options.rate)
    events: queue.Queue = queue.Queue()
    workers = [
        threading.Thread(target=_Worker(work, make_composer(), ledger, limiter, options, events).run, name=f"smtp-{number}", daemon=True)
        for number in range(min(options.connections, len(jobs)))
    ]
    for thread in workers:
        thread.start()
    running, interrupted, failure = len(workers), False, None
    while running:
        try:
            kind, value = events.get()
            if kind == "done":
                running -= 1
            elif kind == "error":
                failure = value
            else:
                progress(1)
        except KeyboardInterrupt:
            if interrupted:
                raise  # a second Ctrl-C quits now; a row caught in `sending` is reported `uncertain` next run
            # Workers finish the message in hand, so no row is left in `sending` by one Ctrl-C.
            interrupted = True
            work.stop()
    for thread in workers:
        thread.join()
    if failure is not None:
        raise failure
    return interrupted
