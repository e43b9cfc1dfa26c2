"""Every lesson as email: HTML with inlined CSS, a plain-text part, and a MIME message."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

import css_inline

from . import mailto
from .absolute import absolutize_html
from .errors import BuildFailed, SourceError
from .model import Issue, Site
from .plaintext import html_to_text, wrap_text
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


class Mailer:
    """Renders any lesson of one site as email; templates are compiled once, so each message is cheap."""

    def __init__(self, site: Site) -> None:
        self.site = site
        config = site.config
        self._sender = _sender(site)
        html_env = make_environment(config)
        text_env = make_environment(config, autoescape=False)
        text_env.filters["plaintext"] = html_to_text
        self._html = html_env.get_template("email/message.html")
        self._text = text_env.get_template("email/message.txt")
        # @media rules (narrow screens, dark mode) cannot be inlined; they stay in one <style> block.
        self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)

    def subject(self, issue: Issue) -> str:
        """The subject: `[email] subject_prefix` (where `{series}` is the series title) and the lesson title."""
        prefix = self.site.config.email.subject_prefix.replace("{series}", issue.series.title)
        # The config loader strips values, so the space after a prefix like "[Retention] " is put back here.
        return one_line(f"{prefix} {issue.lesson.title}")

    def unsubscribe_url(self, issue: Issue, recipient: Recipient) -> str:
        """The recipient's, else the site's unsubscribe URL; without one, a mail to the reply address."""
        config = self.site.config
        return recipient.unsubscribe_url or config.email.unsubscribe_url or mailto.mailto(mailto.reply_address(config, issue), "Unsubscribe")

    def render(self, issue: Issue, recipient: Recipient = Recipient()) -> RenderedEmail:
        """Render the HTML and plain-text parts of one lesson for one recipient."""
        config = self.site.config
        permalink = config.absolute(issue.path)
        before, after = (_with_image_sizes(absolutize_html(part, permalink)) for part in issue.body_parts)
        context = {
            "site": self.site,
            "issue": issue,
            "subject": self.subject(issue),
            "preheader": issue.lesson.preheader or issue.lesson.summary,
            "greeting": greet(issue.greeting, recipient.name),
            "permalink": permalink,
            "unsubscribe_url": self.unsubscribe_url(issue, recipient),
            "body_before": before,
            "body_after": after,
        }
        html = self._inliner.inline(self._html.render(**context))
        text = wrap_text(self._text.render(**context))
        return RenderedEmail(subject=context["subject"], html=html, text=text)

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
        config = self.site.config
        rendered = self.render(issue, recipient)
        message = EmailMessage(policy=SMTP)
        message["From"] = self._sender
        if recipient.email:
            message["To"] = _checked_address(recipient.email, "the address", "recipient")
        message["Reply-To"] = _checked_address(mailto.reply_address(config, issue) or self._sender.addr_spec, "[email] reply_to")
        message["Subject"] = rendered.subject
        message["Date"] = format_datetime(date or issue.lesson.date)
        message["Message-ID"] = self.message_id(issue, recipient)
        unsubscribe = one_line(self.unsubscribe_url(issue, recipient))
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        if unsubscribe.startswith("https://"):
            # RFC 8058: lets the mailbox provider unsubscribe with one POST, without opening a page.
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
        message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
        # The email package picks a random boundary; one derived from the message keeps builds byte-identical.
        digest = hashlib.sha256(f"{message['Message-ID']}\n{rendered.text}\n{rendered.html}".encode()).hexdigest()[:32]
        message.set_boundary(f"==lessonpress-{digest}")
        return message


def email_paths(issue: Issue) -> dict[str, str]:
    """The output paths of one lesson's email files, by suffix."""
    stem = f"email/{issue.lesson.series}/{issue.lesson.slug}"
    return {suffix: f"{stem}.{suffix}" for suffix in ("html", "txt", "eml")}


def render_emails(site: Site) -> dict[str, bytes]:
    """Render `email/<series>/<slug>.html`, `.txt` and `.eml` for every published lesson."""
    mailer = Mailer(site)
    # The .html and .txt are for pasting into an ESP, so they carry its merge tags when configured.
    template_recipient = merge_tag_recipient(site) or Recipient()
    files: dict[str, bytes] = {}
    for issue in site.issues:
        paths = email_paths(issue)
        pasted = mailer.render(issue, template_recipient)
        files[paths["html"]] = pasted.html.encode("utf-8")
        files[paths["txt"]] = pasted.text.encode("utf-8")
        files[paths["eml"]] = mailer.message(issue).as_bytes()
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
