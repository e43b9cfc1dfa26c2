"""The RSS and Atom feeds of a real build, read back by feedparser and checked element by element."""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import lxml.html
import pytest

from conftest import build_into

BASE = "https://example.org/letters/"
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
SITE_ORDER = ["good-habits/the-last-habit/", "retention/first-days/", "retention/why-they-leave/", "good-habits/small-steps/"]
FEEDS = [
    ("", SITE_ORDER),
    ("retention/", ["retention/first-days/", "retention/why-they-leave/"]),
    ("good-habits/", ["good-habits/the-last-habit/", "good-habits/small-steps/"]),
]


def entry_urls(parsed: feedparser.FeedParserDict) -> list[str]:
    return [entry.id for entry in parsed.entries]


@pytest.mark.parametrize(("folder", "expected"), FEEDS)
@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_feed_is_valid_with_stable_ids_newest_first(basic_output: Path, folder: str, expected: list[str], name: str) -> None:
    parsed = feedparser.parse((basic_output / folder / name).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert entry_urls(parsed) == [BASE + path for path in expected]
    assert [entry.link for entry in parsed.entries] == [BASE + path for path in expected]


@pytest.mark.parametrize(("folder", "title"), [("", "Test Letters"), ("retention/", "Keeping Customers — Test Letters")])
def test_rss_channel_has_required_elements(basic_output: Path, folder: str, title: str) -> None:
    channel = ET.parse(basic_output / folder / "feed.xml").getroot().find("channel")
    assert channel.findtext("title") == title
    assert channel.findtext("link") == BASE + folder
    assert channel.findtext("description")
    self_links = [link.get("href") for link in channel.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_links == [BASE + folder + "feed.xml"]


def test_rss_items_have_rfc822_dates_permalink_guids_summary_and_full_content(basic_output: Path) -> None:
    items = ET.parse(basic_output / "feed.xml").getroot().find("channel").findall("item")
    for item, path in zip(items, SITE_ORDER, strict=True):
        assert email.utils.parsedate_to_datetime(item.findtext("pubDate")).tzinfo is not None
        guid = item.find("guid")
        assert (guid.text, guid.get("isPermaLink")) == (BASE + path, "true")
        assert item.findtext("description")
        assert "lesson-body" in item.findtext(CONTENT)


def test_dates_are_timezone_correct(basic_output: Path) -> None:
    entries = {entry.id: entry for entry in feedparser.parse((basic_output / "atom.xml").read_bytes()).entries}
    published = {url.removeprefix(BASE): datetime(*entry.published_parsed[:6], tzinfo=UTC) for url, entry in entries.items()}
    assert published == {
        "retention/why-they-leave/": datetime(2026, 1, 7, 5, 0, tzinfo=UTC),  # midnight New York
        "retention/first-days/": datetime(2026, 1, 14, 12, 30, tzinfo=UTC),
        "good-habits/small-steps/": datetime(2025, 12, 1, 8, 0, tzinfo=UTC),
        "good-habits/the-last-habit/": datetime(2026, 2, 20, 8, 0, tzinfo=UTC),
    }
    pub_dates = [item.findtext("pubDate") for item in ET.parse(basic_output / "feed.xml").getroot().iter("item")]
    assert "Wed, 14 Jan 2026 07:30:00 -0500" in pub_dates


def test_atom_has_required_elements(basic_output: Path) -> None:
    feed = ET.parse(basic_output / "retention" / "atom.xml").getroot()
    assert feed.findtext(f"{ATOM}id") == BASE + "retention/"
    assert feed.findtext(f"{ATOM}title") == "Keeping Customers — Test Letters"
    assert feed.findtext(f"{ATOM}updated") == "2026-01-14T07:30:00-05:00"
    links = {(link.get("rel"), link.get("href")) for link in feed.findall(f"{ATOM}link")}
    assert links == {("self", BASE + "retention/atom.xml"), ("alternate", BASE + "retention/")}
    feed_author = feed.find(f"{ATOM}author")
    for entry in feed.findall(f"{ATOM}entry"):
        assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}updated")
        assert entry.find(f"{ATOM}author") is not None or feed_author is not None
        assert entry.findtext(f"{ATOM}summary")
        assert entry.find(f"{ATOM}content").get("type") == "html"


def test_entry_authors_match_the_byline(basic_output: Path) -> None:
    entries = feedparser.parse((basic_output / "retention" / "atom.xml").read_bytes()).entries
    assert [(entry.author_detail.get("name"), entry.author_detail.get("email")) for entry in entries] == [
        ("Guest Writer", None),
        ("Ada Example", "ada@example.org"),
    ]


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_every_url_inside_content_is_absolute(basic_output: Path, name: str) -> None:
    parsed = feedparser.parse((basic_output / name).read_bytes())
    urls = []
    for entry in parsed.entries:
        body = lxml.html.fromstring(entry.content[0].value)
        urls += [element.get(attribute) for attribute in ("href", "src") for element in body.xpath(f"//*[@{attribute}]")]
    assert urls, "no links found in the feed content"
    assert all(url.startswith(("https://", "mailto:")) for url in urls), urls
    assert BASE + "retention/first-days/" in urls
    assert "https://example.org/guide/" in urls


def test_content_keeps_questions_pull_quotes_and_typography(basic_output: Path) -> None:
    entry = next(e for e in feedparser.parse((basic_output / "feed.xml").read_bytes()).entries if e.id.endswith("why-they-leave/"))
    body = lxml.html.fromstring(entry.content[0].value)
    assert len(body.xpath("//p[@class='question']")) == 2
    assert body.xpath("//blockquote[@class='pull-quote']")
    assert "OnboardPath™, © 2026, an ellipsis… and «guillemets»" in body.text_content()
    assert entry.summary == "customers leave when they feel unnoticed"


def test_title_with_markup_stays_text(basic_output: Path) -> None:
    titles = [item.findtext("title") for item in ET.parse(basic_output / "feed.xml").getroot().iter("item")]
    assert "Small steps & <script>alert(‘x’)</script>" in titles


def test_feed_limit_keeps_the_newest(basic: Path) -> None:
    config = basic / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[author]", "feed_limit = 2\n\n[author]"), encoding="utf-8")
    build_into(basic)
    parsed = feedparser.parse((basic / "output" / "feed.xml").read_bytes())
    assert entry_urls(parsed) == [BASE + path for path in SITE_ORDER[:2]]


def test_site_without_author_still_has_a_valid_atom_author(project: Callable[[str], Path]) -> None:
    root = project("minimal")
    build_into(root)
    feed = ET.parse(root / "output" / "atom.xml").getroot()
    assert feed.find(f"{ATOM}author").findtext(f"{ATOM}name") == "Minimal"
    assert not feedparser.parse((root / "output" / "feed.xml").read_bytes()).bozo
