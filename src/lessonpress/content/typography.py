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
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from typing import NamedTuple

from markdown import Markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markdown.util import INLINE_PLACEHOLDER, INLINE_PLACEHOLDER_RE, AtomicString

LSQUO, RSQUO, LDQUO, RDQUO = "&lsquo;", "&rsquo;", "&ldquo;", "&rdquo;"

# ASCII punctuation except "&", as in SmartyPants.
_PUNCTUATION = r"""[!"#$%'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"""
# A character a closing quote may follow: not a space, an opening bracket, a dash or a placeholder's edge.
_CLOSES = r"[^ \t\r\n\[{(\-\x02\x03]"


def _opening(quote: str) -> str:
    """Return a pattern for `quote` before a letter or digit and after a space or dash (or its entity), in a group."""
    before = (r"\s", "&nbsp;", "--", "[–—]", "&[mn]dash;", "&#821[12];")
    return quote + r"(?=\w)(?:" + "|".join(f"(?<=({text}){quote})" for text in before) + ")"


class _Rule(NamedTuple):
    """One substitution: where it applies, a text that every match contains, and the entity it becomes."""

    pattern: re.Pattern[str]
    trigger: str
    entity: str


def _rule(pattern: str, trigger: str, entity: str) -> _Rule:
    return _Rule(re.compile(pattern), trigger, entity)


# smarty's rules in its order: dashes, quotes (special cases first), ellipses. Each pattern matches what
# smarty's does, but starts with its literal character (lookbehinds moved after it) so that `re` jumps from
# one candidate to the next instead of trying the whole pattern at every position: ten times faster.
# A group is text that smarty replaces with the quote and keeps beside the entity.
RULES = (
    _rule(r"---(?<!----)(?!-)", "---", "&mdash;"),
    _rule(r"--(?<!---)(?!-)", "--", "&ndash;"),
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
    _rule(r"\.\.\.(?<!\.\.\.\.)(?!\.)", "...", "&hellip;"),
)


class _TypographyTreeprocessor(Treeprocessor):
    """Educate quotes, dashes and ellipses in every text and tail that is not code."""

    def __init__(self, md: Markdown) -> None:
        super().__init__(md)
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
        if "'" not in text and '"' not in text and "--" not in text and "..." not in text:
            return text
        # A stash placeholder starts with \x02 and ends with \x03, like smarty's inline placeholders: all that
        # later rules see of a replaced match. A match with a group needs an inline placeholder of its own, so
        # that the space or "s" it keeps stays hidden from later rules too.
        grouped: list[str] = []
        for pattern, trigger, entity in RULES:
            if trigger not in text:
                continue
            match = pattern.search(text)
            while match:
                start, end = match.span()
                placeholder = self._stash(entity)
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

    def _stash(self, entity: str) -> str:
        """Return the HTML stash placeholder for `entity`, storing it on first use in this document."""
        placeholder = self._stashed.get(entity)
        if placeholder is None:
            placeholder = self._stashed[entity] = self.md.htmlStash.store(entity)
        return placeholder


class TypographyExtension(Extension):
    """Python-Markdown extension: smarty's default typography at a fraction of its cost."""

    def extendMarkdown(self, md: Markdown) -> None:
        # Priority 6 is where smarty's inline pass ran: after attr_list and abbr, before toc reads headings.
        md.treeprocessors.register(_TypographyTreeprocessor(md), "typography", 6)
        # A backslash keeps a straight quote straight, as with smarty.
        md.ESCAPED_CHARS.extend(['"', "'"])
