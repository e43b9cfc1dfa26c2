"""JSON Feed 1.1 beside RSS and Atom: every feed of a real build checked against the specification's rules."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
import pytest

from conftest import build_into

BASE = "https://example.org/letters/"
VERSION = "https://jsonfeed.org/version/1.1"
# RFC 3339 section 5.6: full-date "T" full-time with seconds and a Z or numeric offset.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
FEED_KEYS = {
    "version", "title", "home_page_url", "feed_url", "description", "user_comment", "next_url", "icon", "favicon",
    "authors", "author", "language", "expired", "hubs", "items",
}
ITEM_KEYS = {
    "id", "url", "external_url", "title", "content_html", "content_text", "summary", "image", "banner_image",
    "date_published", "date_modified", "authors", "author", "tags", "language", "attachments",
}


def _absolute(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _author_problems(where: str, authors: object) -> list[str]:
    if not isinstance(authors, list) or not authors:
        return [f"{where}: authors must be a non-empty array"]
    problems = []
    for author in authors:
        if not isinstance(author, dict) or not set(author) & {"name", "url", "avatar"}:
            problems.append(f"{where}: an author object needs at least one of name, url, avatar")
        elif "url" in author and not _absolute(author["url"]):
            problems.append(f"{where}: author url {author['url']!r} is not absolute")
    return problems


def _words(html: str) -> str:
    return " ".join(lxml.html.fragment_fromstring(html, create_parent="div").text_content().split())


def json_feed_problems(document: Any) -> list[str]:
    """Check a parsed document against JSON Feed 1.1: required members, their types, unique ids, RFC 3339 dates."""
    if not isinstance(document, dict):
        return ["the top level must be an object"]
    problems = [f"unknown top-level key {key!r} (extensions start with '_')" for key in document if key not in FEED_KEYS and not key.startswith("_")]
    if document.get("version") != VERSION:
        problems.append(f"version must be {VERSION}")
    if not isinstance(document.get("title"), str) or not document["title"]:
        problems.append("title is required text")
    for key in ("home_page_url", "feed_url"):
        # Optional in the spec, but a feed reader needs both to subscribe and to link back; lessonpress always writes them.
        if not _absolute(document.get(key)):
            problems.append(f"{key} must be an absolute URL")
    if "authors" in document:
        problems += _author_problems("feed", document["authors"])
    items = document.get("items")
    if not isinstance(items, list):
        return [*problems, "items is a required array"]
    seen: set[str] = set()
    for number, item in enumerate(items):
        where = f"item {number}"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object")
            continue
        problems += [f"{where}: unknown key {key!r}" for key in item if key not in ITEM_KEYS and not key.startswith("_")]
        if not isinstance(item.get("id"), str) or not item["id"]:
            problems.append(f"{where}: id is required text")
        elif item["id"] in seen:
            problems.append(f"{where}: id {item['id']!r} is not unique")
        else:
            seen.add(item["id"])
        if not any(isinstance(item.get(key), str) and item[key] for key in ("content_html", "content_text")):
            problems.append(f"{where}: needs content_html or content_text")
        for key in ("url", "image"):
            if key in item and not _absolute(item[key]):
                problems.append(f"{where}: {key} must be an absolute URL")
        for key in ("date_published", "date_modified"):
            if key in item and not (isinstance(item[key], str) and RFC3339.fullmatch(item[key])):
                problems.append(f"{where}: {key} {item.get(key)!r} is not an RFC 3339 date")
        if "authors" in item:
            problems += _author_problems(where, item["authors"])
        if "tags" in item and not (isinstance(item["tags"], list) and all(isinstance(tag, str) for tag in item["tags"])):
            problems.append(f"{where}: tags must be an array of strings")
    return problems


def test_the_validator_catches_what_the_spec_forbids() -> None:
    broken = {
        "version": "https://jsonfeed.org/version/1", "title": "", "feed_url": "/feed.json", "authors": [],
        "items": [
            {"id": "a", "content_html": "<p>x</p>", "date_published": "2026-01-14 07:30"},
            {"id": "a"},
        ],
    }
    problems = json_feed_problems(broken)
    for expected in ("version", "title", "feed_url", "home_page_url", "authors", "RFC 3339", "not unique", "needs content_html"):
        assert any(expected in problem for problem in problems), (expected, problems)


@pytest.mark.parametrize("folder", ["", "retention/", "good-habits/"])
def test_every_json_feed_is_valid_json_feed_1_1(basic_output: Path, folder: str) -> None:
    document = json.loads((basic_output / folder / "feed.json").read_bytes())
    assert json_feed_problems(document) == []
    assert document["feed_url"] == BASE + folder + "feed.json"
    assert document["home_page_url"] == BASE + folder


@pytest.mark.parametrize("folder", ["", "retention/", "good-habits/"])
def test_json_feed_carries_the_same_lessons_and_full_content_as_atom(basic_output: Path, folder: str) -> None:
    document = json.loads((basic_output / folder / "feed.json").read_bytes())
    atom = feedparser.parse((basic_output / folder / "atom.xml").read_bytes())
    rss = feedparser.parse((basic_output / folder / "feed.xml").read_bytes())
    assert not atom.bozo and not rss.bozo
    assert [item["id"] for item in document["items"]] == [entry.id for entry in atom.entries] == [entry.id for entry in rss.entries]
    assert [item["title"] for item in document["items"]] == [entry.title for entry in atom.entries]
    for item, entry in zip(document["items"], atom.entries):
        # Full content, not a summary: the JSON body reads as the Atom body (feedparser rewrites Atom's markup a little).
        assert _words(item["content_html"]) == _words(entry.content[0].value)
        page = lxml.html.fromstring((basic_output / item["url"].removeprefix(BASE) / "index.html").read_bytes())
        body = lxml.html.fragment_fromstring(item["content_html"], create_parent="div")
        assert [_words(lxml.html.tostring(part, encoding="unicode")) for part in body.find_class("lesson-body")] == [
            _words(lxml.html.tostring(part, encoding="unicode")) for part in page.find_class("lesson-body")
        ]
        hrefs = lxml.html.fragment_fromstring(item["content_html"], create_parent="div").xpath("//@href|//@src")
        assert hrefs and all(_absolute(href) or href.startswith("mailto:") for href in hrefs), hrefs


def test_item_dates_and_authors_follow_the_lesson(basic_output: Path) -> None:
    document = json.loads((basic_output / "feed.json").read_bytes())
    atom = feedparser.parse((basic_output / "atom.xml").read_bytes())
    for item, entry in zip(document["items"], atom.entries):
        assert datetime.fromisoformat(item["date_published"]) == datetime.fromisoformat(entry.published)
        assert [author["name"] for author in item["authors"]] == [author.name for author in entry.authors]


@pytest.mark.parametrize(("folder", "expected"), [
    ("", ["feed.json"]),
    ("retention/", ["feed.json", "retention/feed.json"]),
    ("retention/first-days/", ["feed.json", "retention/feed.json"]),
])
def test_pages_link_their_json_feeds_for_autodiscovery(basic_output: Path, folder: str, expected: list[str]) -> None:
    page = lxml.html.fromstring((basic_output / folder / "index.html").read_bytes())
    links = page.xpath('//link[@rel="alternate"][@type="application/feed+json"]/@href')
    # However the theme spells a link (root-relative or relative), it must lead to the feed.
    assert [urljoin(BASE + folder, link) for link in links] == [BASE + path for path in expected]
    assert all((basic_output / path).is_file() for path in expected)


def test_feed_limit_applies_to_json_feed_too(basic: Path) -> None:
    config = basic / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[site]", "[site]\nfeed_limit = 2", 1), encoding="utf-8")
    build_into(basic)
    document = json.loads((basic / "output" / "feed.json").read_bytes())
    assert len(document["items"]) == 2 and json_feed_problems(document) == []


def test_build_counts_json_feeds_in_its_summary(basic: Path) -> None:
    result = build_into(basic)
    # The site and each of its two series, in three formats each.
    assert result.feeds == 9
    assert "9 feeds" in result.summary()
