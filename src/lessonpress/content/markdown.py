"""Python-Markdown configured with the project's extensions."""

from __future__ import annotations

import xml.etree.ElementTree as etree

from markdown import Markdown
from markdown.extensions import Extension
from markdown.treeprocessors import InlineProcessor, Treeprocessor

from .typography import ENGLISH, QuoteStyle, TypographyExtension

QUESTION_PREFIX = "Q:"

# Part of the parse cache key: change it whenever the output of `convert` changes.
# /4: front-matter text is typeset too, and quotes follow the site language.
MARKDOWN_FINGERPRINT = "extra+toc+typography+sane_lists+lessons/4"


class _LessonTreeprocessor(Treeprocessor):
    """Mark `Q:` paragraphs as reflection questions and blockquotes as pull quotes."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if element.tag == "p" and (element.text or "").lstrip().startswith(QUESTION_PREFIX):
                element.set("class", "question")
                label = etree.Element("strong", {"class": "question-label"})
                label.text = QUESTION_PREFIX
                rest = (element.text or "").lstrip()[len(QUESTION_PREFIX) :]
                label.tail = " " + rest.lstrip()
                element.text = None
                element.insert(0, label)
            elif element.tag == "blockquote":
                element.set("class", "pull-quote")


# A character every match of an inline pattern holds (or looks ahead at): a text from which all of
# a pattern's characters are missing cannot match it, so the pattern need not be tried at all.
PATTERN_CHARACTERS = {
    "backtick": "`", "escape": "\\", "footnote": "[", "reference": "[", "link": "[", "image_link": "[",
    "image_reference": "[", "short_reference": "[", "short_image_ref": "[", "autolink": "<", "automail": "<",
    "linebreak": "\n", "html": "<", "entity": "&", "em_strong": "*_",
}


class _QuickInlineProcessor(InlineProcessor):
    """Python-Markdown's inline pass, skipping patterns that cannot match a text.

    Trying every pattern on every text, each try a Python call, was half of converting a lesson;
    the result is the same, because a skipped pattern would have found no match.
    """

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        self._characters = {id(self.inlinePatterns[name]): chars for name, chars in PATTERN_CHARACTERS.items() if name in self.inlinePatterns}
        return super().run(tree, ancestors)

    def _InlineProcessor__applyPattern(self, pattern: object, data: str, patternIndex: int, startIndex: int = 0) -> tuple[str, bool, int]:
        chars = self._characters.get(id(pattern))
        if chars is not None and all(data.find(char, startIndex) < 0 for char in chars):
            return data, False, 0  # what the pattern itself returns when it finds no match
        # The stubs leave out Python-Markdown's private methods, so mypy cannot see the one overridden here.
        return super()._InlineProcessor__applyPattern(pattern, data, patternIndex, startIndex)  # type: ignore[misc]


class LessonExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        # After inline patterns (20) so paragraph text is final.
        md.treeprocessors.register(_LessonTreeprocessor(md), "lessons", 5)
        md.treeprocessors.register(_QuickInlineProcessor(md), "inline", 20)


def make_markdown(style: QuoteStyle = ENGLISH) -> Markdown:
    """Return a Markdown converter with the lesson extensions, quotes in `style`; reuse it with `convert`."""
    return Markdown(
        extensions=["extra", "toc", TypographyExtension(style), "sane_lists", LessonExtension()],
        extension_configs={"toc": {"permalink": False}},
        output_format="html",
    )


def convert(md: Markdown, text: str) -> str:
    """Convert one document, leaving the converter clean for the next."""
    try:
        return md.convert(text)
    finally:
        md.reset()
