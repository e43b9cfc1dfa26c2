"""What makes one message one reader's: their unsubscribe link and signed mailto, and their VERP return path.

Only the reader's validated address and tokens signed with `LESSONPRESS_SECRET` reach a header or the
envelope: tokens are lowercase hex (`tokens.py`), and the address templates were checked when
`lessonpress.toml` was read.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from ..content.config import SiteConfig
from ..render import mailto
from ..render.emails import Mailer, Recipient
from ..site.model import Issue
from ..tokens import AddressTemplate, Purpose, make_token, url_token
from .delivery import Composed
from .subscribers import Subscriber

UNSUBSCRIBE_SUBJECT = "Unsubscribe"


def unsubscribe_link(base: str, secret: str, address: str) -> str:
    """The recipient's unsubscribe URL: the site's, with the address and an HMAC-SHA256 token of it."""
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode({'email': address, 'token': url_token(secret, address)})}"


def signed_address(template: str, secret: str, address: str, purpose: Purpose) -> str:
    """Fill an address template such as `bounces+{token}@example.org` with the reader's token; "" when not configured."""
    return AddressTemplate.parse(template).fill(make_token(secret, address, purpose)) if template else ""


def unsubscribe_ways(config: SiteConfig, secret: str, address: str) -> tuple[str, str]:
    """Return the reader's (unsubscribe link, signed mailto for List-Unsubscribe beside it).

    The link is the https URL when there is one, else the signed mailto itself (then nothing goes beside it).
    """
    by_mail = signed_address(config.mailing.unsubscribe_address, secret, address, "unsubscribe")
    mail_link = mailto.mailto(by_mail, UNSUBSCRIBE_SUBJECT) if by_mail else ""
    page = unsubscribe_page(config)
    if page.startswith("https://"):
        return unsubscribe_link(page, secret, address), mail_link
    return mail_link, ""


def unsubscribe_page(config: SiteConfig) -> str:
    """The web page that unsubscribes: `lessonpress endpoint`'s when `[list] endpoint` is set, else `[email] unsubscribe_url`."""
    return config.mailing.endpoint_url("unsubscribe") if config.mailing.endpoint else config.email.unsubscribe_url


def compose(mailer: Mailer, issue: Issue, subscriber: Subscriber, secret: str, now: datetime, message_id: str = "") -> Composed:
    """Build the personalised message of one lesson for one subscriber, and the envelope sender bounces come back to."""
    config = mailer.site.config
    link, beside = unsubscribe_ways(config, secret, subscriber.email)
    recipient = Recipient(email=subscriber.email, name=subscriber.name, unsubscribe_url=link, unsubscribe_mailto=beside, message_id=message_id)
    # VERP: each reader's bounces come back to an address that names them, whatever the bounce looks like.
    sender = signed_address(config.email.bounce_address, secret, subscriber.email, "bounce") or mailer.envelope_sender
    return Composed(sender, mailer.message_bytes(issue, recipient, date=now))
