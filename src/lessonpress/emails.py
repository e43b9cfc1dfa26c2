"""Every lesson as email: HTML with inlined CSS, a plain-text part, and a MIME message."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email import quoprimime
from email.headerregistry import Address, BaseHeader
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

import css_inline

from . import mailto
from .absolute import absolutize_html
from .errors import BuildFailed, SourceError
from .model import Issue, Site
from .plaintext import html_to_text, wrap_text
from .progress import Progress, silent
from .themes import make_environment

CONFIG_NAME = "lessonpress.toml"
# What each service substitutes per subscriber: (unsubscribe link, recipient's name).
MERGE_TAGS: dict[str, tuple[str, str]] = {
    "mailchimp": ("*|UNSUB|*", "*|FNAME|*"),
    "listmonk": ("{{ UnsubscribeURL }}", "{{ .Subscriber.FirstName }}"),
    "buttondown": ("{{ unsubscribe_url }}", "{{ subscriber.metadata.first_name }}"),
}
# The container's inner width: body images without a width are drawn at most this wide.
IMAGE_WIDTH = 560
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ADDR_SPEC = re.compile(r"^[^\s@<>()\[\],;:\"\\]+@[A-Za-z0-9.-]+$")
# A send repeats one lesson and a drip a few, while a build visits each lesson once: a few suffice.
RECENT_ISSUES = 8
QP_LINES = 4096  # a message of the generated corpus has about 700 distinct lines


@dataclass(frozen=True)
class Recipient:
    """Who one message is for; the defaults make the built, unaddressed `.eml`."""

    email: str = ""  # To address; "" means no To header (the built .eml)
    name: str = ""  # greets the reader by name where the theme greets
    unsubscribe_url: str = ""  # per-recipient; "" means [email] unsubscribe_url from config
    message_id: str = ""  # "" means a deterministic id from the lesson on the site's domain


@dataclass(frozen=True)
class RenderedEmail:
    """One lesson rendered for one recipient."""

    subject: str
    html: str
    text: str


def one_line(value: str) -> str:
    """Fold any whitespace, newlines included, into single spaces so a value can never start a header."""
    return " ".join(_CONTROL.sub(" ", value).split())


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
    if isinstance(setting, str):
        if setting.lower() not in MERGE_TAGS:
            raise BuildFailed([SourceError(CONFIG_NAME, 0, f"[email] merge_tags '{setting}' is not known: use one of {', '.join(sorted(MERGE_TAGS))}, or a table like {{ unsubscribe = \"*|UNSUB|*\", name = \"*|FNAME|*\" }}")])
        unsubscribe, name = MERGE_TAGS[setting.lower()]
    else:
        unknown = sorted(set(setting) - {"unsubscribe", "name"})
        if unknown or not isinstance(setting.get("unsubscribe"), str) or not all(isinstance(value, str) for value in setting.values()):
            raise BuildFailed([SourceError(CONFIG_NAME, 0, "[email] merge_tags as a table takes text keys 'unsubscribe' (required) and 'name'")])
        unsubscribe, name = setting["unsubscribe"], setting.get("name", "")
    return Recipient(name=name, unsubscribe_url=unsubscribe)


def _checked_address(value: str, what: str, source: str = CONFIG_NAME) -> str:
    """Return a bare address, refusing anything that could smuggle a header or is not an address."""
    if not _ADDR_SPEC.match(value):
        raise BuildFailed([SourceError(source, 0, f"{what} '{one_line(value)}' is not a plain email address like name@example.org")])
    return value


def _sender(site: Site) -> Address:
    config = site.config
    if config.email.sender:
        name, address = parseaddr(config.email.sender)
        if _CONTROL.search(config.email.sender):
            raise BuildFailed([SourceError(CONFIG_NAME, 0, "[email] from must be one line, like \"Letters <letters@example.org>\"")])
        return Address(display_name=name, addr_spec=_checked_address(address, "[email] from"))
    if config.author.email:
        return Address(display_name=one_line(config.author.name or config.title), addr_spec=_checked_address(config.author.email, "[author] email"))
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


def _header(name: str, value: object) -> BaseHeader:
    """Parse a header value exactly as assigning it to an `EmailMessage` with the SMTP policy does."""
    return SMTP.header_factory(name, value)


def _part(headers: tuple[BaseHeader, ...], payload: str) -> EmailMessage:
    """Make one body part from parsed headers and an encoded payload."""
    part = EmailMessage(policy=SMTP)
    for header in headers:
        # set_raw stores the header as parsed, which is what assigning it stores, without parsing it again.
        part.set_raw(header.name, header)
    part.set_payload(payload)
    return part


def _encode_lines(lines: list[str]) -> list[str]:
    """Quoted-printable encode lines as `set_content(..., cte="quoted-printable")` does, one result per line."""
    # One body_encode call for all lines costs far less than one per line. It encodes each line on its own,
    # and every piece but the last of a long line ends in "=" (a soft break), which no line's last piece does.
    if not lines:
        return []
    physical = quoprimime.body_encode("\n".join(lines) + "\n", SMTP.max_line_length).split("\n")[:-1]
    encoded: list[str] = []
    pieces: list[str] = []
    for piece in physical:
        pieces.append(piece)
        if not piece.endswith("="):
            encoded.append("\n".join(pieces))
            pieces = []
    return encoded


def _head_bytes(headers: tuple[BaseHeader, ...]) -> bytes:
    """Write headers as the SMTP policy's generator does, folded, and the blank line after them."""
    return b"".join(SMTP.fold_binary(header.name, header) for header in headers) + b"\r\n"


def _body_bytes(payload: str) -> bytes:
    """Write a quoted-printable payload with the generator's CRLF line ends."""
    return payload.replace("\n", "\r\n").encode("ascii")


@dataclass(frozen=True)
class _Shared:
    """What every message of one lesson has in common, prepared once per lesson."""

    subject: str
    body_before: str  # absolute links, sized images
    body_after: str
    reply_to: str  # checked when a message is made, as before: render() alone never fails on it
    reply_headers: tuple[BaseHeader, ...]  # Reply-To and Subject, parsed


@dataclass(frozen=True)
class _Mime:
    """A message's parts before they become an `EmailMessage` or bytes: parsed headers, quoted-printable bodies."""

    headers: tuple[BaseHeader, ...]
    boundary: str
    text: str
    html: str


class Mailer:
    """Renders any lesson of one site as email; templates are compiled once, so each message is cheap."""

    def __init__(self, site: Site) -> None:
        self.site = site
        config = site.config
        self._sender = _sender(site)
        html_env = make_environment(config)
        text_env = make_environment(config, autoescape=False)
        # Caches live on the Mailer, so they go with it: a lesson's body becomes text once for all its recipients.
        text_env.filters["plaintext"] = functools.lru_cache(maxsize=2 * RECENT_ISSUES)(html_to_text)
        self._shared = functools.lru_cache(maxsize=RECENT_ISSUES)(self._prepare)
        self._html = html_env.get_template("email/message.html")
        self._text = text_env.get_template("email/message.txt")
        # @media rules (narrow screens, dark mode) cannot be inlined; they stay in one <style> block.
        self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
        # Headers no recipient changes are parsed once: parsing, not writing, is most of a header's cost.
        self._from = _header("From", self._sender)
        self._one_click = _header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
        self._mime_version = _header("MIME-Version", "1.0")
        encoding = _header("Content-Transfer-Encoding", "quoted-printable")
        self._text_headers = (_header("Content-Type", 'text/plain; charset="utf-8"'), encoding)
        # EmailMessage.add_alternative gave the HTML part its own MIME-Version; kept so .eml files stay byte-identical.
        self._html_headers = (_header("Content-Type", 'text/html; charset="utf-8"'), encoding, self._mime_version)
        self._text_head, self._html_head = _head_bytes(self._text_headers), _head_bytes(self._html_headers)
        # Quoted-printable encodes each line on its own, and most lines are the same for every recipient of a
        # lesson (the style sheet and the template's for every lesson), so each distinct line is encoded once.
        self._encoded_lines: dict[str, str] = {}

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
            reply_headers=(_header("Reply-To", reply_to), _header("Subject", subject)),
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
        # Kept short: a header over 78 characters is folded, and some parsers then keep the fold's space.
        local = f"{issue.lesson.series}.{issue.lesson.slug}"
        if recipient.email:
            local += "." + hashlib.sha256(recipient.email.lower().encode()).hexdigest()[:12]
        return f"<{local}@{self.site.config.domain}>"

    def message(self, issue: Issue, recipient: Recipient = Recipient(), *, date: datetime | None = None) -> EmailMessage:
        """Build the `multipart/alternative` message (text, then HTML) with list headers."""
        mime = self._mime(issue, recipient, self.render(issue, recipient), date)
        message = EmailMessage(policy=SMTP)
        message.set_payload([_part(self._text_headers, mime.text), _part(self._html_headers, mime.html)])
        for header in mime.headers:
            message.set_raw(header.name, header)
        return message

    def message_bytes(self, issue: Issue, recipient: Recipient = Recipient(), *, date: datetime | None = None) -> bytes:
        """Return the bytes of `message(...).as_bytes()` without making the message object, which costs more."""
        return self._message_bytes(self._mime(issue, recipient, self.render(issue, recipient), date))

    def _message_bytes(self, mime: _Mime) -> bytes:
        """Write a message as `EmailMessage.as_bytes()` writes a `multipart/alternative` of two parts."""
        delimiter = f"--{mime.boundary}".encode("ascii")
        return b"".join([
            _head_bytes(mime.headers), delimiter, b"\r\n", self._text_head, _body_bytes(mime.text),
            b"\r\n", delimiter, b"\r\n", self._html_head, _body_bytes(mime.html), b"\r\n", delimiter, b"--\r\n",
        ])

    def _quoted_printable(self, text: str) -> str:
        """Encode a body as `set_content(text, cte="quoted-printable")` stores it in the message."""
        # email.contentmanager's steps (UTF-8 bytes, split into lines, read as Latin-1), taken line by line.
        lines = [line.decode("latin-1") for line in text.encode("utf-8").splitlines()]
        if len(self._encoded_lines) > QP_LINES:
            self._encoded_lines.clear()
        missing = [line for line in dict.fromkeys(lines) if line not in self._encoded_lines]
        self._encoded_lines.update(zip(missing, _encode_lines(missing)))
        return "\n".join(self._encoded_lines[line] for line in lines) + "\n"

    def _mime(self, issue: Issue, recipient: Recipient, rendered: RenderedEmail, date: datetime | None) -> _Mime:
        """Make the headers of one rendered message and encode its parts."""
        shared = self._shared(issue)
        headers = [self._from]
        if recipient.email:
            headers.append(_header("To", _checked_address(recipient.email, "the address", "recipient")))
        _checked_address(shared.reply_to, "[email] reply_to")
        headers += shared.reply_headers
        message_id = _header("Message-ID", self.message_id(issue, recipient))
        unsubscribe = one_line(self.unsubscribe_url(issue, recipient))
        headers += [_header("Date", format_datetime(date or issue.lesson.date)), message_id, _header("List-Unsubscribe", f"<{unsubscribe}>")]
        if unsubscribe.startswith("https://"):
            # RFC 8058: lets the mailbox provider unsubscribe with one POST, without opening a page.
            headers.append(self._one_click)
        # The email package picks a random boundary; one derived from the message keeps builds byte-identical.
        digest = hashlib.sha256(f"{message_id}\n{rendered.text}\n{rendered.html}".encode()).hexdigest()[:32]
        boundary = f"==lessonpress-{digest}"
        headers += [self._mime_version, _header("Content-Type", f'multipart/alternative; boundary="{boundary}"')]
        return _Mime(headers=tuple(headers), boundary=boundary, text=self._quoted_printable(rendered.text), html=self._quoted_printable(rendered.html))


def email_paths(issue: Issue) -> dict[str, str]:
    """The output paths of one lesson's email files, by suffix."""
    stem = f"email/{issue.lesson.series}/{issue.lesson.slug}"
    return {suffix: f"{stem}.{suffix}" for suffix in ("html", "txt", "eml")}


def render_emails(site: Site, progress: Progress = silent) -> dict[str, bytes]:
    """Render `email/<series>/<slug>.html`, `.txt` and `.eml` for every published lesson."""
    mailer = Mailer(site)
    merge_recipient = merge_tag_recipient(site)
    unaddressed = Recipient()
    files: dict[str, bytes] = {}
    for issue in progress(f"Rendering {len(site.issues)} emails", site.issues):
        paths = email_paths(issue)
        sent = mailer.render(issue, unaddressed)
        # The .html and .txt are for pasting into an ESP, so they carry its merge tags when configured; the .eml is sent as is.
        pasted = mailer.render(issue, merge_recipient) if merge_recipient else sent
        files[paths["html"]] = pasted.html.encode("utf-8")
        files[paths["txt"]] = pasted.text.encode("utf-8")
        files[paths["eml"]] = mailer._message_bytes(mailer._mime(issue, unaddressed, sent, None))
    return files


def size_warnings(site: Site, files: dict[str, bytes]) -> list[SourceError]:
    """Warn about each email whose HTML is over the size budget (Gmail clips at about 102 KB)."""
    budget = site.config.email.size_budget_kb
    warnings = []
    for issue in site.issues:
        size = len(files.get(email_paths(issue)["html"], b""))
        if size > budget * 1024:
            warnings.append(SourceError(issue.lesson.source, 0, f"the email is {size / 1024:.0f} KB, over the {budget} KB budget: Gmail clips long messages and hides the rest, unsubscribe link included; shorten the lesson or split it"))
    return warnings
