"""Curly quotes, dashes and ellipses with the same HTML as Python-Markdown's `smarty`, in one tree walk.

`smarty` runs a second inline processor with 18 patterns over every text of the tree, which costs
about as much as all other Markdown parsing together. This module applies the same rules, in the
same order, to the same texts (element text and tails, never code or other `AtomicString` text,
never attributes), and emits the same entities through the HTML stash; it skips the machinery, and
every rule whose characters a text lacks.

Like `smarty`'s inline pass, each rule replaces its matches with a placeholder before the next rule
runs, so later rules see exactly the neighbours `smarty` shows them (`"'s"`, `--'`). Each text is
educated on its own, as `smarty` does, so a quote beside emphasis, a link or code gets the same
(sometimes odd) direction: `"*word*"` opens both quotes.

Only `smarty`'s defaults are reproduced: quotes, dashes and ellipses, with its default entities;
its `smart_angled_quotes` (`<<`, `>>`) and `substitutions` options are not.

The same rules set front-matter text (titles, summaries, poll options…) with `typeset`, as characters
rather than entities, so a title reads the same in a page, a feed, a subject and both email parts.
Quotes follow the site's language (`QuoteStyle`): English “…” ‘…’ (smarty's own output, byte for
byte), German „…“ ‚…‘, French « … » with narrow no-break spaces, Spanish «…» “…”.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from html.entities import codepoint2name
from typing import NamedTuple

from markdown import Markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markdown.util import INLINE_PLACEHOLDER, INLINE_PLACEHOLDER_RE, AtomicString

# What a rule puts in place of its match: a marker naming the characters, chosen per language when the text is done.
# Like smarty's placeholders each starts with \x02 and ends with \x03, which is all later rules see of it.
LSQUO, RSQUO, LDQUO, RDQUO, MDASH, NDASH, HELLIP = "l", "r", "L", "R", "M", "N", "E"
_MARKED = re.compile("\x02([lrLRMNE]+)\x03")
NNBSP = "\u202f"  # narrow no-break space, French typography's space inside guillemets and before ; : ! ?
APOSTROPHE = "’"


class QuoteStyle(NamedTuple):
    """How a language sets quotes (each mark with the space it carries) and whether ; : ! ? take a space before them."""

    double: tuple[str, str]
    single: tuple[str, str]  # also the quotes inside a quotation
    spaced_punctuation: bool = False


ENGLISH = QuoteStyle(("“", "”"), ("‘", "’"))
# French inner quotes are English doubles, as the Imprimerie nationale sets them; Spanish nests «…» “…” as the RAE does.
QUOTE_STYLES = {
    "en": ENGLISH,
    "de": QuoteStyle(("„", "“"), ("‚", "‘")),
    "fr": QuoteStyle(("«" + NNBSP, NNBSP + "»"), ("“", "”"), spaced_punctuation=True),
    "es": QuoteStyle(("«", "»"), ("“", "”")),
}


def quote_style(language: str) -> QuoteStyle:
    """Return the quote style of a language tag (`de`, `fr-CA`, `en_GB`); English for a language without its own."""
    return QUOTE_STYLES.get(re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0], ENGLISH)


# ASCII punctuation except "&", as in SmartyPants.
_PUNCTUATION = r"""[!"#$%'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"""
# A character a closing quote may follow: not a space, an opening bracket, a dash or a placeholder's edge.
_CLOSES = r"[^ \t\r\n\[{(\-\x02\x03]"


def _opening(quote: str) -> str:
    """Return a pattern for `quote` before a letter or digit and after a space or dash (or its entity), in a group."""
    before = (r"\s", "&nbsp;", "--", "[–—]", "&[mn]dash;", "&#821[12];")
    return quote + r"(?=\w)(?:" + "|".join(f"(?<=({text}){quote})" for text in before) + ")"


class _Rule(NamedTuple):
    """One substitution: where it applies, a text that every match contains, and the marks it becomes."""

    pattern: re.Pattern[str]
    trigger: str
    marks: str


def _rule(pattern: str, trigger: str, marks: str) -> _Rule:
    return _Rule(re.compile(pattern), trigger, f"\x02{marks}\x03")


# smarty's rules in its order: dashes, quotes (special cases first), ellipses. Each pattern matches what
# smarty's does, but starts with its literal character (lookbehinds moved after it) so that `re` jumps from
# one candidate to the next instead of trying the whole pattern at every position: ten times faster.
# A group is text that smarty replaces with the quote and keeps beside the entity.
RULES = (
    _rule(r"---(?<!----)(?!-)", "---", MDASH),
    _rule(r"--(?<!---)(?!-)", "--", NDASH),
    # A text that starts with a quote and punctuation: the quote closes (the '"s').
    _rule(rf"^'(?={_PUNCTUATION}\B)", "'", RSQUO),
    _rule(rf'^"(?={_PUNCTUATION}\B)', '"', RDQUO),
    # Nested quotes written together.
    _rule(r""""'(?=\w)""", "\"'", LDQUO + LSQUO),
    _rule(r"""'"(?=\w)""", "'\"", LSQUO + LDQUO),
    _rule(rf"""'"(?<={_CLOSES}'")""", "'\"", RSQUO + RDQUO),
    _rule(rf""""'(?<={_CLOSES}"')""", "\"'", RDQUO + RSQUO),
    # Decades: the '90s.
    _rule(r"'(?<!\w')(?=\d{2}s)", "'", RSQUO),
    _rule(_opening("'"), "'", LSQUO),
    _rule(rf"'(?<={_CLOSES}')(?!\s|s\b|\d)", "'", RSQUO),
    _rule(r"'(\s|s\b)", "'", RSQUO),
    _rule(r"'", "'", LSQUO),
    _rule(_opening('"'), '"', LDQUO),
    _rule(r'"(?=\s)', '"', RDQUO),
    _rule(rf'"(?<={_CLOSES}")', '"', RDQUO),
    _rule(r'"', '"', LDQUO),
    _rule(r"\.\.\.(?<!\.\.\.\.)(?!\.)", "...", HELLIP),
)
_DASHES = {MDASH: "—", NDASH: "–", HELLIP: "…"}
# French: a space ahead of ; : ! ? » becomes a narrow no-break space, one is added between a word and ; ! ? (not
# a colon: `Q:`, `10:30`, `https:`), and so do the spaces inside typed guillemets. Only ASCII and no-break spaces
# are replaced, so a second pass changes nothing.
# (A closing quote after the mark may be a stash placeholder, \x02…, in the body.)
_FRENCH_BEFORE = re.compile(r"[ \t\u00a0]+(?=[;:!?»])|(?<=\w)(?=[;!?](?:[\s\x02»”)]|$))|(?<=\w)(?=»)")
_FRENCH_AFTER = re.compile(r"(?<=«)(?!\u202f)[ \t\u00a0]*")
_FRENCH_TRIGGER = re.compile(r"[;:!?«»]")


def _mark(text: str) -> str:
    """Apply the rules in order: each match becomes a marker (with any text its group keeps beside it)."""
    # A match with a group needs an inline placeholder of its own, so that the space or "s" it keeps stays
    # hidden from later rules too.
    grouped: list[str] = []
    for pattern, trigger, marker in RULES:
        if trigger not in text:
            continue
        match = pattern.search(text)
        while match:
            start, end = match.span()
            placeholder = marker
            if match.lastindex:
                kept_start = match.start(match.lastindex)
                if kept_start < start:
                    grouped.append(match.group(match.lastindex) + placeholder)
                    start = kept_start
                else:
                    grouped.append(placeholder + match.group(match.lastindex))
                placeholder = INLINE_PLACEHOLDER % f"{len(grouped) - 1:04d}"
            text = text[:start] + placeholder + text[end:]
            match = pattern.search(text, start + len(placeholder))
    if grouped:
        text = INLINE_PLACEHOLDER_RE.sub(lambda found: grouped[int(found.group(1))], text)
    return text


def _resolve(text: str, style: QuoteStyle, put: Callable[[str], str]) -> str:
    """Replace each marker with the style's characters, passed through `put` (an entity stash, or nothing).

    smarty's closing single quote is also the apostrophe; where a language closes with another mark, a closing
    quote is one that ends an open single quote and is not followed by a letter (`geht's` keeps its apostrophe).
    """
    open_single = False

    def characters(found: re.Match[str]) -> str:
        nonlocal open_single
        out = []
        for mark in found.group(1):
            if mark == LSQUO:
                open_single = True
                out.append(style.single[0])
            elif mark == RSQUO:
                closes = open_single and not text[found.end() : found.end() + 1].isalnum()
                open_single = open_single and not closes
                out.append(style.single[1] if closes else APOSTROPHE)
            elif mark in (LDQUO, RDQUO):
                out.append(style.double[mark == RDQUO])
            else:
                out.append(_DASHES[mark])
        return put("".join(out))

    return _MARKED.sub(characters, text)


def _space_french(text: str) -> str:
    return _FRENCH_AFTER.sub(NNBSP, _FRENCH_BEFORE.sub(NNBSP, text))


def _needs_rules(text: str) -> bool:
    return "'" in text or '"' in text or "--" in text or "..." in text


_ESCAPED_QUOTE = re.compile(r"\\([\"'])")
_KEPT_QUOTE = re.compile("\x02(\\d+)\x03")


def typeset(text: str, style: QuoteStyle = ENGLISH) -> str:
    """Return front-matter text with the body's curly quotes, dashes and ellipses, as characters; `\\"` keeps a quote straight."""
    rules = _needs_rules(text)
    if not rules and not (style.spaced_punctuation and _FRENCH_TRIGGER.search(text)):
        return text  # most titles: no work at all
    if rules:
        # An escaped quote hides behind a placeholder, as Markdown's escape pattern hides it from the body's rules.
        kept = _ESCAPED_QUOTE.sub(lambda found: f"\x02{ord(found.group(1))}\x03", text)
        text = _resolve(_mark(kept), style, str)
    if style.spaced_punctuation:
        text = _space_french(text)
    return _KEPT_QUOTE.sub(lambda found: chr(int(found.group(1))), text) if rules else text


def quote(text: str, style: QuoteStyle = ENGLISH) -> str:
    """Put `text` in the style's quotes: a text quoted whole already stays as it is, quotes inside become inner ones."""
    opening, closing = style.double
    if text.startswith(opening) and text.find(closing, len(opening)) == len(text) - len(closing) > 0:
        return text
    return opening + text.replace(opening, style.single[0]).replace(closing, style.single[1]) + closing


def _entities(text: str) -> str:
    """Write characters as HTML entities, named where HTML has a name: smarty's `&ldquo;` for English."""
    return "".join(f"&{codepoint2name[ord(char)]};" if ord(char) in codepoint2name else f"&#{ord(char)};" for char in text)


class _TypographyTreeprocessor(Treeprocessor):
    """Educate quotes, dashes and ellipses in every text and tail that is not code."""

    def __init__(self, md: Markdown, style: QuoteStyle) -> None:
        super().__init__(md)
        self.style = style
        # One stash entry per entity and document: each entry costs the raw HTML postprocessor a little,
        # and toc runs that postprocessor again for every heading.
        self._stashed: dict[str, str] = {}

    def run(self, root: etree.Element) -> None:
        self._stashed.clear()
        for element in root.iter():
            if element is root:
                continue
            if element.text and not isinstance(element.text, AtomicString):
                element.text = self._educate(element.text)
            if element.tail and not isinstance(element.tail, AtomicString):
                element.tail = self._educate(element.tail)

    def _educate(self, text: str) -> str:
        """Return `text` with smarty's substitutions, its entities as HTML stash placeholders."""
        if _needs_rules(text):
            text = _resolve(_mark(text), self.style, self._stash)
        if self.style.spaced_punctuation and _FRENCH_TRIGGER.search(text):
            text = _space_french(text)
        return text

    def _stash(self, characters: str) -> str:
        """Return the HTML stash placeholder for `characters` as entities, storing it on first use in this document."""
        placeholder = self._stashed.get(characters)
        if placeholder is None:
            placeholder = self._stashed[characters] = self.md.htmlStash.store(_entities(characters))
        return placeholder


class TypographyExtension(Extension):
    """Python-Markdown extension: smarty's default typography at a fraction of its cost, quotes in `style`."""

    def __init__(self, style: QuoteStyle = ENGLISH) -> None:
        super().__init__()
        self.style = style

    def extendMarkdown(self, md: Markdown) -> None:
        # Priority 6 is where smarty's inline pass ran: after attr_list and abbr, before toc reads headings.
        md.treeprocessors.register(_TypographyTreeprocessor(md, self.style), "typography", 6)
        # A backslash keeps a straight quote straight, as with smarty.
        md.ESCAPED_CHARS.extend(['"', "'"])
