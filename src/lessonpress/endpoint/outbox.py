"""The mail the endpoint sends: one confirmation to a reader who used the form, and hand-offs to the list's mailbox."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from ..mail.handoff import Handoff, handoff_message
from ..render.confirmation import ConfirmationMail
from ..send.smtp import ThreadSessions
from ..stamps import make_stamp
from ..tokens import AddressTemplate, make_token
from .settings import EndpointSettings

SUBSCRIBE_STAMP = "subscribe"


def confirm_link(settings: EndpointSettings, address: str, seconds: int) -> str:
    """The signed, dated link of a confirmation: the address, when it was asked, and a stamp over both."""
    stamp = make_stamp(settings.secret, SUBSCRIBE_STAMP, address, seconds)
    return settings.site.config.mailing.endpoint_url("confirm") + "?" + urlencode({"email": address, "at": seconds, "token": stamp})


class Outbox:
    """Sends the endpoint's mail through the relay, on one session per server thread."""

    def __init__(self, settings: EndpointSettings) -> None:
        self.settings = settings
        self.confirmation = ConfirmationMail(settings.site)
        self.relay = ThreadSessions(settings.smtp)

    def send_confirmation(self, address: str) -> str:
        """Mail the reader the confirmation link; return "" when the relay took it, else why not."""
        settings = self.settings
        now = time.time()
        link = confirm_link(settings, address, int(now))
        message = self.confirmation.message(address, "", datetime.fromtimestamp(now, UTC), confirm_url=link)
        bounce = settings.site.config.email.bounce_address
        # A bounce of the confirmation names the reader by token, as the inbox pass's confirmations do.
        sender = AddressTemplate.parse(bounce).fill(make_token(settings.secret, address, "bounce")) if bounce else self.confirmation.sender.addr_spec
        return self.relay.send(sender, address, message.as_bytes())

    def hand_off(self, handoff: Handoff) -> str:
        """Mail a verified action to `[list] address`; return "" when the relay took it, else why not."""
        settings = self.settings
        sender = self.confirmation.sender
        message = handoff_message(settings.secret, handoff, sender, settings.list_address, settings.site.config.domain)
        return self.relay.send(sender.addr_spec, settings.list_address, message.as_bytes())

