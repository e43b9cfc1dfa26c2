"""Read mail from an mbox file, a Maildir folder or an IMAP folder into plain `Letter` values."""

from __future__ import annotations

import imaplib
import mailbox
import os
import re
import ssl
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import SiteFailed, SourceError
from ..untrusted import clean_text, shorten, terminal_text
from ..workers import can_fork, fan_out, usable_cpus

PASSWORD_VARIABLE = "LESSONPRESS_IMAP_PASSWORD"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
# What readers' mail clients put above the quoted message or below the reply; reading stops there.
_STOP_LINE = re.compile(
    r"^(-- ?$|_{5,}|-{3,}\s*(original message|forwarded message)|on .+ wrote:?$|am .+ schrieb .+:$|le .+ a écrit\s?:$|sent from my )",
    re.IGNORECASE,
)
# Not render/plaintext.py's reader, on purpose: that one lays out an author's HTML and is quadratic on hostile
# markup ("<a b='" repeated: 16K characters 4.7 s, 64K 80 s); a reader's mail only needs its tags gone, linearly.
# Stops at the next "<" too, so a body of a million "<" is read in linear time.
_TAG = re.compile(r"<[^<>]+>")
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_MBOX_SEPARATOR = re.compile(rb"^From ", re.MULTILINE)
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(<[^>\r\n]{1,200}>)", re.IGNORECASE | re.MULTILINE)
# Limits on what one reader's message may cost: a vote or a reply is a few kilobytes, so a
# message over MESSAGE_LIMIT is skipped (and reported) unread, and only the start of a body,
# a subject or a line is ever looked at. They keep a tally's work bounded whatever arrives.
MESSAGE_LIMIT = 10 * 1024 * 1024
HEADER_LIMIT = 256 * 1024
PART_LIMIT = 500  # MIME parts; the email package takes a fifth of a millisecond for each
TEXT_LIMIT = 64 * 1024
SUBJECT_LIMIT = 1000
NAME_LIMIT = 200
LINE_LIMIT = 500
# Attribution lines are short; a longer line is the reader's own text and is never matched.
_STOP_LINE_LIMIT = 300


@dataclass(frozen=True)
class Letter:
    """One message, reduced to what tallies and reply lists need; `where` says where it came from."""

    where: str
    position: int  # order in the source, so equal dates still sort the same way every run
    sender: str  # lowercased address; never written to any output
    name: str  # the sender's display name
    recipients: tuple[str, ...]  # lowercased To, Cc, Delivered-To and X-Original-To addresses
    subject: str  # RFC 2047 decoded
    date: datetime | None  # timezone-aware
    text: str  # the first text part, decoded
    notice: str = ""  # what was unusable in this message but did not cost it (an impossible date)

    def first_lines(self, limit: int = 3) -> tuple[str, ...]:
        """Return the reader's own first lines: no quoted text, no attribution, no signature."""
        found: list[str] = []
        for line in self.text.splitlines():
            stripped = line.strip()
            if len(stripped) <= _STOP_LINE_LIMIT and _STOP_LINE.match(stripped):
                break
            if stripped.startswith(">"):
                if found:
                    break
                continue
            if stripped:
                found.append(shorten(" ".join(stripped.split()), LINE_LIMIT))
            if len(found) == limit:
                break
        return tuple(found)


@dataclass(frozen=True)
class Inbox:
    """Every letter a source held, and the messages that could not be read (with why)."""

    letters: tuple[Letter, ...]
    skipped: tuple[SourceError, ...]
    notices: tuple[SourceError, ...] = ()  # letters that were read but had something unusable, such as their date
    # Every message as it came, readable or not: a letter's `position` is its index here. The inbox pass
    # digests these bytes and reads bounces from them (a bounce may have no usable From).
    raws: tuple[RawMail, ...] = field(default=(), repr=False, compare=False)


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except LookupError:
        # An unknown charset must not cost the vote in the subject: read the bytes as UTF-8.
        content = part.get_payload(decode=True) or b""
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    # Only the first lines are ever used; the cap keeps every later step bounded.
    text = text[:TEXT_LIMIT]
    if part.get_content_subtype() == "html":
        text = _TAG.sub("\n", text)
    return clean_text(text)


def _addresses(message: EmailMessage, *names: str) -> tuple[str, ...]:
    found: list[str] = []
    for name in names:
        for header in message.get_all(name, []):
            found.extend(address.addr_spec.lower() for address in getattr(header, "addresses", ()) if address.addr_spec)
    return tuple(found)


def _date(message: EmailMessage) -> tuple[datetime | None, str]:
    """The message's date in UTC, or None with a notice when its Date header is unusable."""
    header = message["Date"]
    if header is None:
        return None, ""
    try:
        date = parsedate_to_datetime(str(header))
        if date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
        # Year 9999 with an offset parses, but overflows on the way to UTC: test that here, once.
        return date.astimezone(UTC), ""
    except (TypeError, ValueError, OverflowError):
        return None, f"unusable Date '{shorten(str(header), 60)}': this message counts as undated (oldest)"


def parse_letter(raw: bytes, where: str, position: int) -> Letter:
    """Decode one raw message; raises ValueError (or another email-package error) when it is unreadable."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    senders = message["From"].addresses if message["From"] is not None else ()
    if not senders or not senders[0].addr_spec or "@" not in senders[0].addr_spec:
        raise ValueError("no sender address in From")
    date, notice = _date(message)
    return Letter(
        where=where,
        position=position,
        sender=senders[0].addr_spec.lower(),
        name=shorten(" ".join(clean_text(senders[0].display_name).split()), NAME_LIMIT),
        recipients=_addresses(message, "To", "Cc", "Delivered-To", "X-Original-To"),
        subject=" ".join(clean_text(str(message["Subject"] or "")[:SUBJECT_LIMIT]).split()),
        date=date,
        text=_body_text(message),
        notice=notice,
    )


def _too_large(raw: bytes) -> str:
    """Say why a message is over the limits (see MESSAGE_LIMIT), or "" when it is within them."""
    if len(raw) > MESSAGE_LIMIT:
        return f"larger than {MESSAGE_LIMIT // (1024 * 1024)} MB, the limit for one message"
    if len(raw) > HEADER_LIMIT and raw.find(b"\n\n", 0, HEADER_LIMIT) < 0 and raw.find(b"\n\r\n", 0, HEADER_LIMIT) < 0:
        return f"headers larger than {HEADER_LIMIT // 1024} KB, the limit for one message's headers"
    # Every part starts with a line "--boundary": counting such lines bounds the parts from above, without parsing.
    if raw.count(b"\n--") > PART_LIMIT:
        return f"more than {PART_LIMIT} MIME parts, the limit for one message"
    return ""


def _message_id(raw: bytes) -> str:
    """Name a raw message by its Message-ID (" message <id>"), found without parsing it; "" when it has none."""
    found = _MESSAGE_ID.search(raw, 0, HEADER_LIMIT)
    return f" message {terminal_text(found.group(1).decode('ascii', 'replace'))}" if found else ""


class InboxFailed(SiteFailed):
    """A mail source that cannot be read at all; nothing was written."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__([SourceError(path, line, message)])

    def closing(self, count: int) -> str:
        return "nothing was written"


# (path, line, raw message); line 0 where a source has no lines (Maildir, IMAP)
RawMail = tuple[str, int, bytes]


def _read_one(position: int, mail: RawMail) -> Letter | SourceError:
    """One raw message as a Letter, or why it was skipped."""
    path, line, raw = mail
    too_large = _too_large(raw)
    if too_large:
        return SourceError(path, line, f"skipped{_message_id(raw) or ' this message'}: {too_large}")
    try:
        return parse_letter(raw, f"{path}:{line}" if line else path, position)
    # The email package raises many kinds of error on hostile input; one bad mail must not lose the rest.
    except RecursionError:
        return SourceError(path, line, f"skipped{_message_id(raw)}, cannot read this message: its parts or comments are nested too deeply")
    except Exception as error:  # noqa: BLE001
        # The error may quote the hostile header itself: keep it short and printable.
        return SourceError(path, line, f"skipped{_message_id(raw)}, cannot read this message: {terminal_text(shorten(str(error), 200))}")


def _read_block(raws: list[RawMail], start: int, stop: int) -> list[Letter | SourceError]:
    return [_read_one(position, raws[position]) for position in range(start, stop)]


# The email package takes milliseconds a message: from this many on, the parsing is shared over all cores.
MIN_FORK_MESSAGES = 512


def _read_all(raws: list[RawMail]) -> list[Letter | SourceError]:
    """Every message read, in mailbox order, in forked workers (which inherit `raws`) when there are enough."""
    workers = min(usable_cpus(), len(raws) // MIN_FORK_MESSAGES)
    if workers < 2 or not can_fork():
        return _read_block(raws, 0, len(raws))
    blocks = [(len(raws) * index // (workers * 4), len(raws) * (index + 1) // (workers * 4)) for index in range(workers * 4)]
    found: list[list[Letter | SourceError]] = [[] for _ in blocks]
    results = fan_out(len(blocks), lambda index: _read_block(raws, *blocks[index]), workers)
    with closing(results):  # on an error or Ctrl-C, fan_out stops the workers at once
        for index, block in results:
            found[index] = block
    return [item for block in found for item in block]


def _collect(raws: list[RawMail], skipped: list[SourceError]) -> Inbox:
    letters = []
    notices = []
    for (path, line, _), read in zip(raws, _read_all(raws)):
        if isinstance(read, SourceError):
            skipped.append(read)
            continue
        letters.append(read)
        if read.notice:
            notices.append(SourceError(path, line, terminal_text(read.notice)))
    return Inbox(tuple(letters), tuple(skipped), tuple(notices), tuple(raws))


def read_mbox(path: Path) -> Inbox:
    """Read an mbox file; text before the first `From ` line is skipped and reported, not fatal."""
    if not path.is_file():
        raise InboxFailed(str(path), 0, "mbox file not found: give an mbox file, a Maildir folder or an imaps:// URL")
    data = path.read_bytes()
    # Split by hand rather than with mailbox.mbox so each message knows its line for `path:line` reports;
    # slices between separator offsets keep the reading linear in the file's size.
    starts = [found.start() for found in _MBOX_SEPARATOR.finditer(data)]
    raws: list[RawMail] = []
    skipped: list[SourceError] = []
    if data[: starts[0] if starts else len(data)].strip():
        skipped.append(SourceError(str(path), 1, "skipped text that is not a message (it comes before any 'From ' line)"))
    line = 1 + data.count(b"\n", 0, starts[0]) if starts else 1
    for start, end in zip(starts, [*starts[1:], len(data)]):
        body_start = data.find(b"\n", start, end)
        body = data[body_start + 1 : end] if body_start >= 0 else b""
        # Writers escape body lines starting with "From " as ">From "; undo one level (mboxrd).
        raws.append((str(path), line, _ESCAPED_FROM.sub(rb"\1", body)))
        line += data.count(b"\n", start, end)
    if data.strip() and not raws:
        raise InboxFailed(str(path), 1, "is not an mbox file: no line starts with 'From '; export the folder as mbox, or pass a Maildir folder")
    return _collect(raws, skipped)


def read_maildir(path: Path) -> Inbox:
    """Read every message in a Maildir folder (new/ and cur/), in file-name order."""
    if not (path / "cur").is_dir() or not (path / "new").is_dir():
        raise InboxFailed(str(path), 0, "is not a Maildir folder (it needs cur/ and new/ inside): give an mbox file, a Maildir folder or an imaps:// URL")
    folder = mailbox.Maildir(path, factory=None, create=False)
    raws = []
    for key in sorted(folder.keys()):
        with folder.get_file(key) as file:
            # One byte over the limit is enough to know a message is too large; never read the rest.
            raws.append((f"{path}/{key}", 0, file.read(MESSAGE_LIMIT + 1)))
    return _collect(raws, [])


@dataclass(frozen=True)
class ImapLocation:
    """An `imaps://user@host:port/FOLDER` URL, taken apart; carries no password."""

    secure: bool
    user: str
    host: str
    port: int
    folder: str

    @property
    def shown(self) -> str:
        scheme = "imaps" if self.secure else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


def parse_imap_url(url: str) -> ImapLocation:
    """Read an IMAP URL; plain `imap://` is allowed only to this machine, where no password crosses a network."""
    parts = urlsplit(url)
    secure = parts.scheme == "imaps"
    problem = ""
    if parts.password is not None:
        problem = f"put no password in the URL: set {PASSWORD_VARIABLE} instead"
    elif not parts.username or not parts.hostname:
        problem = "an IMAP source looks like imaps://user@host/FOLDER"
    elif not secure and parts.hostname not in LOOPBACK:
        problem = f"plain imap:// would send the password unencrypted to {parts.hostname}: use imaps://"
    if problem or not parts.username or not parts.hostname:  # a missing user or host is among the problems
        raise InboxFailed(url.split("@")[-1] if parts.password is not None else url, 0, problem)
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    if not folder.isascii():
        raise InboxFailed(url, 0, f"folder '{folder}' is not ASCII: give the folder's IMAP name (modified UTF-7) in the URL")
    return ImapLocation(secure, unquote(parts.username), parts.hostname, parts.port or (993 if secure else 143), folder)


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_imap(location: ImapLocation, environ: Mapping[str, str]) -> Inbox:
    """Fetch every message of one IMAP folder, read-only (EXAMINE), so nothing is marked seen."""
    shown = location.shown
    password = environ.get(PASSWORD_VARIABLE, "")
    if not password:
        raise InboxFailed(shown, 0, f"no password: set the environment variable {PASSWORD_VARIABLE} (never put it on the command line)")
    try:
        if location.secure:
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(location.host, location.port, ssl_context=ssl.create_default_context(), timeout=60)
        else:
            client = imaplib.IMAP4(location.host, location.port, timeout=60)
    except (OSError, imaplib.IMAP4.error) as error:
        raise InboxFailed(shown, 0, f"cannot connect: {error}; check the host and port") from None
    try:
        try:
            client.login(location.user, password)
        except imaplib.IMAP4.error:
            raise InboxFailed(shown, 0, f"login failed for '{location.user}': check the user name and {PASSWORD_VARIABLE}") from None
        status, _ = client.select(_quoted(location.folder), readonly=True)
        if status != "OK":
            raise InboxFailed(shown, 0, f"folder '{location.folder}' not found on the server: check its name (case matters)")
        status, found = client.uid("SEARCH", "ALL")
        uids = found[0].split() if status == "OK" and found and found[0] else []
        raws = []
        for uid in uids:
            # A partial fetch, one byte over the limit: a huge message costs no more than that.
            status, parts = client.uid("FETCH", uid, f"(BODY.PEEK[]<0.{MESSAGE_LIMIT + 1}>)")
            raw = next((part[1] for part in parts if isinstance(part, tuple)), None)
            raws.append((f"{shown} UID {uid.decode()}", 0, raw or b""))
        return _collect(raws, [])
    except (OSError, imaplib.IMAP4.error) as error:
        raise InboxFailed(shown, 0, f"the server broke off: {error}; run the command again") from None
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def read_source(source: str, environ: Mapping[str, str] | None = None) -> Inbox:
    """Read an mbox file, a Maildir folder or an `imaps://` URL (password from the environment)."""
    if re.match(r"imaps?://", source, re.IGNORECASE):
        return read_imap(parse_imap_url(source), os.environ if environ is None else environ)
    path = Path(source)
    if path.is_dir():
        return read_maildir(path)
    if not path.exists():
        raise InboxFailed(source, 0, "not found: give an mbox file, a Maildir folder or an imaps://user@host/FOLDER URL")
    return read_mbox(path)
