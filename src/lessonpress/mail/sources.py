"""Read mail from an mbox file, a Maildir folder or an IMAP folder into plain `Letter` values."""

from __future__ import annotations

import imaplib
import mailbox
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import BuildFailed, SourceError

PASSWORD_VARIABLE = "LESSONPRESS_IMAP_PASSWORD"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
# What readers' mail clients put above the quoted message or below the reply; reading stops there.
_STOP_LINE = re.compile(
    r"^(-- ?$|_{5,}|-{3,}\s*(original message|forwarded message)|on .+ wrote:?$|am .+ schrieb .+:$|le .+ a écrit\s?:$|sent from my )",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)


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

    def first_lines(self, limit: int = 3) -> tuple[str, ...]:
        """Return the reader's own first lines: no quoted text, no attribution, no signature."""
        found: list[str] = []
        for line in self.text.splitlines():
            stripped = line.strip()
            if _STOP_LINE.match(stripped):
                break
            if stripped.startswith(">"):
                if found:
                    break
                continue
            if stripped:
                found.append(" ".join(stripped.split()))
            if len(found) == limit:
                break
        return tuple(found)


@dataclass(frozen=True)
class Inbox:
    """Every letter a source held, and the messages that could not be read (with why)."""

    letters: tuple[Letter, ...]
    skipped: tuple[SourceError, ...]


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
    if part.get_content_subtype() == "html":
        text = _TAG.sub("\n", text)
    return text


def _addresses(message: EmailMessage, *names: str) -> tuple[str, ...]:
    found = []
    for name in names:
        for header in message.get_all(name, []):
            found.extend(address.addr_spec.lower() for address in getattr(header, "addresses", ()) if address.addr_spec)
    return tuple(found)


def parse_letter(raw: bytes, where: str, position: int) -> Letter:
    """Decode one raw message; raises ValueError (or another email-package error) when it is unreadable."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    senders = message["From"].addresses if message["From"] is not None else ()
    if not senders or not senders[0].addr_spec or "@" not in senders[0].addr_spec:
        raise ValueError("no sender address in From")
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] is not None else None
    except (TypeError, ValueError):
        date = None
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    return Letter(
        where=where,
        position=position,
        sender=senders[0].addr_spec.lower(),
        name=senders[0].display_name,
        recipients=_addresses(message, "To", "Cc", "Delivered-To", "X-Original-To"),
        subject=" ".join(str(message["Subject"] or "").split()),
        date=date,
        text=_body_text(message),
    )


class InboxFailed(BuildFailed):
    """A mail source that cannot be read at all; nothing was written."""

    def __init__(self, path: str, line: int, message: str) -> None:
        error = SourceError(path, line, message)
        super().__init__([error])
        self.message = f"{error}\nnothing was written"


# (path, line, raw message); line 0 where a source has no lines (Maildir, IMAP)
RawMail = tuple[str, int, bytes]


def _collect(raws: list[RawMail], skipped: list[SourceError]) -> Inbox:
    letters = []
    for position, (path, line, raw) in enumerate(raws):
        try:
            letters.append(parse_letter(raw, f"{path}:{line}" if line else path, position))
        # The email package raises many kinds of error on hostile input; one bad mail must not lose the rest.
        except Exception as error:  # noqa: BLE001
            skipped.append(SourceError(path, line, f"skipped, cannot read this message: {error}"))
    return Inbox(tuple(letters), tuple(skipped))


def read_mbox(path: Path) -> Inbox:
    """Read an mbox file; text before the first `From ` line is skipped and reported, not fatal."""
    if not path.is_file():
        raise InboxFailed(str(path), 0, "mbox file not found: give an mbox file, a Maildir folder or an imaps:// URL")
    data = path.read_bytes()
    # Split by hand rather than with mailbox.mbox so each message knows its line for `path:line` reports.
    raws: list[RawMail] = []
    skipped: list[SourceError] = []
    start_line, chunk = 1, b""
    lines = data.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        if line.startswith(b"From "):
            _keep(path, start_line, chunk, raws, skipped)
            start_line, chunk = number, line
        else:
            chunk += line
    _keep(path, start_line, chunk, raws, skipped)
    if data.strip() and not raws:
        raise InboxFailed(str(path), 1, "is not an mbox file: no line starts with 'From '; export the folder as mbox, or pass a Maildir folder")
    return _collect(raws, skipped)


def _keep(path: Path, line: int, chunk: bytes, raws: list[RawMail], skipped: list[SourceError]) -> None:
    if chunk.startswith(b"From "):
        body = chunk.split(b"\n", 1)[1] if b"\n" in chunk else b""
        # Writers escape body lines starting with "From " as ">From "; undo one level (mboxrd).
        raws.append((str(path), line, _ESCAPED_FROM.sub(rb"\1", body)))
    elif chunk.strip():
        skipped.append(SourceError(str(path), line, "skipped text that is not a message (it comes before any 'From ' line)"))


def read_maildir(path: Path) -> Inbox:
    """Read every message in a Maildir folder (new/ and cur/), in file-name order."""
    if not (path / "cur").is_dir() or not (path / "new").is_dir():
        raise InboxFailed(str(path), 0, "is not a Maildir folder (it needs cur/ and new/ inside): give an mbox file, a Maildir folder or an imaps:// URL")
    folder = mailbox.Maildir(path, factory=None, create=False)
    raws = [(f"{path}/{key}", 0, folder.get_bytes(key)) for key in sorted(folder.keys())]
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
    if problem:
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
            status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
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
