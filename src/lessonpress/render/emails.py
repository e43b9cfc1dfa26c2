"""Every lesson as email: HTML with inlined CSS, a plain-text part, and a MIME message."""

from __future__ import annotations

import binascii
import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

import css_inline

from ..addresses import ADDR_SPEC, WRITTEN_AS_IS
from ..content.config import CONFIG_NAME, MERGE_TAGS
from ..errors import SiteFailed, SourceError
from ..progress import Progress, silent
from ..site.model import Issue, Site
from ..untrusted import one_line  # header values: one line of safe characters, never the start of a header
from . import mailto
from .absolute import absolutize_html
from .list_id import list_id_value
from .plaintext import IMAGE, html_to_text, wrap_text
from .themes import BodyReads, make_environment, wording

# The container's inner width: body images without a width are drawn at most this wide.
IMAGE_WIDTH = 560
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_LINE_BREAK = re.compile(r"[\r\n]")
# A send repeats one lesson and a drip a few, while a build visits each lesson once: a few suffice.
RECENT_ISSUES = 8
# Headers are folded once, when made, and a message object writes them as made instead of folding them again.
_POLICY = SMTP.clone(refold_source="none")
# A header is a name and its value as written after "Name: ", folded lines joined by CRLF.
_Header = tuple[str, str]
MAX_LINE = 998  # RFC 5322's limit for a line of a message, CRLF not counted
# Values of these plain ASCII forms `_header` writes unchanged after the name, while the line is at most the given
# length: they are written so without the email package, which costs more. (Past 78 characters it folds a Subject at
# a space; values without spaces it cannot fold.) The one exception on purpose: a List-Unsubscribe URL too long for
# 78 it would RFC 2047-encode, which mailbox providers do not decode (RFC 2369 forbids folding inside the <>), so it
# is kept whole. "=?" could start an encoded word. No pattern lets a line break through.
assert SMTP.max_line_length is not None  # the SMTP policy folds at 78; only a policy made to never fold has None
_VERBATIM: dict[str, tuple[re.Pattern[str], int]] = {
    "To": (WRITTEN_AS_IS, MAX_LINE),
    "Reply-To": (WRITTEN_AS_IS, MAX_LINE),
    "Subject": (re.compile(r"(?!.*=\?)[!-~]+(?: [!-~]+)*"), SMTP.max_line_length),
    "Date": (re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}"), MAX_LINE),
    "Message-ID": (re.compile(r"<[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>"), MAX_LINE),
    # One or two URIs (https, then the reader's signed mailto), each whole inside its <>.
    "List-Unsubscribe": (re.compile(r"<(?![^>]*=\?)[!-;=?-~]+>(?:, <(?![^>]*=\?)[!-;=?-~]+>)?"), MAX_LINE),
    # A quoted title, or encoded words folded between words, then the id: as `list_id.list_id_value` writes it.
    "List-Id": (re.compile(r'(?:"(?:[ !#-\[\]-~]|\\[\\"])*"|=\?utf-8\?[bq]\?[!->@-~]+\?=(?:\r\n =\?utf-8\?[bq]\?[!->@-~]+\?=)*) <[a-z0-9-]+(?:\.[a-z0-9-]+)+>'), MAX_LINE),
}
_MIME_VERSION: _Header = ("MIME-Version", "1.0")
_ONE_CLICK: _Header = ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
_QUOTED_PRINTABLE: _Header = ("Content-Transfer-Encoding", "quoted-printable")
_TEXT_HEADERS = (("Content-Type", 'text/plain; charset="utf-8"'), _QUOTED_PRINTABLE)
# The HTML part's own MIME-Version is what EmailMessage.add_alternative wrote, kept so parts parse as before.
_HTML_HEADERS = (("Content-Type", 'text/html; charset="utf-8"'), _QUOTED_PRINTABLE, _MIME_VERSION)


@dataclass(frozen=True)
class Recipient:
    """Who one message is for; the defaults make the built, unaddressed `.eml`."""

    email: str = ""  # To address; "" means no To header (the built .eml)
    name: str = ""  # greets the reader by name where the theme greets
    unsubscribe_url: str = ""  # per-recipient; "" means [email] unsubscribe_url from config
    unsubscribe_mailto: str = ""  # the reader's signed mailto, listed in List-Unsubscribe after the URL; "" for none
    message_id: str = ""  # "" means a deterministic id from the lesson on the site's domain


@dataclass(frozen=True)
class RenderedEmail:
    """One lesson rendered for one recipient."""

    subject: str
    html: str
    text: str


def greet(greeting: str, name: str) -> str:
    """Put the reader's name into a greeting: 'Good morning!' becomes 'Good morning, Ana!'."""
    if not greeting or not name:
        return greeting
    stem = greeting.rstrip("!.,;: ")
    end = greeting[len(stem):].strip(" ,;:") or "!"
    return f"{stem}, {name}{end}"


def merge_tag_recipient(site: Site) -> Recipient | None:
    """The recipient whose name and unsubscribe link are the ESP's merge tags, or None when not configured."""
    setting = site.config.email.merge_tags
    if not setting:
        return None
    # load_config checked the setting: a known service, or a table with these keys.
    if isinstance(setting, str):
        unsubscribe, name = MERGE_TAGS[setting.lower()]
    else:
        unsubscribe, name = setting["unsubscribe"], setting.get("name", "")
    return Recipient(name=name, unsubscribe_url=unsubscribe)


def _checked_address(value: str, what: str, source: str) -> str:
    """Return a bare address, refusing anything that could smuggle a header or is not an address."""
    if not ADDR_SPEC.match(value):
        raise SiteFailed([SourceError(source, 0, f"{what} '{one_line(value)}' is not a plain email address like name@example.org")])
    return value


def site_sender(site: Site) -> Address:
    """Who the site's mail comes from: [email] from, else the author, else no-reply at the site's domain."""
    # load_config checked [email] from and [author] email: one line each, a plain address.
    config = site.config
    if config.email.sender:
        name, address = parseaddr(config.email.sender)
        return Address(display_name=name, addr_spec=address)
    if config.author.email:
        return Address(display_name=one_line(config.author.name or config.title), addr_spec=config.author.email)
    return Address(display_name=one_line(config.title), addr_spec=f"no-reply@{config.domain}")


def _with_image_sizes(html: str) -> str:
    """Give every body image an alt and a numeric width, which email clients need to lay it out."""
    def fix(match: re.Match[str]) -> str:
        tag = match.group(0)
        extra = ""
        if not re.search(r"\salt=", tag):
            extra += ' alt=""'
        if not re.search(r"\swidth=", tag):
            extra += f' width="{IMAGE_WIDTH}"'
        return re.sub(r"\s*/?>$", extra + ">", tag)

    return _IMG.sub(fix, html)


def _header(name: str, value: object) -> _Header:
    """Make a header as the email package makes it with the SMTP policy: parsed, RFC 2047-encoded, folded."""
    if _LINE_BREAK.search(str(value)):
        # The header factory would write a line break out as it is, starting a header of the value's choosing.
        raise ValueError(f"a {name} header may not contain a line break")
    folded = _POLICY.fold(name, _POLICY.header_factory(name, value))
    name, raw = _POLICY.header_source_parse(folded.splitlines(keepends=True))
    # A value it cannot fold that does not fit after the name it moves to a line of its own, and parsers (a message
    # object's own too) then keep that fold's space as part of the value: such a value stays after the name instead.
    return name, raw.lstrip()


def _plain_header(name: str, value: str) -> _Header:
    """Make a header as `_header` does, but without the email package, which costs more, when the value is plain."""
    pattern, limit = _VERBATIM[name]
    if len(name) + 2 + len(value) <= limit and pattern.fullmatch(value):
        return name, value
    return _header(name, value)


def _head_bytes(headers: tuple[_Header, ...]) -> bytes:
    """Write headers as the generator writes them, and the blank line after them."""
    return "".join(f"{name}: {value}\r\n" for name, value in headers).encode("ascii") + b"\r\n"


def _quoted_printable(text: str) -> bytes:
    """Encode a body as quoted-printable with CRLF line ends, as the message carries it."""
    # Line ends are made CRLF first: a lone CR or LF ends a line, as in email.contentmanager's own encoding.
    return binascii.b2a_qp(b"\r\n".join(text.encode("utf-8").splitlines()) + b"\r\n", istext=True)


def _part(headers: tuple[_Header, ...], payload: bytes) -> EmailMessage:
    """Make one body part from headers and an encoded payload."""
    part = EmailMessage(policy=_POLICY)
    for name, value in headers:
        part.set_raw(name, value)
    # A message object keeps LF line ends, as set_content leaves them; the generator writes them as CRLF.
    part.set_payload(payload.decode("ascii").replace("\r\n", "\n"))
    return part


_TEXT_HEAD, _HTML_HEAD = _head_bytes(_TEXT_HEADERS), _head_bytes(_HTML_HEADERS)


@dataclass(frozen=True)
class _Shared:
    """What every message of one lesson has in common, prepared once per lesson."""

    subject: str
    body_before: str  # absolute links, sized images
    body_after: str
    reply_to: str  # checked, and made a header, when a message is made: render() alone never fails on it
    subject_header: _Header


@dataclass(frozen=True)
class _Mime:
    """A message's parts before they become an `EmailMessage` or bytes: headers, quoted-printable bodies."""

    headers: tuple[_Header, ...]
    boundary: str
    text: bytes
    html: bytes


class Mailer:
    """Renders any lesson of one site as email; templates are compiled once, so each message is cheap."""

    def __init__(self, site: Site, reads: BodyReads | None = None) -> None:
        self.site = site
        config = site.config
        self._sender = site_sender(site)
        # One BodyReads for both: a build asks it whether the templates read other lessons' bodies.
        reads = reads or BodyReads()
        html_env = make_environment(config, reads=reads)
        text_env = make_environment(config, autoescape=False, reads=reads)
        # Caches live on the Mailer, so they go with it: a lesson's body becomes text once for all its recipients.
        image = wording(config).translations.gettext(IMAGE)
        text_env.filters["plaintext"] = functools.lru_cache(maxsize=2 * RECENT_ISSUES)(functools.partial(html_to_text, image=image))
        self._shared = functools.lru_cache(maxsize=RECENT_ISSUES)(self._prepare)
        self._html = html_env.get_template("email/message.html")
        self._text = text_env.get_template("email/message.txt")
        # @media rules (narrow screens, dark mode) cannot be inlined; they stay in one <style> block.
        self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
        self._from = _header("From", self._sender)
        self._list_id = _plain_header("List-Id", list_id_value(config))
        # The envelope sender, read back from the From header as a message object would read it.
        self.envelope_sender: str = _POLICY.header_fetch_parse(*self._from).addresses[0].addr_spec

    def subject(self, issue: Issue) -> str:
        """The subject: `[email] subject_prefix` (where `{series}` is the series title) and the lesson title."""
        prefix = self.site.config.email.subject_prefix.replace("{series}", issue.series.title)
        # The config loader strips values, so the space after a prefix like "[Retention] " is put back here.
        return one_line(f"{prefix} {issue.lesson.title}")

    def unsubscribe_url(self, issue: Issue, recipient: Recipient) -> str:
        """The recipient's, else the site's unsubscribe URL; without one, a mail to the reply address."""
        config = self.site.config
        return recipient.unsubscribe_url or config.email.unsubscribe_url or mailto.mailto(mailto.reply_address(config, issue), "Unsubscribe")

    def _prepare(self, issue: Issue) -> _Shared:
        """Prepare what does not depend on the recipient: the email body and the lesson's own headers."""
        permalink = self.site.config.absolute(issue.path)
        before, after = (_with_image_sizes(absolutize_html(part, permalink)) for part in issue.body_parts)
        subject = self.subject(issue)
        reply_to = mailto.reply_address(self.site.config, issue) or self._sender.addr_spec
        return _Shared(
            subject=subject,
            body_before=before,
            body_after=after,
            reply_to=reply_to,
            subject_header=_plain_header("Subject", subject),
        )

    def render(self, issue: Issue, recipient: Recipient = Recipient()) -> RenderedEmail:
        """Render the HTML and plain-text parts of one lesson for one recipient."""
        shared = self._shared(issue)
        context = {
            "site": self.site,
            "issue": issue,
            "subject": shared.subject,
            "preheader": issue.lesson.preheader or issue.lesson.summary,
            "greeting": greet(issue.greeting, recipient.name),
            "permalink": self.site.config.absolute(issue.path),
            "unsubscribe_url": self.unsubscribe_url(issue, recipient),
            "body_before": shared.body_before,
            "body_after": shared.body_after,
        }
        html = self._inliner.inline(self._html.render(**context))
        text = wrap_text(self._text.render(**context))
        return RenderedEmail(subject=shared.subject, html=html, text=text)

    def message_id(self, issue: Issue, recipient: Recipient) -> str:
        """A Message-ID on the site's domain: stable for a lesson, distinct per addressed recipient."""
        if recipient.message_id:
            return one_line(recipient.message_id)
        # Kept short, so the header line stays within the 78 characters RFC 5322 asks for.
        local = f"{issue.lesson.series}.{issue.lesson.slug}"
        if recipient.email:
            local += "." + hashlib.sha256(recipient.email.lower().encode()).hexdigest()[:12]
        return f"<{local}@{self.site.config.domain}>"

    def message(self, issue: Issue, recipient: Recipient = Recipient(), *, date: datetime | None = None) -> EmailMessage:
        """Build the `multipart/alternative` message (text, then HTML) with list headers, as the email package's object.

        Nothing sent or written uses it (`message_bytes` writes the same bytes): it is the reference the tests hold
        the hand-written bytes to, and the object a caller that wants to inspect a message can have.
        """
        mime = self._mime(issue, recipient, self.render(issue, recipient), date)
        message = EmailMessage(policy=_POLICY)
        message.set_payload([_part(_TEXT_HEADERS, mime.text), _part(_HTML_HEADERS, mime.html)])
        for name, value in mime.headers:
            message.set_raw(name, value)
        return message

    def message_bytes(self, issue: Issue, recipient: Recipient = Recipient(), *, date: datetime | None = None) -> bytes:
        """Return the bytes of `message(...).as_bytes()` without making the message object, which costs more."""
        return self._message_bytes(self._mime(issue, recipient, self.render(issue, recipient), date))

    def _message_bytes(self, mime: _Mime) -> bytes:
        """Write a message as `EmailMessage.as_bytes()` writes a `multipart/alternative` of two parts."""
        # The one MIME writer: built `.eml` files, `lessonpress email` and every message sent are these bytes.
        delimiter = f"--{mime.boundary}".encode("ascii")
        return b"".join([
            _head_bytes(mime.headers), delimiter, b"\r\n", _TEXT_HEAD, mime.text,
            b"\r\n", delimiter, b"\r\n", _HTML_HEAD, mime.html, b"\r\n", delimiter, b"--\r\n",
        ])

    def _mime(self, issue: Issue, recipient: Recipient, rendered: RenderedEmail, date: datetime | None) -> _Mime:
        """Make the headers of one rendered message and encode its parts."""
        shared = self._shared(issue)
        headers = [self._from]
        if recipient.email:
            headers.append(_plain_header("To", _checked_address(recipient.email, "the address", "recipient")))
        # Reply-To is made per lesson (the poll's address, or [email] reply_to): checked where it is made into a header.
        headers += [_plain_header("Reply-To", _checked_address(shared.reply_to, "[email] reply_to", CONFIG_NAME)), shared.subject_header]
        message_id = self.message_id(issue, recipient)
        unsubscribe = one_line(self.unsubscribe_url(issue, recipient))
        ways = [unsubscribe, *([one_line(recipient.unsubscribe_mailto)] if recipient.unsubscribe_mailto else [])]
        headers += [
            _plain_header("Date", format_datetime(date or issue.lesson.date)),
            _plain_header("Message-ID", message_id),
            _plain_header("List-Unsubscribe", ", ".join(f"<{way}>" for way in ways)),
        ]
        if recipient.email:
            # Only messages to a reader belong to the list: the built, unaddressed .eml stays as it was.
            headers.append(self._list_id)
        if unsubscribe.startswith("https://"):
            # RFC 8058: lets the mailbox provider unsubscribe with one POST, without opening a page.
            headers.append(_ONE_CLICK)
        text, html = _quoted_printable(rendered.text), _quoted_printable(rendered.html)
        # The email package picks a random boundary; one derived from the message keeps builds byte-identical.
        # Quoted-printable writes "=" as "=3D", so no encoded line can contain the boundary's "==".
        boundary = "==lessonpress-" + hashlib.sha256(b"\n".join([message_id.encode(), text, html])).hexdigest()[:32]
        # Folded as the email package folds it: the boundary alone makes the line too long.
        headers += [_MIME_VERSION, ("Content-Type", f'multipart/alternative;\r\n boundary="{boundary}"')]
        return _Mime(headers=tuple(headers), boundary=boundary, text=text, html=html)


def email_paths(issue: Issue) -> dict[str, str]:
    """The output paths of one lesson's email files, by suffix."""
    stem = f"email/{issue.lesson.series}/{issue.lesson.slug}"
    return {suffix: f"{stem}.{suffix}" for suffix in ("html", "txt", "eml")}


def email_files(mailer: Mailer, issue: Issue, merge_recipient: Recipient | None) -> dict[str, bytes]:
    """Render one lesson's `email/<series>/<slug>.html`, `.txt` and `.eml`, by output path."""
    paths = email_paths(issue)
    unaddressed = Recipient()
    sent = mailer.render(issue, unaddressed)
    # The .html and .txt are for pasting into an ESP, so they carry its merge tags when configured; the .eml is sent as is.
    pasted = mailer.render(issue, merge_recipient) if merge_recipient else sent
    return {
        paths["html"]: pasted.html.encode("utf-8"),
        paths["txt"]: pasted.text.encode("utf-8"),
        paths["eml"]: mailer._message_bytes(mailer._mime(issue, unaddressed, sent, None)),
    }


def render_emails(site: Site, progress: Progress = silent) -> dict[str, bytes]:
    """Render `email/<series>/<slug>.html`, `.txt` and `.eml` for every published lesson."""
    mailer = Mailer(site)
    merge_recipient = merge_tag_recipient(site)
    files: dict[str, bytes] = {}
    for issue in progress(f"Rendering {len(site.issues)} emails", site.issues):
        files.update(email_files(mailer, issue, merge_recipient))
    return files


def size_warnings(site: Site, sizes: Mapping[str, int]) -> list[SourceError]:
    """Warn about each email whose HTML is over the size budget (Gmail clips at about 102 KB); `sizes` by output path."""
    budget = site.config.email.size_budget_kb
    warnings = []
    for issue in site.issues:
        size = sizes.get(email_paths(issue)["html"], 0)
        if size > budget * 1024:
            warnings.append(SourceError(issue.lesson.source, 0, f"the email is {size / 1024:.0f} KB, over the {budget} KB budget: Gmail clips long messages and hides the rest, unsubscribe link included; shorten the lesson or split it"))
    return warnings
