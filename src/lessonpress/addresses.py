"""Every email address pattern in one place: four rules for four jobs, not four spellings of one.

Sending, header checks, header writing and scrubbing reader text each need a different answer
(a subscriber list is checked strictly, `[email] from` as the email package would read it, a
header only skips the email package when the result is byte-identical, and a reader's text is
searched, not checked), so each rule is named for its job; a new use picks one of these.
"""

from __future__ import annotations

import re

# Whom we send to: a plain dot-atom address, stricter than RFC 5322 on purpose, so nothing odd reaches a header.
SENDABLE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
# A bare address a header may carry (from settings or a recipient): nothing that could smuggle a header in.
ADDR_SPEC = re.compile(r"^[^\s@<>()\[\],;:\"\\]+@[A-Za-z0-9.-]+\Z")  # \Z: "$" would let a final newline in
# An address the hand-written MIME headers write as is: the email package would write it unchanged too.
WRITTEN_AS_IS = re.compile(r"[A-Za-z0-9+_-]+(?:\.[A-Za-z0-9+_-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
# An address inside a reader's text: a word with an "@" and a dotted domain after it. Use it word by
# word, never to scan across a long line, so hostile input costs no more than its length.
IN_TEXT = re.compile(r"[\w.+-]*@[\w-]+(?:\.[\w-]+)+")


def is_address(value: str) -> bool:
    """Return whether `value` is a plain email address we are willing to send to."""
    return len(value) <= 254 and bool(SENDABLE.match(value))  # the length first: no pattern runs over a hostile megabyte
