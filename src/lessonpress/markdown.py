"""Python-Markdown configured with the project's extensions."""

from __future__ import annotations

import xml.etree.ElementTree as etree

from markdown import Markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from .typography import TypographyExtension

QUESTION_PREFIX = "Q:"

# Part of the parse cache key: change it whenever the output of `convert` changes.
MARKDOWN_FINGERPRINT = "extra+toc+typography+sane_lists+lessons/2"


class _LessonTreeprocessor(Treeprocessor):
    """Mark `Q:` paragraphs as reflection questions and blockquotes as pull quotes."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if element.tag == "p" and (element.text or "").lstrip().startswith(QUESTION_PREFIX):
                element.set("class", "question")
                label = etree.Element("strong", {"class": "question-label"})
                label.text = QUESTION_PREFIX
                rest = element.text.lstrip()[len(QUESTION_PREFIX) :]
                label.tail = " " + rest.lstrip()
                element.text = None
                element.insert(0, label)
            elif element.tag == "blockquote":
                element.set("class", "pull-quote")


class LessonExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Markdown's API name
        # After inline patterns (20) so paragraph text is final.
        md.treeprocessors.register(_LessonTreeprocessor(md), "lessons", 5)


def make_markdown() -> Markdown:
    """Return a Markdown converter with the lesson extensions; reuse it with `convert`."""
    return Markdown(
        extensions=["extra", "toc", TypographyExtension(), "sane_lists", LessonExtension()],
        extension_configs={"toc": {"permalink": False}},
        output_format="html",
    )


def convert(md: Markdown, text: str) -> str:
    """Convert one document, leaving the converter clean for the next."""
    try:
        return md.convert(text)
    finally:
        md.reset()
