"""Signed, dated stamps: what the endpoint's links and hand-off mails carry so that only this site could have made them.

A stamp is HMAC-SHA256, keyed with `LESSONPRESS_SECRET`, over `NUL "stamp" NUL kind NUL address NUL
seconds`, cut to 128 bits and written in lowercase hex (32 characters). The word "stamp" stands where
`tokens.py` puts a token's purpose (`unsubscribe`, `confirm`, `bounce`), and the unsubscribe URL's
token is a MAC of the bare address, which never starts with NUL: no stamp is ever a token of either
kind, so one cannot be passed off as another. The time inside the MAC lets a link expire.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_MAC_BYTES = 16
EXPIRED = "it has expired"
STAMP = re.compile(r"[0-9a-f]{32}")


def make_stamp(secret: str, kind: str, address: str, seconds: int) -> str:
    """Return the stamp of (`kind`, `address`, `seconds`): 32 lowercase hex digits."""
    if not secret:
        raise ValueError("the secret is empty: stamps signed with it could be forged by anyone")
    message = b"\x00".join([b"", b"stamp", kind.encode("ascii"), address.lower().encode("utf-8"), str(seconds).encode("ascii")])
    return hmac.digest(secret.encode("utf-8"), message, hashlib.sha256)[:_MAC_BYTES].hex()


def stamp_problem(secret: str, kind: str, address: str, seconds: int, stamp: str, *, now: int, max_age: int) -> str:
    """Say what is wrong with a stamp ("" when it is good): not this site's, or older than `max_age` seconds."""
    stamp = stamp.strip().lower()
    if not STAMP.fullmatch(stamp) or not hmac.compare_digest(make_stamp(secret, kind, address, seconds), stamp):
        return "it was not signed by this site (altered, cut short, or signed with another secret)"
    # A little room for clocks that disagree; a stamp from further ahead was not made by this endpoint's clock.
    if seconds > now + 300:
        return "it is dated in the future"
    if now - seconds > max_age:
        return EXPIRED
    return ""
