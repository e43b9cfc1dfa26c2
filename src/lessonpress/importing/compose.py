"""Turn one found issue into a lesson: its Markdown, its recognised parts and the front matter that holds them."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, time

from ..content.config import SiteConfig
from ..untrusted import clean_text, one_line
from .anatomy import Anatomy, recognise
from .markup import html_to_markdown, text_to_markdown, tidy
from .model import FoundIssue


@dataclass(frozen=True)
class Draft:
    """An issue on its way to a lesson: what the source said and what the text showed."""

    found: FoundIssue
    title: str
    date: datetime | None
    date_from_text: bool
    anatomy: Anatomy
    summary: str = ""
    teaser: str = ""


def markdown_of(found: FoundIssue) -> str:
    """The issue's body as Markdown, whatever the source wrote it in."""
    body = clean_text(found.body)
    if found.markup == "html":
        return html_to_markdown(body)
    if found.markup == "text":
        return text_to_markdown(body)
    return tidy(body)


def draft(found: FoundIssue, config: SiteConfig) -> Draft:
    """Recognise the lesson in one issue."""
    title = one_line(found.title) or "Untitled issue"
    anatomy = recognise(markdown_of(found), title, config.author.name)
    date = found.date or anatomy.date
    summary = one_line(found.summary) if found.summary and len(found.summary) <= 300 and "<" not in found.summary else ""
    summary = "" if summary.casefold() == title.casefold() else summary  # a feed's description that only repeats the title
    return Draft(found, title, date, found.date is None and anatomy.date is not None, anatomy, summary=summary)


def yaml_text(value: str) -> str:
    """Text as a YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(value, ensure_ascii=False)


def _date_text(when: datetime) -> str:
    if when.tzinfo is None and when.time() == time():
        return when.date().isoformat()
    return when.isoformat()


def _author(item: Draft, config: SiteConfig) -> str:
    """The `author` field: a guest's name, or a mapping when the issue named a bio or a copyright holder of its own."""
    anatomy = item.anatomy
    name = one_line(anatomy.author or item.found.author)
    site_name = config.author.name
    guest = name if name and name.casefold() != site_name.casefold() else ""
    holder = anatomy.copyright if anatomy.copyright.casefold() not in {site_name.casefold(), config.copyright.casefold(), ""} else ""
    if not (anatomy.bio or holder):
        return f"author: {yaml_text(guest)}\n" if guest else ""
    parts = {"name": guest or site_name or holder, "bio": anatomy.bio, "copyright": holder}
    if not parts["name"]:
        return ""
    inner = ", ".join(f"{key}: {yaml_text(value)}" for key, value in parts.items() if value)
    return f"author: {{{inner}}}\n"


def lesson_text(item: Draft, date: datetime, body: str, config: SiteConfig) -> str:
    """The lesson file: front matter with every recognised part, then the body."""
    anatomy = item.anatomy
    lines = ["---\n", f"title: {yaml_text(item.title)}\n", f"date: {_date_text(date)}\n"]
    for key, value in (("summary", item.summary), ("teaser", item.teaser)):
        if value:
            lines.append(f"{key}: {yaml_text(value)}\n")
    tags = [one_line(tag) for tag in item.found.tags if one_line(tag)]
    if tags:
        lines.append(f"tags: [{', '.join(yaml_text(tag) for tag in dict.fromkeys(tags))}]\n")
    if item.found.draft:
        lines.append("draft: true\n")
    lines.append(_author(item, config))
    for key, value in (("greeting", anatomy.greeting), ("reply_prompt", anatomy.reply_prompt)):
        if value:
            lines.append(f"{key}: {yaml_text(value)}\n")
    if anatomy.poll:
        options = ", ".join(yaml_text(option) for option in anatomy.poll.options)
        lines.append(f"poll:\n  question: {yaml_text(anatomy.poll.question)}\n  options: [{options}]\n  write_in: {'true' if anatomy.poll.write_in else 'false'}\n")
    lines.append("---\n")
    return "".join(lines) + body


def _after_title(recap: str, title: str) -> str:
    return recap[len(title) :].lstrip(" :–—-") or recap if recap.casefold().startswith(title.casefold()) else recap


def with_neighbours(items: list[Draft]) -> list[tuple[Draft, tuple[str, ...]]]:
    """Give each issue its recap as the previous issue's summary and its teaser as the next one's; a recap or teaser with no such neighbour stays in the body."""
    # A recap may name the lesson it recalls ("Last time, in lesson 1, Title: …"): the summary is what follows.
    summaries = {index - 1: _after_title(item.anatomy.recap, items[index - 1].title) for index, item in enumerate(items) if item.anatomy.recap and index > 0}
    teasers = {index + 1: item.anatomy.teaser for index, item in enumerate(items) if item.anatomy.teaser and index + 1 < len(items)}
    placed = []
    for index, item in enumerate(items):
        notes: list[str] = []
        body = item.anatomy.body
        if item.anatomy.recap and index == 0:
            body = f"Last time, {item.anatomy.recap}\n\n{body}"
            notes.append("recap kept in the body (no earlier issue imported)")
        if item.anatomy.teaser and index + 1 == len(items):
            body = f"{body.rstrip()}\n\nNext time, {item.anatomy.teaser}\n"
            notes.append("teaser kept in the body (no later issue imported)")
        summary = summaries.get(index, "") or item.summary
        preheader_note = () if not (summaries.get(index) and item.summary) or summaries[index].casefold() == item.summary.casefold() else ("subtitle replaced by the next issue's recap",)
        placed.append((replace(item, summary=summary, teaser=teasers.get(index, ""), anatomy=replace(item.anatomy, body=body)), (*notes, *preheader_note)))
    return placed
