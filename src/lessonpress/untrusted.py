"""Make text from readers' mail (and files a hand may have edited) safe to store, to write as XML and to print."""

from __future__ import annotations

import re

# Characters XML 1.0 forbids: C0 controls other than tab, newline and carriage return, lone
# surrogates and the two noncharacters. lxml refuses them, so one of them would stop a build.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What a reader's text must not carry into data/: every control character (C0, DEL, C1), the
# line and paragraph separators that split a "one-line" field, bidi embeddings, overrides and
# isolates that reorder the text around them, lone surrogates (no UTF-8 file can hold them)
# and noncharacters. Tab and newline stay: they are whitespace every writer handles.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
# On a terminal even tab and newline in a reader's name could fake a line of the report.
_UNSAFE_ON_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _replacement(match: re.Match[str]) -> str:
    character = match.group()
    # A lone surrogate stands for a character that was lost; show that rather than hide it.
    return "\ufffd" if _SURROGATE.match(character) or character in "\ufffe\uffff" else " "


def clean_text(text: str) -> str:
    """Return reader text fit to store: unsafe characters become a space (or U+FFFD for a lost character)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub(_replacement, text)


# Whitespace a one-line field joins into one space: all but the no-break spaces, which typography put
# where a line must not break (French « … » and ? ! ; :) and which a subject shows as they are.
_BREAKABLE = re.compile(r"[^\S\u00a0\u2007\u202f]+")


def one_line(text: str) -> str:
    """Return reader text as a one-line field holds it: cleaned, every run of breakable whitespace one space."""
    return _BREAKABLE.sub(" ", clean_text(text)).strip()


def xml_text(text: str) -> str:
    """Return text lxml accepts: characters XML 1.0 forbids become a space (or U+FFFD for a lost character)."""
    return _NOT_XML.sub(_replacement, text)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: str) -> str:
    """Return text to print: every control, separator and bidi character shown as a visible escape like `\\x1b`."""
    return _UNSAFE_ON_TERMINAL.sub(_visible, text)


def shorten(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_DIGITS = re.compile(r"[0-9]{1,12}")


def ascii_number(text: str) -> int | None:
    """The number `text` spells in 1 to 12 ASCII digits, else None: `str.isdigit` also passes "²", which `int` refuses."""
    return int(text) if _DIGITS.fullmatch(text) else None

