"""The inbox pass: read a mailbox once and do what each new message asks (see `actions.py`), each message only once.

Votes are counted from the whole mailbox on every pass, as `polls tally` counts them: the
results are a function of the mailbox, so a pass over the same mail writes the same files.
Everything else happens once per message, by the record in `handled.py`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import SendFailed, SourceError
from ..progress import Progress, silent
from ..send.roster import ListRefused, Roster
from ..send.roster_file import LIST_PATH, connect
from ..send.smtp import SmtpSettings, settings_from_env
from ..site.load import answerable_site
from ..site.model import Site
from .actions import SECRET_VARIABLE, Mail, MailHandler, list_addresses
from .handled import HandledRecord, InboxRefused, inbox_lock, memory_copy, message_keys
from .replies import ReplyList, collect_replies
from .sources import Inbox, read_source
from .tally import site_polls, tally, write_results


@dataclass(frozen=True)
class InboxRequest:
    """What `lessonpress inbox` was asked to do; `environ` holds the secret, the IMAP password and the SMTP settings."""

    root: Path
    source: str
    now: datetime
    environ: Mapping[str, str]
    dry_run: bool = False


@dataclass(frozen=True)
class InboxReport:
    """What one pass did, message by message (`events`) and in counts, for the summary line."""

    messages: int
    subscribed: int
    confirmations: int
    confirmed: int
    unsubscribed: int
    bounced: int
    complained: int
    soft_bounces: int  # soft bounces counted that did not (yet) stop a reader
    votes: int
    replies: ReplyList
    already: int
    refused: int
    events: tuple[SourceError, ...]  # one line per message acted on or refused: where, what, from whom
    asked: tuple[SourceError, ...]  # plain-words requests to stop, for the author to read
    warnings: tuple[SourceError, ...]  # what the source could not read, and dates it could not use, of new messages
    written: tuple[Path, ...]  # poll results files written
    seconds: float
    dry_run: bool

    def summary(self) -> str:
        """One line, e.g. `Inbox: 10000 messages in 4.2 s: 3 subscribed (3 confirmations sent), …, 2 refused`."""
        replies = sum(len(item.replies) for item in self.replies.lessons)
        sent = "to send" if self.dry_run else "sent"
        parts = [
            f"{self.subscribed} subscribed ({self.confirmations} confirmation{'s' if self.confirmations != 1 else ''} {sent})",
            f"{self.confirmed} confirmed",
            f"{self.unsubscribed} unsubscribed",
            f"{self.bounced} bounced",
        ]
        if self.complained:
            parts.append(f"{self.complained} complained")
        if self.soft_bounces:
            parts.append(f"{self.soft_bounces} soft bounce{'s' if self.soft_bounces != 1 else ''} counted")
        parts += [f"{self.votes} vote{'s' if self.votes != 1 else ''}", f"{replies} repl{'ies' if replies != 1 else 'y'}", f"{self.already} already handled", f"{self.refused} refused"]
        head = "Dry run, nothing changed. Inbox" if self.dry_run else "Inbox"
        return f"{head}: {self.messages} message{'s' if self.messages != 1 else ''} in {self.seconds:.1f} s: " + ", ".join(parts)


def _mails(inbox: Inbox) -> list[Mail]:
    """Pair every raw message with its letter (by position) or with why it could not be read."""
    letters = {letter.position: letter for letter in inbox.letters}
    unreadable = {(error.path, error.line): error for error in inbox.skipped}
    found = []
    for position, (path, line, raw) in enumerate(inbox.raws):
        found.append(Mail(path, line, raw, message_keys(raw), letters.get(position), unreadable.get((path, line))))
    return found


def _open_roster(root: Path, dry_run: bool) -> Roster:
    """Open the list; a dry run reads it into memory after the same checks, so nothing it does reaches the file."""
    roster = Roster.open(root, read_only=dry_run)
    if not dry_run:
        return roster
    roster.close()
    path = root / LIST_PATH
    return Roster(memory_copy(path) if path.exists() else connect(None))


def _check(request: InboxRequest, site: Site) -> SmtpSettings | str:
    """Stop before any message is handled without the secret; return the SMTP settings confirmations go out with, or why there are none.

    Missing SMTP settings only hold back confirmations (their requests wait for the next pass):
    an unsubscribe or a bounce must never wait for them.
    """
    if list_addresses(site).signed and not request.environ.get(SECRET_VARIABLE):
        raise InboxRefused([SourceError(SECRET_VARIABLE, 0, "is not set: export the secret 'lessonpress send' signs tokens with; without it no unsubscribe, confirmation or bounce can be verified")])
    try:
        return settings_from_env(request.environ)
    except SendFailed as failed:
        return "; ".join(str(error) for error in failed.errors)


def _handle(run: MailHandler, mail: Mail) -> None:
    try:
        run.handle(mail)
    except ListRefused as refused:
        # The list is busy (a long `list import`) or went bad mid-pass: what came before this message stays handled.
        closing = f"inbox pass stopped at {mail.place}: the messages before it were handled; run the same command again"
        raise InboxRefused(list(refused.errors), closing) from None


def run_inbox(request: InboxRequest, progress: Progress = silent) -> InboxReport:
    """Read the source and handle each new message; return what was done."""
    started = time.perf_counter()
    loaded = answerable_site(request.root, request.now)
    site = loaded.site
    settings = _check(request, site)
    inbox = read_source(request.source, request.environ)
    with ExitStack() as stack:
        if not request.dry_run:  # a dry run changes nothing, so it may run beside a real pass
            stack.enter_context(inbox_lock(request.root))
        record = HandledRecord.open(request.root, dry_run=request.dry_run)
        stack.callback(record.close)
        roster = _open_roster(request.root, request.dry_run)
        stack.callback(roster.close)
        secret = request.environ.get(SECRET_VARIABLE, "")
        run = MailHandler(site, roster, record, settings, secret=secret, now=request.now, dry_run=request.dry_run)
        stack.callback(run.close)
        mails = _mails(inbox)
        for mail in progress(f"Handling {len(mails)} messages", mails):
            _handle(run, mail)
        run.confirm_added()
    counted = tally(inbox, site_polls(site))
    written = () if request.dry_run else tuple(write_results(site.config, counted.results))
    replies = collect_replies(site, Inbox(tuple(run.ordinary), ()))
    counts = run.counts
    # Only new messages are reported: an unreadable one is among the events; what the source skipped outside any message (text before
    # an mbox's first message) is reported every time.
    places = {(mail.path, mail.line) for mail in mails}
    warnings = [error for error in (*inbox.notices, *counted.unmatched) if (error.path, error.line) in run.new]
    warnings += [error for error in inbox.skipped if (error.path, error.line) not in places]
    return InboxReport(
        messages=len(mails), subscribed=counts.subscribed, confirmations=counts.confirmations, confirmed=counts.confirmed,
        unsubscribed=counts.unsubscribed, bounced=counts.bounced, complained=counts.complained, soft_bounces=counts.soft_bounces,
        votes=sum(result.votes for result in counted.results), replies=replies, already=counts.already, refused=counts.refused,
        events=tuple(counts.events), asked=tuple(counts.asked), warnings=(*loaded.warnings, *warnings), written=written,
        seconds=time.perf_counter() - started, dry_run=request.dry_run,
    )

