"""Turn an issue's HTML or plain text into clean Markdown paragraphs and lists."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment
from markdownify import MarkdownConverter

# Never content: what a browser would not show as text, and what an email client hides.
UNSEEN_TAGS = ("script", "style", "noscript", "head", "title", "template", "iframe", "object", "embed", "form", "svg", "meta", "link")
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|max-height\s*:\s*0", re.IGNORECASE)
BLOCK_TAGS = ("p", "div", "table", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "img")
LIST_ITEM = re.compile(r"^\s*(?:[-*•·▪◦+]|\d{1,3}[.)])\s+")
UNDERLINE = re.compile(r"^(=+|-+)\s*$")
# A line of text on its own: the plain-text forms of parts a lesson keeps apart.
OWN_LINE = re.compile(r"^\s*(?:Q:|P\.?\s*P\.?\s*S\.?|P\.?S\.?[:\s]|Ps\.|>|<<|©|\(c\)\s|copyright\b)", re.IGNORECASE)
# Text with one paragraph per line reads as lines far longer than any hard wrap (which stops near 80).
LONG_LINE = 100


def _layout_table(table: object) -> bool:
    """Whether a table only lays an email out: no header cells, and a cell holding blocks or a single column."""
    if table.find("th") is not None:  # type: ignore[attr-defined]
        return False
    rows = table.find_all("tr")  # type: ignore[attr-defined]
    if any(cell.find(BLOCK_TAGS) is not None for row in rows for cell in row.find_all(("td", "th"), recursive=False)):
        return True
    return all(len(row.find_all("td", recursive=False)) <= 1 for row in rows)


def clean_soup(html: str) -> BeautifulSoup:
    """Parse HTML and drop what no reader saw: scripts, styles, hidden preheaders, comments, layout tables."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(UNSEEN_TAGS):
        tag.decompose()
    for tag in soup.find_all(style=HIDDEN_STYLE):
        tag.decompose()
    for comment in soup.find_all(string=lambda node: isinstance(node, Comment)):
        comment.extract()
    # Innermost first, so an outer layout table sees its inner ones already unwrapped.
    for table in reversed(soup.find_all("table")):
        if _layout_table(table):
            for part in table.find_all(("tbody", "thead", "tfoot", "tr")):
                part.unwrap()
            for cell in table.find_all(("td", "th")):
                cell.name = "div"
            table.name = "div"
    return soup


def html_to_markdown(html: str) -> str:
    """Return the Markdown of an issue's HTML: ATX headings, '-' bullets, blank lines between blocks."""
    converter = MarkdownConverter(heading_style="ATX", bullets="-", escape_misc=False, escape_underscores=False, escape_asterisks=False)
    soup = clean_soup(html)
    try:
        return tidy(converter.convert_soup(soup))
    except RecursionError:
        # Markup nested thousands deep (broken or hostile) cannot be walked tag by tag: keep its text.
        return text_to_markdown(soup.get_text("\n"))


def tidy(markdown: str) -> str:
    """Strip trailing spaces, non-breaking spaces left from email layouts and runs of blank lines."""
    lines = [line.replace("\u00a0", " ").rstrip() for line in markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _one_paragraph_per_line(lines: list[str]) -> bool:
    """Whether text puts each paragraph on one long line rather than wrapping it."""
    filled = [line for line in lines if line.strip()]
    if not filled:
        return False
    long_lines = sum(1 for line in filled if len(line) > LONG_LINE)
    # A hard wrap breaks lines mid-sentence; a paragraph per line ends nearly every line with a sentence.
    ended = sum(1 for line in filled if line.rstrip().endswith((".", "!", "?", ":", ">>", "»", "”", '"', ")")))
    return long_lines >= 1 and ended * 5 >= len(filled) * 3


def _list_kind(line: str) -> str:
    """'1' for a numbered item, '-' for a bulleted one, '' for a line that is no list item."""
    match = LIST_ITEM.match(line)
    return "" if match is None else "1" if match.group().strip()[0].isdigit() else "-"


def _blocks(lines: list[str], per_line: bool) -> list[list[str]]:
    """Group lines into blocks: a blank line, a list item, or a line that starts a part of its own begins a new one."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if not line.strip():
            if current:
                blocks.append(current)
            current = []
            continue
        item = LIST_ITEM.match(line)
        same_list = item is not None and bool(current) and _list_kind(current[0]) == _list_kind(line)
        starts = not same_list and (per_line or item is not None or OWN_LINE.match(line) is not None)
        if starts and current:
            blocks.append(current)
            current = []
        current.append(line)
    if current:
        blocks.append(current)
    return blocks


def _join(block: list[str]) -> str:
    """Join a hard-wrapped block: one line per list item, every other line joined to the one before."""
    if len(block) == 2 and UNDERLINE.match(block[1]) and not LIST_ITEM.match(block[0]):
        return ("# " if block[1].startswith("=") else "## ") + block[0].strip()
    if LIST_ITEM.match(block[0]):
        items: list[str] = []
        for line in block:
            if LIST_ITEM.match(line) or not items:
                marker = re.match(r"^\s*(\d{1,3})[.)]\s+", line)
                rest = LIST_ITEM.sub("", line, count=1).strip()
                items.append(f"{marker.group(1)}. {rest}" if marker else f"- {rest}")
            else:
                items[-1] += " " + line.strip()
        return "\n".join(items)
    if block[0].lstrip().startswith(">"):
        return "> " + " ".join(line.strip().lstrip(">").strip() for line in block)
    return " ".join(line.strip() for line in block)


def text_to_markdown(text: str) -> str:
    """Return Markdown for a plain-text issue, hard-wrapped or with one paragraph per line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ").split("\n")
    blocks = _blocks(lines, _one_paragraph_per_line(lines))
    # In plain text a lone * or _ is no emphasis; keep what the author typed.
    return tidy("\n\n".join(re.sub(r"(?<!\\)([*_`\[\]])", r"\\\1", _join(block)) if not LIST_ITEM.match(block[0]) else _join(block) for block in blocks))
