"""Read sent issues from an mbox file or a Maildir folder: one message per issue; other mail is reported and skipped."""

from __future__ import annotations

import hashlib
import mailbox
import re
from collections import Counter
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path

from ..errors import SourceError
from .container import MAX_ISSUE_BYTES
from .model import Archive, FoundIssue
from .when import read_date

NOT_AN_ISSUE = re.compile(r"^\s*(?:re|fwd?|aw|wg|sv|tr)\s*:|^\s*(?:automatic reply|auto-reply|out of office|undeliverable|delivery status notification)", re.IGNORECASE)


def _messages(path: Path) -> list[tuple[str, EmailMessage]]:
    """Every message, with a name for it, parsed as MIME with the modern policy."""
    parser = BytesParser(policy=policy.default)
    box: mailbox.Mailbox = mailbox.Maildir(path, factory=None, create=False) if path.is_dir() else mailbox.mbox(path, factory=None, create=False)
    found = []
    try:
        for number, key in enumerate(sorted(box.keys()) if path.is_dir() else box.keys(), start=1):
            raw = box.get_bytes(key)
            message = parser.parsebytes(raw)
            assert isinstance(message, EmailMessage)  # policy.default makes EmailMessage
            found.append((f"{path.name}#{number}" if not path.is_dir() else f"{path.name}/{key}", message))
    finally:
        box.close()
    return found


def _is_list_mail(message: EmailMessage) -> bool:
    return bool(message.get("List-Unsubscribe") or message.get("List-Id") or str(message.get("Precedence", "")).lower() in ("bulk", "list"))


def _why_not(message: EmailMessage, sender: str, lists_only: bool = False) -> str:
    """Why a message is not a sent issue, or '' when it is one; `lists_only`: issues carry list headers, so mail without them is personal."""
    subject = str(message.get("Subject", ""))
    if str(message.get("Auto-Submitted", "no")).lower() != "no":
        return "sent automatically (an auto-reply or notice)"
    if message.get_content_type() == "multipart/report":
        return "a delivery report"
    if NOT_AN_ISSUE.match(subject) or message.get("In-Reply-To"):
        return "a reply or a forward"
    address = parseaddr(str(message.get("From", "")))[1].lower()
    if sender and address != sender:
        return f"from {address or 'nobody'}, not from {sender}"
    if lists_only and not _is_list_mail(message):
        return "personal mail (no List-Unsubscribe or List-Id header, which the issues carry)"
    return ""


def _files(message: EmailMessage) -> dict[str, bytes]:
    """Images and attachments of a message, by `cid:` reference and by file name."""
    files = {}
    for part in message.walk():
        if part.is_multipart() or (part.get_content_maintype() == "text" and not part.get_filename()):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        if part.get("Content-ID"):
            files["cid:" + str(part["Content-ID"]).strip("<> ")] = data
        if part.get_filename():
            files[str(part.get_filename())] = data
    return files


def read_mailbox(path: Path, label: str, sender: str = "") -> Archive:
    """Sent issues from an mbox or Maildir: from `sender` (else the address most messages come from), no replies, no reports."""
    try:
        messages = _messages(path)
    except (OSError, mailbox.Error) as error:
        return Archive("mailbox", (), errors=(SourceError(label, 0, f"cannot be read as a mailbox ({error}): check it is an mbox file or a Maildir folder"),))
    senders = Counter(parseaddr(str(message.get("From", "")))[1].lower() for _, message in messages if not _why_not(message, ""))
    sender = sender.lower() or (senders.most_common(1)[0][0] if senders else "")
    lists_only = any(_is_list_mail(message) for _, message in messages)
    issues, skipped = [], []
    for name, message in messages:
        subject = " ".join(str(message.get("Subject", "")).split())
        where = f"{name}" + (f" ({subject})" if subject else "")
        reason = _why_not(message, sender, lists_only)
        if reason:
            skipped.append(SourceError(where, 0, f"skipped: {reason}"))
            continue
        body_part = message.get_body(preferencelist=("html", "plain"))
        if body_part is None:
            skipped.append(SourceError(where, 0, "skipped: no text or HTML part"))
            continue
        try:
            body = body_part.get_content()
        except (LookupError, UnicodeError, ValueError) as error:  # an unknown charset, a broken transfer encoding
            skipped.append(SourceError(where, 0, f"skipped: its text cannot be decoded ({error})"))
            continue
        if len(body) > MAX_ISSUE_BYTES:
            skipped.append(SourceError(where, 0, f"skipped: its text is over {MAX_ISSUE_BYTES // 1048576} MB, far more than an issue"))
            continue
        message_id = str(message.get("Message-ID", "")).strip("<> ") or hashlib.sha256(f"{subject}\n{message.get('Date', '')}".encode()).hexdigest()[:16]
        issues.append(FoundIssue(
            key=f"mail:{message_id}", origin=where, title=subject, body=body, markup="html" if body_part.get_content_subtype() == "html" else "text",
            date=read_date(str(message.get("Date", ""))), author=parseaddr(str(message.get("From", "")))[0], files=_files(message),
        ))
    return Archive("mailbox", tuple(issues), skipped=tuple(skipped))
