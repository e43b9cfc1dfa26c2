"""Read RSS 2.0, Atom and JSON Feed files: one issue per item or entry."""

from __future__ import annotations

import json
import re
from xml.etree.ElementTree import Element, tostring  # serialising is safe; only parsing untrusted XML needs defusedxml

from ..errors import SourceError
from .model import Archive, FoundIssue
from .when import read_date

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"


def where_in(label: str, what: str, number: int, title: str) -> str:
    """Where an issue is in its feed, as messages name it: `feed.xml: item 3 (Title)`."""
    return f"{label}: {what} {number}" + (f" ({title})" if title else "")


def _text(element: Element | None) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _rss_author(item: Element) -> str:
    """dc:creator, else <author> as RSS writes it ('ana@example.org (Ana Ruiz)'): the name in brackets, else the whole field."""
    author = _text(item.find(DC_CREATOR)) or _text(item.find("author"))
    named = re.fullmatch(r"\S+@\S+\s*\((.+)\)", author)
    return named.group(1).strip() if named else author


def read_rss(channel: Element, label: str) -> Archive:
    """The items of an RSS 2.0 channel: content:encoded (else description) is the body."""
    issues = []
    for number, item in enumerate(channel.findall("item"), start=1):
        link, guid = _text(item.find("link")), _text(item.find("guid"))
        body = _text(item.find(CONTENT)) or _text(item.find("description"))
        issues.append(FoundIssue(
            # Without a guid or link, the title and date name the item: its place in the feed moves as issues are added.
            key=f"rss:{guid or link or _text(item.find('title')) + '|' + _text(item.find('pubDate'))}", origin=where_in(label, "item", number, _text(item.find("title"))), title=_text(item.find("title")), body=body, markup="html",
            date=read_date(_text(item.find("pubDate"))), author=_rss_author(item),
            summary=_text(item.find("description")) if item.find(CONTENT) is not None else "",
            tags=tuple(_text(category) for category in item.findall("category") if _text(category)),
            urls=tuple(url for url in (link, guid) if url.startswith(("http://", "https://"))),
        ))
    return Archive("RSS feed", tuple(issues), title=_text(channel.find("title")), description=_text(channel.find("description")))


def _atom_content(entry: Element) -> tuple[str, bool]:
    """An Atom entry's content (else summary) and whether it is HTML; xhtml content is serialised back to markup."""
    for tag in ("content", "summary"):
        element = entry.find(ATOM + tag)
        if element is None:
            continue
        kind = element.get("type", "text")
        if kind == "xhtml":
            return "".join(tostring(child, encoding="unicode") for child in element).replace("html:", "").replace(f"{ATOM}", ""), True
        return _text(element), kind == "html"
    return "", False


def read_atom(feed: Element, label: str) -> Archive:
    """The entries of an Atom feed."""
    issues = []
    for number, entry in enumerate(feed.findall(ATOM + "entry"), start=1):
        links = [link.get("href", "") for link in entry.findall(ATOM + "link") if link.get("rel", "alternate") == "alternate"]
        body, is_html = _atom_content(entry)
        summary = _text(entry.find(ATOM + "summary")) if entry.find(ATOM + "content") is not None else ""
        issues.append(FoundIssue(
            key=f"atom:{_text(entry.find(ATOM + 'id')) or number}", origin=where_in(label, "entry", number, _text(entry.find(ATOM + "title"))), title=_text(entry.find(ATOM + "title")),
            body=body, markup="html" if is_html else "text", date=read_date(_text(entry.find(ATOM + "published")) or _text(entry.find(ATOM + "updated"))),
            author=_text(entry.find(f"{ATOM}author/{ATOM}name")), summary=summary,
            tags=tuple(category.get("term", "") for category in entry.findall(ATOM + "category") if category.get("term")),
            urls=tuple(link for link in links if link.startswith(("http://", "https://"))),
        ))
    return Archive("Atom feed", tuple(issues), title=_text(feed.find(ATOM + "title")), description=_text(feed.find(ATOM + "subtitle")))


def _author_name(value: object) -> str:
    if isinstance(value, list) and value:
        value = value[0]
    return str(value.get("name", "")) if isinstance(value, dict) else ""


def read_json_feed(data: bytes, label: str) -> Archive:
    """The items of a JSON Feed (version 1 or 1.1)."""
    try:
        feed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return Archive("JSON Feed", (), errors=(SourceError(label, getattr(error, "lineno", 0), f"is not a JSON Feed ({error}): export the feed again"),))
    if not isinstance(feed, dict) or not str(feed.get("version", "")).startswith("https://jsonfeed.org/version/") or not isinstance(feed.get("items"), list):
        return Archive("JSON Feed", (), errors=(SourceError(label, 1, "is JSON but not a JSON Feed (no 'version' of jsonfeed.org and 'items' list)"),))
    issues = []
    skipped = []
    for number, item in enumerate(feed["items"], start=1):
        if not isinstance(item, dict):
            skipped.append(SourceError(label, 0, f"item {number} is not an object: skipped"))
            continue
        html, text = item.get("content_html"), item.get("content_text")
        tags = item.get("tags")
        tags = tags if isinstance(tags, list) else []
        url = str(item.get("url") or "")
        issues.append(FoundIssue(
            key=f"json:{item.get('id') or url or number}", origin=where_in(label, "item", number, str(item.get("title") or "")), title=str(item.get("title") or ""),
            body=str(html if isinstance(html, str) else text or ""), markup="html" if isinstance(html, str) else "text",
            date=read_date(str(item.get("date_published") or item.get("date_modified") or "")),
            author=_author_name(item.get("authors") or item.get("author")), summary=str(item.get("summary") or ""),
            tags=tuple(str(tag) for tag in tags if str(tag).strip()), urls=(url,) if url.startswith(("http://", "https://")) else (),
        ))
    return Archive("JSON Feed", tuple(issues), title=str(feed.get("title") or ""), description=str(feed.get("description") or ""), skipped=tuple(skipped))
