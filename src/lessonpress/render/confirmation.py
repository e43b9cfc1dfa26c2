"""The confirmation email a subscribe request by mail is answered with, in the theme's look."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

import css_inline

from ..site.model import Site
from ..untrusted import one_line
from .emails import site_sender
from .plaintext import wrap_text
from .themes import make_environment, wording

# How long the endpoint's confirmation link works (endpoint/settings.py reads it from here); the mail says so.
CONFIRM_DAYS = 7


class ConfirmationMail:
    """Renders confirmations for one site; templates are compiled once for a whole inbox pass."""

    def __init__(self, site: Site) -> None:
        self.site = site
        config = site.config
        self._html = make_environment(config).get_template("email/confirm.html")
        self._text = make_environment(config, autoescape=False).get_template("email/confirm.txt")
        # As the lesson emails: @media rules (narrow screens, dark mode) stay in the <style> block.
        self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
        # The lessons' own sender, so the confirmation comes from the address the reader will get lessons from.
        self.sender: Address = site_sender(site)
        self.gettext = wording(config).translations.gettext

    def subject(self) -> str:
        return one_line(self.gettext("Confirm your subscription to %(title)s") % {"title": self.site.config.title})

    def message(self, address: str, confirm_address: str, date: datetime, *, confirm_url: str = "") -> EmailMessage:
        """Build the message to `address` whose Reply-To, `confirm_address`, carries the reader's confirm token.

        From the subscribe form (`confirm_url`, the endpoint's signed link) the reader confirms on
        the web instead, and there is no Reply-To. `address` and `confirm_address` were checked as
        plain addresses by the caller; the email package refuses a line break in any header value,
        so nothing can start a header of its own.
        """
        config = self.site.config
        context = {
            "site": self.site,
            "series": self.site.series,
            "address": address,
            "confirm_address": confirm_address,
            "confirm_url": confirm_url,
            "subject": self.subject(),
            "confirm_days": CONFIRM_DAYS,
            "preheader": (
                self.gettext("Open the link to confirm that you want %(title)s.")
                if confirm_url
                else self.gettext("Reply to this message to confirm that you want %(title)s.")
            )
            % {"title": config.title},
        }
        message = EmailMessage(policy=SMTP)
        message["From"] = self.sender
        message["To"] = address
        if confirm_address:
            message["Reply-To"] = confirm_address
        message["Subject"] = self.subject()
        message["Date"] = format_datetime(date)
        message["Message-ID"] = make_msgid(domain=config.domain)
        # RFC 3834: an auto-reply to this message must not come back; such replies are not confirmations either.
        message["Auto-Submitted"] = "auto-replied"
        message.set_content(wrap_text(self._text.render(**context)))
        message.add_alternative(self._inliner.inline(self._html.render(**context)), subtype="html")
        return message
