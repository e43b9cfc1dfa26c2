"""What one new message of the inbox pass asks, and doing it: the list's side of the pass (`inbox.py` runs it).

Each new message is one of, in this order of tests:

- an unsubscribe: sent to `[list] unsubscribe_address` with a token this site signed → the reader
  is unsubscribed, whatever the message says;
- a confirmation: sent to `[list] confirm_address` (the Reply-To of a confirmation email) with a
  signed token, from a person, not an auto-responder → the pending reader becomes active;
- a subscribe request: sent to `[list] address` with the subject "Subscribe" → the sender is
  added as pending and sent one confirmation (at most one per address per day);
- a hand-off from `lessonpress endpoint` (`handoff.py`): a reader's unsubscribe or confirmed
  subscription on the web, signed with the secret → applied as the list's `form` change;
- a bounce or a complaint (`bounces.read_bounce`) naming a reader by a signed token → hard
  bounce or complaint: stopped at once; soft bounce: counted, and stopped after
  `[list] soft_bounces` of them within `[list] soft_bounce_days` days;
- anything else: votes and replies, read by the code of `polls tally` and `replies`.

A token that does not verify (forged, altered, made with another secret) changes nothing and is
reported. Nothing a message asks can bring back a reader who unsubscribed, bounced, complained
or was forgotten: only `lessonpress list add` does.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.message import Message
from email.parser import BytesHeaderParser

from ..addresses import ADDR_SPEC, is_address
from ..errors import SourceError
from ..render.confirmation import ConfirmationMail
from ..send.roster import STOPPED, ListRefused, Reader, Roster
from ..send.roster_file import LIST_PATH
from ..send.smtp import SmtpSettings, close, transmit
from ..send.smtp import connect as smtp_connect
from ..site.model import Site
from ..tokens import AddressTemplate, Purpose, TokenIndex, make_token
from ..untrusted import shorten, terminal_text
from .bounces import Bounce, read_bounce
from .handled import HandledRecord, MessageKeys
from .handoff import Handoff, read_handoff
from .sources import HEADER_LIMIT, MESSAGE_LIMIT, Letter
from .tally import PollSubjects, poll_subjects, recognise, site_polls, strip_prefixes

SECRET_VARIABLE = "LESSONPRESS_SECRET"
SUBSCRIBE = "subscribe"
# Anyone can write a subscribe request in a stranger's name: a flood of them must not turn the publisher's relay into a
# spammer (and get it blocked). Past this many confirmations in one pass, requests wait for the next pass.
CONFIRMATIONS_PER_PASS = 100
# What a reader writes when they mean "take me off", in a subject or a first line; listed, never acted on.
_ASKS_TO_STOP = frozenset({"unsubscribe", "unsubscribe me", "stop", "please stop", "remove me", "please remove me", "cancel", "opt out", "optout"})
# RFC 3834 and the older conventions of auto-responders: such a message never confirms or subscribes anyone.
_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})


@dataclass(frozen=True)
class ListAddresses:
    """The addresses of `[list]` and `[email] bounce_address`, read once: where each kind of message arrives."""

    subscribe: str  # lowercased; "" when readers cannot subscribe by mail
    unsubscribe: AddressTemplate | None
    confirm: AddressTemplate | None
    bounce: AddressTemplate | None
    endpoint: bool = False  # `[list] endpoint` is set: signed hand-offs arrive at the list's address

    @property
    def signed(self) -> bool:
        """Whether any of them carries a token (or hand-offs come), so the pass needs the secret."""
        return any((self.unsubscribe, self.confirm, self.bounce, self.endpoint))


def list_addresses(site: Site) -> ListAddresses:
    """Read the addresses from the config, whose checks have already refused a template that cannot carry a token."""
    config = site.config

    def template(value: str) -> AddressTemplate | None:
        return AddressTemplate.parse(value) if value else None

    mailing = config.mailing
    return ListAddresses(
        mailing.address.strip().lower(), template(mailing.unsubscribe_address), template(mailing.confirm_address), template(config.email.bounce_address),
        endpoint=bool(mailing.endpoint),
    )


@dataclass(frozen=True)
class Outcome:
    """What became of one message: recorded as handled (with what it leaves in the record) or left for the next pass."""

    what: str
    keep: bool = True  # False: not recorded, so the next pass tries it again (a confirmation the relay deferred)
    soft_bounce: tuple[str, datetime] | None = None
    confirmation: str = ""  # the confirm token a confirmation went to


@dataclass(frozen=True)
class Mail:
    """One message of the source: where it is, its bytes and keys, its letter when it could be read."""

    path: str
    line: int
    raw: bytes
    keys: MessageKeys
    letter: Letter | None
    unreadable: SourceError | None  # why the source could not read it, when it could not

    def note(self, text: str) -> SourceError:
        return SourceError(self.path, self.line, text)

    @property
    def sender(self) -> str:
        """Who the message says it is from, escaped for the terminal."""
        return terminal_text(self.letter.sender) if self.letter else "an unknown sender"

    @property
    def place(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    @property
    def evidence(self) -> str:
        """What the list's history records as the source of a change: the Message-ID, else the place."""
        return self.keys.message_id or self.place


class ReaderTokens:
    """Readers by token, per purpose; readers who subscribe during the pass are added as they come."""

    def __init__(self, secret: str, readers: list[Reader]) -> None:
        self._secret = secret
        addresses = [reader.address for reader in readers]
        purposes: tuple[Purpose, ...] = ("unsubscribe", "confirm", "bounce")
        self._indexes = {purpose: TokenIndex(secret, addresses, purpose) for purpose in purposes} if secret else {}
        self._added: list[str] = []

    def add(self, address: str) -> None:
        self._added.append(address)

    def find(self, purpose: Purpose, token: str) -> str | None:
        if not self._secret:
            return None
        return self._indexes[purpose].find(token) or TokenIndex(self._secret, self._added, purpose).find(token)


@dataclass
class Counts:
    subscribed: int = 0
    confirmations: int = 0
    confirmed: int = 0
    unsubscribed: int = 0
    bounced: int = 0
    complained: int = 0
    soft_bounces: int = 0
    already: int = 0
    refused: int = 0
    events: list[SourceError] = field(default_factory=list)
    asked: list[SourceError] = field(default_factory=list)


def _automatic(raw: bytes) -> bool:
    """Say whether a message says it was sent by a program (an out-of-office reply, a list), not by its reader."""
    headers: Message = BytesHeaderParser().parsebytes(raw[:HEADER_LIMIT])
    submitted = str(headers.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(headers.get("Precedence", "")).strip().lower()
    return not submitted.startswith("no") or precedence in _AUTOMATIC_PRECEDENCE or any(name in headers for name in ("X-Autoreply", "X-Autorespond"))


def _words(text: str) -> str:
    return " ".join(strip_prefixes(text).casefold().strip(" .!?,;:-").split())


class MailHandler:
    """Handles the messages of one pass: the list, the record and the tokens it reads and changes, and the counts so far."""

    def __init__(self, site: Site, roster: Roster, record: HandledRecord, settings: SmtpSettings | str, *, secret: str, now: datetime, dry_run: bool) -> None:
        self.now = now
        self.dry_run = dry_run
        self.site = site
        self.roster = roster
        self.record = record
        self.addresses = list_addresses(site)
        self.secret = secret
        self.tokens = ReaderTokens(self.secret, roster.readers())
        self.polls: list[PollSubjects] = [poll_subjects(poll) for poll in site_polls(site)]
        self.settings = settings
        self.session: smtplib.SMTP | None = None
        self.confirmation: ConfirmationMail | None = None
        self.counts = Counts()
        self.ordinary: list[Letter] = []  # new letters for the replies list
        self.new: set[tuple[str, int]] = set()  # where the messages not handled before are

    def close(self) -> None:
        close(self.session)

    # -- one message ---------------------------------------------------------

    def handle(self, mail: Mail) -> None:
        if self.record.seen(mail.keys):
            self.counts.already += 1
            return
        self.new.add((mail.path, mail.line))
        outcome = self._decide(mail)
        if outcome.keep:
            self.record.record(mail.keys, outcome.what, self.now, soft_bounce=outcome.soft_bounce, confirmation=outcome.confirmation)

    def _decide(self, mail: Mail) -> Outcome:
        letter = mail.letter
        if letter is not None:
            handoff = read_handoff(letter.text, self.secret, int(self.now.timestamp()))
            if isinstance(handoff, str):
                return self._refuse(mail, f"{handoff}, from {mail.sender}; nothing changed")
            if handoff is not None:
                return self._handoff(mail, handoff)
            for template, act in ((self.addresses.unsubscribe, self._unsubscribe), (self.addresses.confirm, self._confirm)):
                token = next((found for found in map(template.token_in, letter.recipients) if found), None) if template else None
                if token is not None:
                    return act(mail, token)
            if self.addresses.subscribe and self.addresses.subscribe in letter.recipients and _words(letter.subject) == SUBSCRIBE:
                return self._subscribe(mail, letter)
            if recognise(letter, self.polls) is not None:
                return Outcome("vote")
        if len(mail.raw) <= MESSAGE_LIMIT:
            bounce = read_bounce(mail.raw, self.addresses.bounce)
            if bounce is not None:
                return self._bounce(mail, bounce)
        if letter is None:
            return self._refuse(mail, mail.unreadable.message if mail.unreadable else "cannot read this message", "unreadable")
        if _words(letter.subject) in _ASKS_TO_STOP or _words(" ".join(letter.first_lines(1))) in _ASKS_TO_STOP:
            address = terminal_text(letter.sender)
            self.counts.asked.append(mail.note(f"{address} asks in plain words to stop ('{terminal_text(shorten(letter.subject, 80))}'); not acted on: if they mean it, run 'lessonpress list remove {address}'"))
            return Outcome("asked to stop")
        self.ordinary.append(letter)
        return Outcome("other")

    def _event(self, mail: Mail, text: str, what: str) -> Outcome:
        self.counts.events.append(mail.note(text))
        return Outcome(what)

    def _refuse(self, mail: Mail, text: str, what: str = "refused") -> Outcome:
        self.counts.refused += 1
        return self._event(mail, f"refused: {text}", what)

    def _forged(self, mail: Mail, purpose: str) -> Outcome:
        return self._refuse(mail, f"{purpose} from {mail.sender}: its token names no reader on the list (forged, altered, signed with another {SECRET_VARIABLE}, or for a reader since forgotten); nothing changed")

    # -- what a message asks ---------------------------------------------------

    def _unsubscribe(self, mail: Mail, token: str) -> Outcome:
        address = self.tokens.find("unsubscribe", token)
        reader = self.roster.find(address) if address else None
        if reader is None:
            return self._forged(mail, "unsubscribe")
        if reader.status in STOPPED:
            return self._event(mail, f"{terminal_text(reader.address)} is already {reader.status}", "unsubscribe")
        self.roster.set_status(reader.address, "unsubscribed", how="mail", source=mail.evidence)
        self.counts.unsubscribed += 1
        return self._event(mail, f"unsubscribed {terminal_text(reader.address)}", "unsubscribe")

    def _confirm(self, mail: Mail, token: str) -> Outcome:
        address = self.tokens.find("confirm", token)
        reader = self.roster.find(address) if address else None
        if reader is None:
            return self._forged(mail, "confirmation")
        if _automatic(mail.raw):
            return self._refuse(mail, f"an automatic reply (out of office?) to the confirmation sent to {terminal_text(reader.address)} does not confirm it")
        if reader.status in STOPPED:
            return self._refuse(mail, f"{terminal_text(reader.address)} is {reader.status}: a confirmation never brings a reader back ('lessonpress list add' does)")
        if reader.status == "active":
            return self._event(mail, f"{terminal_text(reader.address)} confirmed again: already active", "confirm")
        self.roster.set_status(reader.address, "active", how="mail", source=mail.evidence)
        self.counts.confirmed += 1
        return self._event(mail, f"confirmed {terminal_text(reader.address)}: now active", "confirm")

    def _subscribe(self, mail: Mail, letter: Letter) -> Outcome:
        address = letter.sender
        shown = terminal_text(address)
        if _automatic(mail.raw):
            return self._refuse(mail, f"a subscribe request from {shown} sent by a program (Auto-Submitted or Precedence), not a person")
        # Whom we send to, and (it becomes the confirmation's To) what a header may carry: a final newline passes the first.
        if not is_address(address) or not ADDR_SPEC.match(address):
            return self._refuse(mail, f"a subscribe request from '{shown}', which is not an address lessonpress sends to")
        if self.addresses.confirm is None:
            return self._refuse(mail, f"a subscribe request from {shown}: set [list] confirm_address in lessonpress.toml so a confirmation can be answered")
        reader = self.roster.find(address)
        if reader is not None and reader.status in STOPPED:
            return self._refuse(mail, f"a subscribe request: {shown} is {reader.status}: only 'lessonpress list add' brings them back")
        if reader is not None and reader.status == "active":
            return self._event(mail, f"{shown} asked to subscribe: already active", "subscribe")
        if reader is None:
            try:
                self.roster.add(address, name=letter.name, status="pending", how="mail", source=mail.evidence)
            except ListRefused as refused:
                # A forgotten address: only the author brings it back (the list says so).
                return self._refuse(mail, f"a subscribe request: {terminal_text(refused.errors[0].message)}")
            self.tokens.add(address)
            self.counts.subscribed += 1
        return self._send_confirmation(mail, address)

    def _handoff(self, mail: Mail, handoff: Handoff) -> Outcome:
        """Apply what a reader did on the endpoint's page; as by mail, nothing brings back a stopped or forgotten reader."""
        shown = terminal_text(handoff.address)
        source = f"endpoint {handoff.moment} {mail.evidence}"
        reader = self.roster.find(handoff.address)
        if handoff.action == "unsubscribe":
            if reader is None:
                return self._refuse(mail, f"an unsubscribe from the endpoint for {shown}, who is not on the list (forgotten?); nothing changed")
            if reader.status in STOPPED:
                return self._event(mail, f"{shown} unsubscribed on the web: already {reader.status}", "unsubscribe")
            self.roster.set_status(reader.address, "unsubscribed", how="form", source=source)
            self.counts.unsubscribed += 1
            return self._event(mail, f"unsubscribed {shown} (on the web)", "unsubscribe")
        if reader is not None and reader.status in STOPPED:
            return self._refuse(mail, f"a confirmed subscription from the endpoint: {shown} is {reader.status}: only 'lessonpress list add' brings them back")
        if reader is not None and reader.status == "active":
            return self._event(mail, f"{shown} confirmed on the web: already active", "confirm")
        try:
            self.roster.add(handoff.address, status="active", how="form", source=source)
        except ListRefused as refused:
            return self._refuse(mail, f"a confirmed subscription from the endpoint: {terminal_text(refused.errors[0].message)}")
        self.tokens.add(handoff.address)
        self.counts.confirmed += 1
        return self._event(mail, f"confirmed {shown} on the web: now active", "confirm")

    def confirm_added(self) -> None:
        """Send the one confirmation `lessonpress list add ADDRESS --confirm` promises, to each reader it added who has had none.

        Only the author's own additions: pending readers from an import are not mailed unasked.
        """
        if self.addresses.confirm is None or not self.secret:
            return
        place = Mail(LIST_PATH.as_posix(), 0, b"", MessageKeys("", "", ""), None, None)
        for reader in self.roster.readers(["pending"]):
            record = self.roster.show(reader.address)
            token = make_token(self.secret, reader.address, "confirm")
            if record is None or record.history[-1].how != "command" or self.record.confirmed(token):
                continue
            if self._send_confirmation(place, reader.address).confirmation:
                self.record.note_confirmation(token, self.now)

    def _send_confirmation(self, mail: Mail, address: str) -> Outcome:
        assert self.addresses.confirm is not None
        shown = terminal_text(address)
        token = make_token(self.secret, address, "confirm")
        if self.record.confirmed(token, self.now):
            return self._event(mail, f"{shown} is pending; a confirmation already went out today, so none is sent", "subscribe")
        if self.counts.confirmations >= CONFIRMATIONS_PER_PASS:
            self.counts.events.append(mail.note(f"{shown} is pending: {CONFIRMATIONS_PER_PASS} confirmations went out in this pass, the most one pass sends; the next pass sends this one"))
            return Outcome("subscribe", keep=False)
        if self.dry_run:
            self.counts.confirmations += 1
            # Recorded in the dry run's copy of the record, so it shows the once-a-day rule as a real pass keeps it.
            return replace(self._event(mail, f"{shown} is pending: would send a confirmation", "subscribe"), confirmation=token)
        reply = self._deliver(address, self.addresses.confirm.fill(token))
        if reply is None:
            self.counts.confirmations += 1
            return replace(self._event(mail, f"{shown} is pending: sent a confirmation", "subscribe"), confirmation=token)
        if reply.startswith("5"):
            return self._refuse(mail, f"the relay refused the confirmation to {shown}: {terminal_text(reply)}")
        self.counts.events.append(mail.note(f"the confirmation to {shown} was not sent ({terminal_text(reply)}): the next pass tries again"))
        return Outcome("subscribe", keep=False)

    def _deliver(self, address: str, reply_to: str) -> str | None:
        """Send one confirmation; return None once the relay took it, else the relay's reply or why it could not be reached."""
        if isinstance(self.settings, str):
            return self.settings  # why there are no SMTP settings
        if self.confirmation is None:
            self.confirmation = ConfirmationMail(self.site)
        message = self.confirmation.message(address, reply_to, self.now)
        # A bounce of the confirmation names the reader too, when sends use a VERP return path.
        bounce = self.addresses.bounce
        sender = bounce.fill(make_token(self.secret, address, "bounce")) if bounce else self.confirmation.sender.addr_spec
        try:
            if self.session is None:
                self.session = smtp_connect(self.settings)
            outcome = transmit(self.session, sender, address, message.as_bytes(), lambda: None)
        except (smtplib.SMTPException, OSError) as error:
            close(self.session)
            self.session = None
            return f"cannot reach {self.settings}: {error}"
        if outcome.reconnect:
            close(self.session)
            self.session = None
        return None if outcome.state == "sent" else outcome.reply

    def _bounce(self, mail: Mail, bounce: Bounce) -> Outcome:
        named = ", ".join(terminal_text(address) for address in bounce.recipients[:3]) or "no address"
        if bounce.token is None:
            return self._refuse(mail, f"a {bounce.kind} report about {named} that names no reader by token (was it sent with [email] bounce_address?); nothing changed")
        address = self.tokens.find("bounce", bounce.token)
        reader = self.roster.find(address) if address else None
        if reader is None:
            return self._forged(mail, f"{bounce.kind} report about {named}")
        reason = f": {terminal_text(bounce.status + ' ' + bounce.diagnostic).strip()}" if bounce.status or bounce.diagnostic else ""
        if bounce.kind == "complaint":
            return self._stop(mail, reader, "complained", f"complaint (marked as spam){reason}")
        if bounce.kind == "hard":
            return self._stop(mail, reader, "bounced", f"hard bounce{reason}")
        return self._soft(mail, reader, bounce.token, reason)

    def _soft(self, mail: Mail, reader: Reader, token: str, reason: str) -> Outcome:
        now = self.now
        mailing = self.site.config.mailing
        date = mail.letter.date if mail.letter is not None and mail.letter.date is not None else None
        # The bounce's own date, so a first pass over months of old mail does not count them all as recent.
        at = date if date is not None and date <= now else now
        since = now - timedelta(days=mailing.soft_bounce_days)
        count = self.record.soft_bounces(token, since) + (at >= since)
        if count >= mailing.soft_bounces:
            stopped = self._stop(mail, reader, "bounced", f"soft bounce {count} in {mailing.soft_bounce_days} days{reason}")
            return replace(stopped, soft_bounce=(token, at))
        self.counts.soft_bounces += 1
        return replace(
            self._event(mail, f"soft bounce {count} of {mailing.soft_bounces} in {mailing.soft_bounce_days} days for {terminal_text(reader.address)}{reason}", "soft bounce"),
            soft_bounce=(token, at),
        )

    def _stop(self, mail: Mail, reader: Reader, status: str, why: str) -> Outcome:
        shown = terminal_text(reader.address)
        if reader.status in STOPPED:
            return self._event(mail, f"{why} for {shown}, already {reader.status}", status)
        self.roster.set_status(reader.address, status, how="mail", source=mail.evidence)
        if status == "complained":
            self.counts.complained += 1
        else:
            self.counts.bounced += 1
        return self._event(mail, f"{status} {shown}: {why}", status)


