"""Turn lesson HTML into readable plain text for the text part of an email."""

from __future__ import annotations

import functools
import re
from html import unescape
from html.parser import HTMLParser

from ..translations import N_

WIDTH = 78
_BREAK = "\x00"  # stands for <br> until a block is written out
# Spaces that HTML collapses. Not str.split()'s: a no-break space (French « … », `&nbsp;`) is a character the HTML
# part shows, and the plain text keeps it.
_SPACES = re.compile(r"[ \t\n\r\f\v]+")
_UNDERLINES = {"h1": "=", "h2": "-"}
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCKS = ("p", "div", "section", "aside", "header", "footer", "dl", "dt", "dd", "figure", "figcaption", *_HEADINGS)
# Quote marks, then a list marker or a question label: wrapped lines hang under the text after them.
_PREFIX = re.compile(r"^((?:> ?)*)([ \t]*(?:(?:[-*•]|\d+[.)]|\[\d+\]|Q:)[ \t]+)?)")
# One token of HTML as Python-Markdown writes it: a comment, an end tag, a start tag (attribute values quoted) other
# than script or style (whose content HTMLParser reads as raw text), text, or any other "<", which is left to
# HTMLParser. Where a tag name ends and what counts as space follow HTMLParser's own patterns, so a document made
# only of the first four kinds reads into the same events as HTMLParser gives.
_TOKEN = re.compile(r"""
    (?P<comment><!--[\s\S]*?--\s*>)
  | </(?P<end>[a-zA-Z][-.a-zA-Z0-9:_]*)[\t\n\r\f ]*>
  | <(?!(?i:script|style)[\t\n\r\f />])(?P<start>[a-zA-Z][-.a-zA-Z0-9:_]*)
      (?P<attributes>(?:[\t\n\r\f ]+[a-zA-Z_:][-.a-zA-Z0-9_:]*(?:[\t\n\r\f ]*=[\t\n\r\f ]*(?:"[^"]*"|'[^']*'))?)*)
      [\t\n\r\f ]*/?>
  | (?P<text>[^<]+)
  | (?P<other><)
""", re.VERBOSE)
# Within the attributes of a start tag: a name and its value, quotes included ("" when it has none).
_ATTRIBUTE = re.compile(r"""([a-zA-Z_:][-.a-zA-Z0-9_:]*)(?:[\t\n\r\f ]*=[\t\n\r\f ]*("[^"]*"|'[^']*'))?""")


def _collapse(text: str) -> str:
    """Join runs of spaces into one and trim the ends, as a browser shows text."""
    return _SPACES.sub(" ", text).strip(" ")


# How the text part names a picture; the theme passes the site language's words (catalog entry).
IMAGE = N_("Image: %(alt)s")

class _TextWriter(HTMLParser):
    """Collect blocks of text as lines, keeping lists, quotes and headings recognisable."""

    def __init__(self, image: str = IMAGE) -> None:
        super().__init__(convert_charrefs=True)
        self.image = image  # "Image: %(alt)s" in the site's language
        self.lines: list[str] = []
        self.inline: list[str] = []
        self.quote_depth = 0
        self.lists: list[list[int]] = []  # per open list: [ordered (0/1), items so far]
        self.marker = ""  # the bullet the next block of the current list item starts with
        self.pre = 0
        self.skip = 0
        self.hrefs: list[tuple[str, int]] = []  # open links: URL, where their text starts
        self.cells: list[str] = []
        self.header_row = False

    # -- writing blocks --
    def _prefix(self) -> tuple[str, str]:
        """The first-line and continuation prefixes for a block at the current nesting."""
        quote = "> " * self.quote_depth
        indent = "   " * max(len(self.lists) - 1, 0)
        if self.marker:
            return quote + indent + self.marker, quote + indent + " " * len(self.marker)
        pad = "   " * len(self.lists)
        return quote + pad, quote + pad

    def _gap(self) -> None:
        """Set the next block off with a blank line (inside a quote, a bare quote mark)."""
        if self.lines and self.lines[-1].strip(" >"):
            self.lines.append(("> " * self.quote_depth).rstrip())

    def flush(self, underline: str = "") -> None:
        """Write the collected inline text as one block."""
        raw = "".join(self.inline)
        self.inline = []
        pieces = [_collapse(piece) for piece in raw.split(_BREAK)]
        if not any(pieces):
            return
        # Items of a list sit together; every other block is set off.
        if not (self.lists and self.marker):
            self._gap()
        first, rest = self._prefix()
        for index, piece in enumerate(pieces):
            self.lines.append((first if index == 0 else rest) + piece)
        if underline:
            self.lines.append(first + underline * min(len(pieces[-1]), WIDTH - len(first)))
        self.marker = ""

    # -- the parser's callbacks --
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("style", "script", "head", "title"):
            self.skip += 1
        elif tag in _BLOCKS or tag in ("ul", "ol", "blockquote", "pre", "table", "tr", "hr"):
            self.flush()
        if tag in ("ul", "ol"):
            if not self.lists:
                self._gap()
            self.lists.append([1 if tag == "ol" else 0, int(attributes.get("start") or 1) - 1])
        elif tag == "li" and self.lists:
            self.flush()
            current = self.lists[-1]
            current[1] += 1
            self.marker = f"{current[1]}. " if current[0] else "- "
        elif tag == "blockquote":
            self._gap()
            self.quote_depth += 1
        elif tag == "pre":
            self._gap()
            self.pre += 1
        elif tag == "table":
            self._gap()
        elif tag == "br":
            self.inline.append(_BREAK)
        elif tag == "hr":
            self._gap()
            self.lines.append("* * *")
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            if alt:
                self.inline.append(f"[{self.image % {'alt': alt}}]")
        elif tag == "a":
            self.hrefs.append((attributes.get("href") or "", len(self.inline)))
        elif tag == "tr":
            self.cells = []
            self.header_row = False
        elif tag in ("td", "th"):
            self.header_row = self.header_row or tag == "th"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip = max(self.skip - 1, 0)
        elif tag in _HEADINGS:
            self.flush(_UNDERLINES.get(tag, "~"))
        elif tag in _BLOCKS or tag == "li":
            self.flush()
        elif tag in ("ul", "ol") and self.lists:
            self.flush()
            self.lists.pop()
        elif tag == "blockquote" and self.quote_depth:
            self.flush()
            self.quote_depth -= 1
        elif tag == "pre" and self.pre:
            self._write_pre()
        elif tag == "a" and self.hrefs:
            self._close_link()
        elif tag in ("td", "th"):
            self.cells.append(_collapse("".join(self.inline).replace(_BREAK, " ")))
            self.inline = []
        elif tag == "tr":
            first, _ = self._prefix()
            self.lines.append(first + " | ".join(self.cells))
            if self.header_row:
                self.lines.append(first + "-" * min(len(" | ".join(self.cells)), WIDTH - len(first)))
        elif tag == "table":
            self.lines.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.inline.append(data)

    def _write_pre(self) -> None:
        self.pre -= 1
        text = "".join(self.inline).replace(_BREAK, "\n").strip("\n")
        self.inline = []
        _first, rest = self._prefix()
        self.lines.extend(rest + "    " + line for line in text.split("\n"))

    def _close_link(self) -> None:
        href, start = self.hrefs.pop()
        label = _collapse("".join(self.inline[start:]))
        shown = href.removeprefix("mailto:")
        # A link whose text already is its address needs no second copy; in-page anchors lead nowhere in mail.
        if href and not href.startswith("#") and label not in (href, shown):
            self.inline.append(f" ({href})" if label else href)


# One reader, two tokenizers: this fast path and HTMLParser feed the same _TextWriter the same events (test_plaintext).
def _read_simple(writer: _TextWriter, html: str) -> bool:
    """Give the writer the events HTMLParser would give; return False, the document part read, at any other "<"."""
    for token in _TOKEN.finditer(html):
        kind = token.lastgroup
        if kind == "text":
            writer.handle_data(unescape(token["text"]))
        elif kind == "end":
            writer.handle_endtag(token["end"].lower())
        elif kind == "attributes":
            attributes = [(name.lower(), unescape(value[1:-1]) if value else None) for name, value in _ATTRIBUTE.findall(token["attributes"])]
            writer.handle_starttag(token["start"].lower(), attributes)
        elif kind == "other":
            return False
    return True


def html_to_text(html: str, image: str = IMAGE) -> str:
    """Convert HTML (as Python-Markdown writes it) into plain text; lines are not yet wrapped. `image` names a picture by its alt text."""
    writer = _TextWriter(image)
    if not _read_simple(writer, html):
        # A stray "<", a declaration, or script or style: HTMLParser applies its own rules, from the start.
        writer = _TextWriter(image)
        writer.feed(html)
        writer.close()
    writer.flush()
    return "\n".join(writer.lines).strip("\n")


@functools.cache
def _filling(room: int) -> re.Pattern[str]:
    """Match the most words, single-spaced, that fit in `room` characters, else one longer word; and the space after."""
    return re.compile(rf"(.{{1,{room}}}|[^ ]+)(?: |$)")


def _wrap_line(line: str, width: int) -> list[str]:
    prefix_match = _PREFIX.match(line)
    assert prefix_match is not None  # the pattern can match the empty string
    first = prefix_match.group(0)
    rest = prefix_match.group(1) + " " * (len(first) - len(prefix_match.group(1)))
    # Greedy filling, done by the regex engine: a line takes words while they fit, and at least one.
    lines = _filling(max(width - len(first), 1)).findall(_collapse(line[len(first):])) or [""]
    return [first + lines[0], *(rest + words for words in lines[1:])]


def wrap_text(text: str, width: int = WIDTH) -> str:
    """Wrap lines longer than `width` at spaces, never inside a word or URL; drop runs of blank lines."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip()
        if not line and out and not out[-1]:
            continue
        out.extend(_wrap_line(line, width) if len(line) > width else [line])
    return "\n".join(out).strip("\n") + "\n"
