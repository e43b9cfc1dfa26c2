"""The endpoint's hand-off: one signed, machine-made message per action a reader took on the web.

`lessonpress endpoint` keeps no list. When a reader unsubscribes or confirms a subscription on the
web, it mails the action to `[list] address`, signed with `LESSONPRESS_SECRET`, and the next inbox
pass applies it to `.lessonpress/list.sqlite`: the one list `send` reads. The reader's address
travels only in the body, never in a header:

    lessonpress-handoff: 1
    action: unsubscribe
    address: ann@example.org
    at: 1767225600
    stamp: 0f3c…

`stamp` is `stamps.make_stamp(secret, "handoff-" + action, address, at)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from ..addresses import ADDR_SPEC, is_address
from ..stamps import make_stamp, stamp_problem
from ..untrusted import ascii_number

MARK = "lessonpress-handoff: 1"
ACTIONS = ("unsubscribe", "subscribe")
# A hand-off lies in the mailbox until the next pass; one older than this was not made for it (a copy dug out of an archive).
MAX_AGE_SECONDS = 90 * 24 * 3600


@dataclass(frozen=True)
class Handoff:
    """One verified action: `unsubscribe` or `subscribe` (a confirmed double opt-in), for `address`, at `at` (Unix seconds)."""

    action: str
    address: str
    at: int

    @property
    def moment(self) -> str:
        return datetime.fromtimestamp(self.at, UTC).isoformat(timespec="seconds")


def _stamp(secret: str, handoff: Handoff) -> str:
    return make_stamp(secret, f"handoff-{handoff.action}", handoff.address, handoff.at)


def handoff_text(secret: str, handoff: Handoff) -> str:
    """The body of a hand-off; the address was checked by the caller (`is_address`), so it holds no line break."""
    lines = [MARK, f"action: {handoff.action}", f"address: {handoff.address}", f"at: {handoff.at}", f"stamp: {_stamp(secret, handoff)}"]
    return "\n".join(lines) + "\n"


def handoff_message(secret: str, handoff: Handoff, sender: Address, list_address: str, domain: str) -> EmailMessage:
    """The message the endpoint sends to the list's mailbox: from the site's sender, to `[list] address`."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = list_address
    message["Subject"] = f"lessonpress endpoint: {handoff.action}"
    message["Date"] = format_datetime(datetime.fromtimestamp(handoff.at, UTC))
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(handoff_text(secret, handoff))
    return message


def read_handoff(text: str, secret: str, now: int) -> Handoff | str | None:
    """Read a hand-off from a message's text: None when it is not one, a reason when it does not verify, else the action."""
    # Every message of a pass comes here: only one that starts with the mark is split into lines.
    if not text.lstrip().startswith(MARK):
        return None
    lines = [line.strip() for line in text.strip().splitlines()[:8]]
    if lines[0] != MARK:
        return None
    fields = dict(line.partition(": ")[::2] for line in lines[1:] if line)
    action, address, at, stamp = (fields.get(name, "") for name in ("action", "address", "at", "stamp"))
    seconds = ascii_number(at)
    if set(fields) != {"action", "address", "at", "stamp"} or action not in ACTIONS or seconds is None:
        return "a hand-off from the endpoint that is not whole (cut short or altered)"
    if not is_address(address) or not ADDR_SPEC.match(address):
        return "a hand-off from the endpoint naming something that is not an address"
    if not secret:
        return "a hand-off from the endpoint, and LESSONPRESS_SECRET is not set to verify it"
    handoff = Handoff(action, address, seconds)
    problem = stamp_problem(secret, f"handoff-{action}", address, handoff.at, stamp, now=now, max_age=MAX_AGE_SECONDS)
    return f"a hand-off from the endpoint ({action}) that does not verify: {problem}" if problem else handoff
