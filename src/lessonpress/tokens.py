"""Sign readers' addresses into tokens that mail can carry back: unsubscribe, confirm, bounce.

A reader's action comes back as a message to an address lessonpress handed out, such as
`unsubscribe+TOKEN@example.org` in `List-Unsubscribe`, `confirm+TOKEN@…` as a confirmation's
reply address, or the VERP return path `bounces+TOKEN@…`. The token names the reader without
holding their address (it travels through other people's servers and logs) and cannot be made
without `LESSONPRESS_SECRET`.

The format, version 1:

- token = one purpose letter (`u` unsubscribe, `c` confirm, `b` bounce) + 32 characters of
  MAC, 33 characters in all, which leaves 31 of a local part's 64 for `bounces+` and the like;
- MAC = HMAC-SHA256 keyed with the secret (UTF-8) over `NUL purpose NUL address`, the address
  lowercased, cut to its first 128 bits and written in lowercase hex: only lowercase letters and
  digits, so a server that lowercases local parts changes nothing and one that uppercases them
  is undone by lowercasing what comes back. (Hex rather than base32: the standard library
  writes it in C, which keeps an index of 10,000 readers in the tens of milliseconds.);
- the leading NUL keeps these MACs apart from the unsubscribe URL's token (an HMAC over the
  bare address, see `url_token`): no address can start with NUL, so no URL token is ever a
  MAC of this format, and the purpose inside the MAC keeps a bounce token from unsubscribing.

Finding the reader from a token means computing the tokens of the known addresses
(`TokenIndex`): one HMAC each, tens of milliseconds for 10,000 readers. A future format would
take new purpose letters, so tokens already out in the world keep working.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Purpose = Literal["unsubscribe", "confirm", "bounce"]
_LETTERS: dict[Purpose, str] = {"unsubscribe": "u", "confirm": "c", "bounce": "b"}
_PURPOSES: dict[str, Purpose] = {letter: purpose for purpose, letter in _LETTERS.items()}
_HEX = re.compile("[0-9a-f]+")
_MAC_BYTES = 16  # 128 bits: far past guessing (80 would do), and still short enough for a local part
TOKEN_LENGTH = 1 + 2 * _MAC_BYTES  # a purpose letter, then the MAC in hex
LOCAL_PART_LIMIT = 64  # RFC 5321, section 4.5.3.1.1
PLACEHOLDER = "{token}"
# A plain address as a template may be written: dot-atom characters before the @ (no quotes,
# no display name, no angle brackets), host name labels after it.
_LOCAL_CHARACTERS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`|~.-]*")
_DOMAIN = re.compile(r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")
# What may stand in a recipient header around the address itself: `rfc822;` (DSN fields such as
# Original-Recipient), angle brackets, spaces.
_ADDRESS_TYPE = re.compile(r"^\s*rfc822\s*;", re.IGNORECASE)


class TemplateError(ValueError):
    """An address template that cannot carry a token; the message says what to write instead."""


def _key(secret: str) -> bytes:
    if not secret:
        # An empty key makes every token computable by anyone.
        raise ValueError("the secret is empty: tokens signed with it could be forged by anyone")
    return secret.encode("utf-8")


def _normal(address: str) -> str:
    address = address.lower()
    # A NUL in an address would let a URL token stand in for a mail token (see the module docstring).
    if not address or "\x00" in address:
        raise ValueError("an address to sign must be non-empty and hold no NUL character")
    return address


def _token(key: bytes, purpose: Purpose, address: str) -> str:
    digest = hmac.digest(key, b"\x00" + purpose.encode("ascii") + b"\x00" + _normal(address).encode("utf-8"), hashlib.sha256)
    return _LETTERS[purpose] + digest[:_MAC_BYTES].hex()


def make_token(secret: str, address: str, purpose: Purpose) -> str:
    """Return the token that names `address` for `purpose`: 33 lowercase letters and digits."""
    return _token(_key(secret), purpose, address)


def token_purpose(token: str) -> Purpose | None:
    """Return the purpose a token is shaped for, or None when it is not a token of this format."""
    token = token.lower()
    if len(token) != TOKEN_LENGTH or not token.isascii() or not _HEX.fullmatch(token, 1):
        return None
    return _PURPOSES.get(token[0])


def verify_token(secret: str, address: str, purpose: Purpose, token: str) -> bool:
    """Say whether `token` names `address` for `purpose`; case-insensitive, in constant time."""
    if token_purpose(token) != purpose:
        return False
    return hmac.compare_digest(make_token(secret, address, purpose), token.lower())


class TokenIndex:
    """Known addresses by their token for one purpose, to find the reader a token names."""

    def __init__(self, secret: str, addresses: Iterable[str], purpose: Purpose) -> None:
        self._key = _key(secret)
        self.purpose: Purpose = purpose
        self._addresses: dict[str, str] = {}
        for address in addresses:
            # Addresses that differ only in case share a token; the first one given is the reader.
            self._addresses.setdefault(_token(self._key, purpose, address), address)

    def __len__(self) -> int:
        return len(self._addresses)

    def find(self, token: str) -> str | None:
        """Return the address `token` names, or None for a forged, altered or foreign token."""
        if token_purpose(token) != self.purpose:
            return None
        token = token.lower()
        # Python hashes strings with a per-process random key, so the lookup's time says nothing
        # about how close a guess came; the match is then confirmed in constant time.
        address = self._addresses.get(token)
        if address is None or not hmac.compare_digest(_token(self._key, self.purpose, address), token):
            return None
        return address


def url_token(secret: str, address: str) -> str:
    """Return the unsubscribe URL's `token=`: HMAC-SHA256 of the lowercased address in hex, as `send` has always made it."""
    return hmac.new(_key(secret), _normal(address).encode("utf-8"), hashlib.sha256).hexdigest()


def verify_url_token(secret: str, address: str, token: str) -> bool:
    """Say whether an unsubscribe URL's token belongs to `address`, in constant time."""
    return hmac.compare_digest(url_token(secret, address), token.strip().lower())


@dataclass(frozen=True)
class AddressTemplate:
    """An address with one `{token}` in its local part, such as `bounces+{token}@example.org`."""

    before: str  # lowercased local part before the token
    after: str  # lowercased local part after the token
    domain: str  # lowercased

    @classmethod
    def parse(cls, template: str) -> AddressTemplate:
        """Read a template, raising TemplateError with what to write instead when it cannot carry a token."""
        example = f"write one {PLACEHOLDER} before the @ of a plain address, e.g. 'bounces+{PLACEHOLDER}@example.org'"
        local, at, domain = template.strip().rpartition("@")
        if not at or not local:
            raise TemplateError(f"'{template}' is not an address: {example}")
        if template.count(PLACEHOLDER) != 1 or PLACEHOLDER not in local:
            raise TemplateError(f"'{template}' must hold {PLACEHOLDER} exactly once, before the @: {example}")
        before, _, after = local.partition(PLACEHOLDER)
        if not _LOCAL_CHARACTERS.fullmatch(before + after) or "{" in before + after or "}" in before + after:
            raise TemplateError(f"'{template}' has characters a plain address cannot hold (quotes, spaces, brackets, a display name): {example}")
        if ".." in local or local.startswith(".") or local.endswith("."):
            raise TemplateError(f"'{template}' has a dot at the start or end of its local part, or two in a row: {example}")
        if not _DOMAIN.fullmatch(domain):
            raise TemplateError(f"'{template}' needs a host name after the @, such as example.org: {example}")
        if len(before) + TOKEN_LENGTH + len(after) > LOCAL_PART_LIMIT:
            room = LOCAL_PART_LIMIT - TOKEN_LENGTH
            raise TemplateError(f"'{template}' is too long: the part before the @ may hold {room} characters besides the {TOKEN_LENGTH}-character token (RFC 5321 allows {LOCAL_PART_LIMIT})")
        return cls(before.lower(), after.lower(), domain.lower())

    def fill(self, token: str) -> str:
        """Return the address with `token` in its place."""
        return f"{self.before}{token}{self.after}@{self.domain}"

    def token_in(self, address: str) -> str | None:
        """Return what stands in the token's place of an address of this template (lowercased), or None for another address.

        Accepts the forms recipient headers use: `rfc822; a@b` (DSN fields), `<a@b>`, any case.
        What is returned is not yet verified: `TokenIndex.find` says whom it names, if anyone.
        """
        address = _ADDRESS_TYPE.sub("", address).strip().strip("<>").strip().lower()
        local, at, domain = address.rpartition("@")
        if not at or domain != self.domain or len(local) > LOCAL_PART_LIMIT:
            return None
        if len(local) <= len(self.before) + len(self.after) or not local.startswith(self.before) or not local.endswith(self.after):
            return None
        return local[len(self.before) : len(local) - len(self.after)]
