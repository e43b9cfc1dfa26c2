"""Send a lesson, or the due lessons of a course, to a subscriber list, recording each message in the ledger."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from pathlib import Path

from ..addresses import is_address
from ..build import prepare
from ..errors import SendFailed, SourceError
from ..render.emails import Mailer
from ..site.lookup import named_issue
from ..site.model import BuildOptions, Issue, Series, Site
from .audience import ListCheck, has_list, read_audience
from .delivery import Composed, Delivery, DeliveryOptions, deliver_all
from .drip import plan_course
from .ledger import Ledger, LedgerRow, lesson_id, send_lock
from .personal import compose, unsubscribe_page
from .roster import Roster
from .roster_file import LIST_PATH
from .smtp import SmtpSettings, close, connect, transmit
from .subscribers import Subscriber, read_suppressed

SECRET_VARIABLE = "LESSONPRESS_SECRET"
# A dry run may have no secret: its messages are rendered (to find what a real run would) and never leave.


@dataclass(frozen=True)
class SendRequest:
    """What `lessonpress send` was asked to do."""

    root: Path
    now: datetime
    list_path: Path | None = None
    lesson: str = ""  # a lesson file or `series/slug`
    course: str = ""  # a series slug: send each subscriber their due lesson
    suppress: Path | None = None
    secret: str = ""
    dry_run: bool = False
    resend_uncertain: bool = False
    catch_up: bool = False
    rate: float | None = None
    connections: int = 1
    retry_delay: float = 2.0
    max_attempts: int = 5


@dataclass(frozen=True)
class SendReport:
    """The outcome of one run, for the summary line and the lists after it."""

    what: str
    planned: tuple[tuple[str, str], ...]  # (lesson, address) this run sent or, in a dry run, would send
    sent: int
    already_sent: int
    skipped: int
    failed: tuple[LedgerRow, ...]
    uncertain: tuple[LedgerRow, ...]
    deferred: tuple[LedgerRow, ...]  # transient failures left queued for the next run
    left_out: tuple[LedgerRow, ...]  # readers the list stopped (unsubscribed, bounced…) while this run was sending
    waiting: int
    warnings: tuple[SourceError, ...]
    seconds: float
    dry_run: bool = False
    interrupted: bool = False

    def summary(self) -> str:
        """One line: what went, what did not, and how long it took."""
        if self.dry_run:
            head = f"Dry run for {self.what}: would send {len(self.planned)}"
        else:
            head = f"Sent {self.what}: sent {self.sent}"
        parts = [head]
        if self.already_sent:
            parts.append(f"already sent {self.already_sent}")
        parts += [f"skipped {self.skipped}", f"failed {len(self.failed)}", f"uncertain {len(self.uncertain)}"]
        if self.deferred:
            parts.append(f"deferred {len(self.deferred)} (retried on the next run)")
        if self.waiting:
            parts.append(f"not due yet {self.waiting}")
        rate = f" ({self.sent / self.seconds:.0f}/s)" if self.sent and self.seconds else ""
        line = ", ".join(parts) + f" in {self.seconds:.2f} s{rate}"
        return line + ("; interrupted: run the same command again to resume" if self.interrupted else "")


def _composer(site: Site, request: SendRequest) -> Callable[[Delivery], Composed]:
    """A composer with its own Mailer: each SMTP thread renders with its own templates and inliner."""
    mailer = Mailer(site)
    return lambda job: compose(mailer, job.issue, job.subscriber, request.secret, request.now)


def resolve_lesson(site: Site, root: Path, wanted: str, now: datetime) -> Issue:
    """Find a published lesson by file or `series/slug`; explain why a draft or a future lesson is not sent."""
    known = ", ".join(lesson_id(item) for item in sorted(site.issues, key=lesson_id))
    return named_issue(
        site, root, wanted, now, unknown=f"no such lesson: give its file (lessons/SERIES/NN-slug.md) or SERIES/SLUG, one of: {known}",
        draft="set draft: false before sending it", future="send it on or after that date", stop=SendFailed,
    )


def _check_site(site: Site, request: SendRequest) -> None:
    problems = []
    if not unsubscribe_page(site.config).startswith("https://") and not site.config.mailing.unsubscribe_address:
        problems.append(SourceError("lessonpress.toml", 0, "to send, set [list] endpoint or [email] unsubscribe_url to an https:// URL, or [list] unsubscribe_address (such as 'unsubscribe+{token}@example.org'): each message carries the reader's own way out"))
    # A dry run too: it must stop where the real send would.
    if not request.secret:
        problems.append(SourceError(SECRET_VARIABLE, 0, "is not set: export a long random value (e.g. from 'python -c \"import secrets; print(secrets.token_hex(32))\"'); it signs every reader's tokens (unsubscribe link and address, bounce address), so keep it the same for every send"))
    if problems:
        raise SendFailed(problems)


def send_test(request: SendRequest, settings: SmtpSettings, address: str) -> float:
    """Send one copy of a lesson to `address`, outside the ledger; return the seconds it took."""
    started = time.perf_counter()
    if not is_address(address):
        raise SendFailed([SourceError("--test-to", 0, f"'{address}' is not a plain email address like you@example.org")])
    site, _, _ = prepare(request.root, BuildOptions(now=request.now))
    _check_site(site, request)
    issue = resolve_lesson(site, request.root, request.lesson, request.now)
    mailer = Mailer(site)
    # A fresh Message-ID, so a second test copy is not hidden as a duplicate by the mailbox.
    message = compose(mailer, issue, Subscriber(email=address), request.secret, request.now, make_msgid(domain=site.config.domain))
    session = _open(settings)
    try:
        outcome = transmit(session, message.sender, address, message.data, lambda: None)
    finally:
        close(session)
    if outcome.state != "sent":
        raise SendFailed([SourceError(str(settings), 0, f"the relay did not take the test copy: {outcome.reply}")])
    return time.perf_counter() - started


def _open(settings: SmtpSettings) -> smtplib.SMTP:
    """Connect once up front, so a wrong host or password stops the run before any row changes."""
    try:
        return connect(settings)
    except Exception as error:  # noqa: BLE001 - every connection problem becomes one clear line
        raise SendFailed([SourceError(str(settings), 0, f"cannot connect or log in: {error}; check LESSONPRESS_SMTP_URL and LESSONPRESS_SMTP_PASSWORD")]) from None


@dataclass(frozen=True)
class _Target:
    """What a run sends: one lesson, or the lessons of a course."""

    what: str
    lessons: tuple[str, ...]
    issue: Issue | None = None
    series: Series | None = None


def _target(site: Site, request: SendRequest) -> _Target:
    if not request.course:
        issue = resolve_lesson(site, request.root, request.lesson, request.now)
        return _Target(lesson_id(issue), (lesson_id(issue),), issue=issue)
    series = next((item for item in site.series if item.info.slug == request.course), None)
    if series is None:
        raise SendFailed([SourceError(request.course, 0, f"no such series: use one of {', '.join(item.info.slug for item in site.series)}")])
    return _Target(f"course {series.info.slug}", tuple(lesson_id(issue) for issue in series.issues), series=series)


def _ignore(count: int) -> None:
    """Report nothing (the default for callers without a progress bar)."""


def send(
    request: SendRequest, settings: SmtpSettings | None, *,
    planned: Callable[[int], None] = _ignore, progress: Callable[[int], None] = _ignore,
) -> SendReport:
    """Plan, queue and deliver; resume whatever an earlier run left; return the report.

    `planned` gets the number of messages this run will try, then `progress` one call per message done.
    """
    started = time.perf_counter()
    # Messages are rendered per recipient below, so the build's own email files are not needed.
    site, _, _ = prepare(request.root, BuildOptions(now=request.now, include_future=bool(request.course)))
    _check_site(site, request)
    target = _target(site, request)
    suppressed = read_suppressed(request.suppress) if request.suppress else frozenset()
    # Rows in these states are (re)sent by this run; `sent`, `failed` and, unless asked, `uncertain` are done.
    # A `skipped` reader is asked again: one who came back (`list add`) gets what they missed.
    again = {"queued", "skipped"} | ({"uncertain"} if request.resend_uncertain else set())

    with ExitStack() as stack:
        # Opened only if it exists: a send to a CSV never makes a list.
        roster = Roster.open(request.root, read_only=True) if has_list(request.root) else None
        if roster is not None:
            stack.callback(roster.close)
        listed = read_audience(request.root, request.list_path, site.config.tz, suppressed, roster)
        list_name = str(request.list_path or LIST_PATH)
        if not request.dry_run:
            stack.enter_context(send_lock(request.root))
        ledger = Ledger.open(request.root, read_only=request.dry_run)
        stack.callback(ledger.close)
        if not request.dry_run:
            ledger.recover()
        before = {(row.lesson, row.email): row for row in ledger.rows(target.lessons)}
        if target.series is not None:
            handled = {pair for pair, row in before.items() if row.state not in again}
            course = plan_course(target.series, listed.subscribers, handled, request.now, catch_up=request.catch_up, list_name=list_name)
            deliveries, waiting, more_warnings = course.deliveries, course.waiting, course.warnings
        else:
            assert target.issue is not None
            deliveries, waiting, more_warnings = tuple((target.issue, subscriber) for subscriber in listed.subscribers), 0, ()
        jobs = [Delivery(issue, subscriber) for issue, subscriber in deliveries]
        pairs = [job.key for job in jobs]
        jobs = [job for job in jobs if job.key not in before or before[job.key].state in again]
        interrupted = False
        if request.dry_run:
            planned(len(jobs))
            composer = _composer(site, request)
            for job in jobs:  # render every message, so a dry run finds what a real one would
                composer(job)
                progress(1)
        else:
            assert settings is not None
            if jobs:
                close(_open(settings))
            if request.resend_uncertain:
                ledger.requeue_uncertain(pairs)
            ledger.enqueue(pairs)
            planned(len(jobs))
            check = ListCheck(roster, from_list=request.list_path is None)
            options = DeliveryOptions(settings, request.connections, request.rate, request.retry_delay, request.max_attempts, check.refusal)
            interrupted = deliver_all(jobs, lambda: _composer(site, request), options, ledger, progress)
        after = {(row.lesson, row.email): row for row in ledger.rows(target.lessons)}

    rows = [after[pair] for pair in pairs if pair in after]
    already = sum(1 for pair in pairs if pair in before and before[pair].state == "sent")
    left_out = tuple(row for row in rows if row.state == "skipped" and not request.dry_run)
    return SendReport(
        what=target.what,
        planned=tuple((lesson_id(job.issue), job.subscriber.email) for job in jobs),
        sent=sum(1 for row in rows if row.state == "sent") - already,
        already_sent=already,
        skipped=listed.skipped + len(more_warnings) + len(left_out),
        failed=tuple(row for row in rows if row.state == "failed"),
        uncertain=tuple(row for row in rows if row.state == "uncertain"),
        deferred=tuple(row for row in rows if row.state == "queued" and not request.dry_run),
        left_out=left_out,
        waiting=waiting,
        warnings=listed.warnings + tuple(more_warnings),
        seconds=time.perf_counter() - started,
        dry_run=request.dry_run,
        interrupted=interrupted,
    )
