"""Read what a bounce or a feedback-loop complaint says: whose mail failed, how hard, and why.

Three kinds of report arrive at the VERP return path (`[email] bounce_address`):

- delivery status notifications (RFC 3464): `multipart/report; report-type=delivery-status`,
  read here field by field, because only they say the status and the server's reason;
- complaints from mailbox providers' feedback loops (ARF, RFC 5965):
  `multipart/report; report-type=feedback-report`;
- the free-form bounces many servers still send (Exim, qmail, old Exchange…). These are left
  to `flufl.bounce`, whose detectors hold decades of real servers' formats.

A report names the reader twice: by address (which forwarding, aliases or a provider's
redaction can hide) and by the token in the address it was sent to, `bounces+TOKEN@…`, since a
bounce goes to the return path of the message that failed. `read_bounce` returns both; the
token is what `TokenIndex.find` (tokens.py) turns into a reader, once verified.

Every message is hostile input: nothing here raises on what a message holds, and the work is
bounded. Only the first READ_LIMIT bytes are parsed (every format puts its report before the
returned message), with at most HEADER_LINE_LIMIT header lines and PART_LIMIT MIME parts; only
the first TEXT_LIMIT characters of a text, HEADER_VALUE_LIMIT of a header and RECIPIENT_LIMIT
recipients are read. flufl.bounce sees the first DETECTOR_LIMIT bytes, each line cut to
LINE_LIMIT: some of its patterns take time quadratic in a line's length. Addresses and the
diagnostic are cleaned as reader text is.
"""

from __future__ import annotations

import binascii
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import collapse_rfc2231_value, getaddresses
from typing import Literal, Protocol

from flufl.bounce import all_failures

from ..untrusted import one_line, shorten
from .sources import PART_LIMIT, TEXT_LIMIT

READ_LIMIT = 256 * 1024  # reports are a few kilobytes; what follows them is the returned message
HEADER_LINE_LIMIT = 1000  # a bounce's Received chain is tens of lines; each header lookup reads them all
HEADER_VALUE_LIMIT = 4096
DETECTOR_LIMIT = 64 * 1024  # free-form bounces name the failed addresses in their first lines
LINE_LIMIT = 998  # RFC 5322's longest line
RECIPIENT_LIMIT = 100
DIAGNOSTIC_LIMIT = 1000
ADDRESS_LIMIT = 254  # RFC 5321's longest path, less its angle brackets

Kind = Literal["hard", "soft", "complaint"]
Failure = Literal["hard", "soft"]

# flufl.bounce logs a detector's failure with its traceback before raising it, and with no
# handler configured Python prints that to stderr. A failing detector is one more hostile
# message (read_bounce returns None), so its log goes nowhere unless an application routes it.
logging.getLogger("flufl.bounce").addHandler(logging.NullHandler())

# A failure's RFC 3463 status such as 5.1.1, not the tail of an IP address such as 10.5.1.1.
_STATUS = re.compile(r"(?<![\d.])[45]\.\d{1,3}\.\d{1,3}(?!\.?\d)")
# The code that starts each continuation line of a multi-line SMTP reply ("550-5.1.1 ").
_REPLY_CODE = re.compile(r"^\s*[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}\s)?")
_SMTP_REPLY = re.compile(r"(?<!\d)[45]\d\d[ -]")
_MAIL_SYSTEM = re.compile(r"^(mailer[-_]?daemon|mail[-_]?daemon|postmaster|mail[-_]?delivery[-_a-z]*|bounces?)@", re.IGNORECASE)
_MAIL_SYSTEM_NAME = re.compile(r"\bmail delivery (subsystem|system|service)\b", re.IGNORECASE)
# Subjects servers give free-form bounces; a reader's "Re:" or "Fwd:" of one does not start this way.
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliver(ed|able)|delivery (status notification|failure|has failed|failed|incomplete)|failure notice|returned mail|mail delivery failed|warning: could not send|non[- ]?delivery)",
    re.IGNORECASE,
)
# Where the envelope recipient of the bounce, our VERP address, shows in its headers.
_ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")


@dataclass(frozen=True)
class Bounce:
    """What one report says: a hard or soft bounce, or a complaint, about whom, and why."""

    kind: Kind
    recipients: tuple[str, ...]  # lowercased addresses the report names, in its order; may be redacted or empty
    token: str | None  # what stands in the bounce address's {token} place, not yet verified
    status: str  # RFC 3463 status such as "5.1.1"; "" when the report gives none (always for a complaint)
    diagnostic: str  # one line: the server's reason, or a complaint's Feedback-Type


class TokenFinder(Protocol):
    """An address template that finds its token in an address (tokens.py's AddressTemplate)."""

    def token_in(self, address: str) -> str | None:
        """Return what stands in the token's place of an address of this template, or None."""
        ...


def read_bounce(raw: bytes, template: TokenFinder | None = None) -> Bounce | None:
    """Return what a raw message reports as a bounce or a complaint, or None when it is neither or names nobody."""
    data = raw[:READ_LIMIT]
    # Each part starts with a line "--boundary": counting those bounds the parts without parsing.
    if data.count(b"\n--") > PART_LIMIT or _header_lines(data) > HEADER_LINE_LIMIT:
        return None
    try:
        found = _read(BytesParser().parsebytes(data), data, template)
    except RecursionError:
        return None  # parts nested deeper than the interpreter can walk
    # The email package and the detectors raise many kinds of error on hostile input; such a
    # message says nothing that can be acted on.
    except Exception:  # noqa: BLE001
        return None
    # A report that names nobody, by address or by token, cannot be acted on.
    return found if found is not None and (found.recipients or found.token) else None


def _header_lines(data: bytes) -> int:
    end = min((found for found in (data.find(b"\n\n"), data.find(b"\n\r\n")) if found >= 0), default=len(data))
    return data.count(b"\n", 0, end)


def _read(message: Message, data: bytes, template: TokenFinder | None) -> Bounce | None:
    report_type = message.get_param("report-type", "") if message.get_content_type() == "multipart/report" else ""
    if isinstance(report_type, tuple):
        report_type = collapse_rfc2231_value(report_type)
    if str(report_type).lower() == "feedback-report":
        return _complaint(message, template)
    status_part = _first_part(message, "message/delivery-status")
    recipients = _recipient_fields(status_part) if status_part is not None else []
    if recipients:
        # A report whose recipients' fields can be read is believed, even when nothing failed.
        return _dsn(message, recipients, template)
    return _free_form(message, _for_detectors(data), template) if _looks_like_bounce(message) else None


def _recipient_fields(status_part: Message) -> list[Message]:
    """Return the per-recipient field groups of a message/delivery-status part."""
    blocks = _field_blocks(status_part)[: RECIPIENT_LIMIT + 1]
    return [fields for fields in blocks if _header(fields, "Final-Recipient") or _header(fields, "Original-Recipient")]


def _dsn(message: Message, recipient_fields: list[Message], template: TokenFinder | None) -> Bounce | None:
    """Read an RFC 3464 report: the most severe failure among its recipients' fields."""
    failures: dict[Failure, list[tuple[str, str, str]]] = {"hard": [], "soft": []}
    for fields in recipient_fields:
        status = _status(_header(fields, "Status"))
        failure = _kind(_header(fields, "Action").strip().lower(), status)
        # Original-Recipient is the address we sent to; Final-Recipient may be where it was forwarded.
        address = _header(fields, "Original-Recipient") or _header(fields, "Final-Recipient")
        if failure is not None:
            failures[failure].append((address, status, _diagnostic(_header(fields, "Diagnostic-Code"))))
    kind: Failure = "hard" if failures["hard"] else "soft"
    chosen = failures[kind]
    if not chosen:
        return None
    _, status, diagnostic = chosen[0]
    return Bounce(kind, _unique(address for address, _, _ in chosen), _bounce_token(message, template), status, diagnostic)


def _complaint(message: Message, template: TokenFinder | None) -> Bounce | None:
    """Read an ARF report: the recipient and return path of the message a reader marked as spam."""
    report_part = _first_part(message, "message/feedback-report")
    blocks = _field_blocks(report_part) if report_part is not None else []
    fields = blocks[0] if blocks else Message()
    feedback_type = one_line(_header(fields, "Feedback-Type")).lower()
    if feedback_type == "not-spam":
        return None  # a reader taking a message out of the spam folder complains of nothing
    original = _original_headers(message)
    recipients = _unique(str(value) for value in fields.get_all("Original-Rcpt-To", [])[:RECIPIENT_LIMIT])
    if not recipients and original is not None:
        recipients = _unique(address for _, address in getaddresses([_header(original, "To")])[:RECIPIENT_LIMIT])
    # The report goes to the feedback loop's address, not the VERP one: the original message's
    # return path (kept by the report, or in its headers) holds the token.
    paths = [_header(fields, "Original-Mail-From")]
    if original is not None:
        paths.append(_header(original, "Return-Path"))
    token = _token_in(paths, template) or _bounce_token(message, template)
    return Bounce("complaint", recipients, token, "", shorten(feedback_type, DIAGNOSTIC_LIMIT))


def _for_detectors(data: bytes) -> Message:
    """Return the start of a message as flufl.bounce can read it: lines cut short, bytes beyond ASCII as "?"."""
    start = b"\n".join(line[:LINE_LIMIT] for line in data[:DETECTOR_LIMIT].split(b"\n"))
    # With 8-bit bytes in a header the email package returns a Header object where the
    # detectors expect text, and they fail; they skip non-ASCII addresses anyway.
    message = BytesParser().parsebytes(start.decode("ascii", "replace").encode("ascii", "replace"))
    if not message.get("From", "").strip():
        # One detector fails on a missing or empty From, and the detectors after it never run.
        del message["From"]
        message["From"] = "<>"
    return message


def _free_form(message: Message, start: Message, template: TokenFinder | None) -> Bounce | None:
    """Read a bounce without a report part through flufl.bounce, with the status and reason its text gives."""
    temporary, permanent = all_failures(start)
    if not temporary and not permanent:
        return None
    text = _first_text(message)
    found = _STATUS.search(text)
    status = found.group() if found else ""
    kind = _kind("failed" if permanent else "delayed", status) or "hard"
    found_addresses = (address.decode("ascii", "replace") for address in sorted(permanent | temporary)[:RECIPIENT_LIMIT])
    # Heuristic detectors can pick our own return path out of the returned message's headers.
    recipients = _unique(address for address in found_addresses if template is None or template.token_in(address) is None)
    return Bounce(kind, recipients, _bounce_token(message, template), status, _reason_line(text, status))


def _kind(action: str, status: str) -> Failure | None:
    """Say how hard a recipient's failure is from its DSN Action and Status, or None when it did not fail."""
    if action == "delayed":
        return "soft"
    if action not in ("failed", ""):
        return None  # delivered, relayed or expanded
    if status.startswith("4") or status == "5.2.2":
        # A full mailbox (X.2.2) is the one 5.x.x status RFC 3463 allows to be transient: the reader still exists.
        return "soft"
    if status.startswith("5") or (action == "failed" and not status):
        return "hard"
    return None


def _status(value: str) -> str:
    found = _STATUS.search(value)
    return found.group() if found else ""


def _diagnostic(value: str) -> str:
    """Return a Diagnostic-Code as one clean line, without its type or the codes repeated on each line of the reply."""
    _, semicolon, text = value.partition(";")
    lines = (text if semicolon else value).splitlines()
    kept = lines[:1] + [_REPLY_CODE.sub("", line) for line in lines[1:]]
    return shorten(one_line(" ".join(kept)), DIAGNOSTIC_LIMIT)


def _reason_line(text: str, status: str) -> str:
    """Return the line of a free-form bounce that gives the server's reason, or ""."""
    for line in text.splitlines():
        if (status and status in line) or (not status and _SMTP_REPLY.search(line)):
            return shorten(one_line(line), DIAGNOSTIC_LIMIT)
    return ""


def _looks_like_bounce(message: Message) -> bool:
    """Say whether a message comes from a mail system, so that a reader's reply or an auto-reply is never read as a bounce."""
    if message.get("X-Failed-Recipients") is not None:
        return True
    senders = getaddresses([_header(message, "From")])
    if any(_MAIL_SYSTEM.match(address) or _MAIL_SYSTEM_NAME.search(name) for name, address in senders):
        return True
    return bool(_BOUNCE_SUBJECT.match(_header(message, "Subject")))


def _bounce_token(message: Message, template: TokenFinder | None) -> str | None:
    """Find the token in the address the bounce was sent to, else in the returned message's return path."""
    if template is None:
        return None
    values = [str(value)[:HEADER_VALUE_LIMIT] for name in _ENVELOPE_HEADERS for value in message.get_all(name, [])[:RECIPIENT_LIMIT]]
    addresses = [address for _, address in getaddresses(values)]
    original = _original_headers(message)
    if original is not None:
        addresses.append(_header(original, "Return-Path"))
    return _token_in(addresses, template)


def _token_in(addresses: list[str], template: TokenFinder | None) -> str | None:
    if template is None:
        return None
    for address in addresses:
        token = template.token_in(address)
        if token:
            return one_line(token)
    return None


def _original_headers(message: Message) -> Message | None:
    """Return the headers of the message a report returns, from its message/rfc822 or text/rfc822-headers part."""
    for part in _parts(message):
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            return payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
        if content_type == "text/rfc822-headers":
            return HeaderParser().parsestr(_decoded(part))
    return None


def _field_blocks(part: Message) -> list[Message]:
    """Return the groups of fields of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    blocks = [block for block in payload if isinstance(block, Message)] if isinstance(payload, list) else []
    if _header(part, "Content-Transfer-Encoding").strip().lower() != "base64":
        return blocks
    # The parser split the encoded text as if it were fields: decode it and split it here.
    encoded = "".join(str(block.get_payload()) for block in blocks)
    text = binascii.a2b_base64(encoded.encode("ascii", "replace")).decode("utf-8", "replace")[:TEXT_LIMIT]
    return [HeaderParser().parsestr(chunk.strip() + "\n") for chunk in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")) if chunk.strip()]


def _first_part(message: Message, content_type: str) -> Message | None:
    return next((part for part in _parts(message) if part.get_content_type() == content_type), None)


def _parts(message: Message) -> list[Message]:
    """Return the message's parts, the returned message's own parts excluded: they describe our mail, not the failure."""
    found: list[Message] = []
    pending = [message]
    while pending and len(found) < PART_LIMIT:
        part = pending.pop()
        found.append(part)
        payload = part.get_payload()
        if part.get_content_maintype() == "multipart" and isinstance(payload, list):
            # Reversed onto the stack, so parts come out in the order the message gives them.
            pending.extend(child for child in reversed(payload) if isinstance(child, Message))
    return found


def _first_text(message: Message) -> str:
    part = next((part for part in _parts(message) if part.get_content_type() == "text/plain"), None)
    return _decoded(part) if part is not None else ""


def _decoded(part: Message) -> str:
    """Return a part's text, at most TEXT_LIMIT characters of it, in whatever charset it claims (UTF-8 when unknown)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload[: TEXT_LIMIT * 4].decode(charset, "replace")[:TEXT_LIMIT]
    except LookupError:
        return payload[: TEXT_LIMIT * 4].decode("utf-8", "replace")[:TEXT_LIMIT]


def _header(message: Message, name: str) -> str:
    # A header with undecodable bytes comes back as a Header object, not a str.
    value = message.get(name)
    return "" if value is None else str(value)[:HEADER_VALUE_LIMIT]


def _address(value: str) -> str:
    """Return the address of a recipient field (`rfc822; a@b`, `<a@b>`), cleaned and lowercased; "" when there is none."""
    _, semicolon, rest = value.partition(";")
    address = one_line(rest if semicolon else value).strip("<> ").lower()
    return address if "@" in address and len(address) <= ADDRESS_LIMIT else ""


def _unique(addresses: Iterable[str]) -> tuple[str, ...]:
    """Return the cleaned addresses, each once, in their first order."""
    found: dict[str, None] = {}
    for address in addresses:
        cleaned = _address(address)
        if cleaned:
            found.setdefault(cleaned)
    return tuple(found)[:RECIPIENT_LIMIT]
