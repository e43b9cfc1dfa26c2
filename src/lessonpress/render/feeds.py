"""RSS 2.0 and Atom feeds through feedgen, with its traps handled in one place, and JSON Feed 1.1 written directly."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property, partial
from typing import TYPE_CHECKING

from jinja2 import Environment

from ..site.model import Issue, Site
from ..untrusted import xml_text
from .absolute import absolutize_html

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

GENERATOR = "lessonpress"
GENERATOR_URL = "https://pypi.org/project/lessonpress/"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedFormat:
    """One kind of feed every channel (the site, each series) is published in: the only place its file name is spelt."""

    label: str  # as links name it: "RSS"
    file: str  # beside the channel's page: "feed.xml"
    media_type: str
    write: Callable[[ChannelFeed, FeedFormat, str], bytes]  # the channel's entries, this format and this feed's own URL -> the file


@dataclass(frozen=True)
class Channel:
    """What one set of feeds carries: these issues, newest first, under a title, for the page at `path`."""

    issues: tuple[Issue, ...]
    title: str
    description: str
    path: str


@dataclass(frozen=True)
class Entry:
    """One lesson as every feed format carries it: its page's URL and its full content with absolute links."""

    issue: Issue
    url: str
    content: str


@dataclass(frozen=True)
class ChannelFeed:
    """A channel with its newest entries rendered once, for every format's writer."""

    site: Site
    channel: Channel
    entries: tuple[Entry, ...]

    @property
    def home(self) -> str:
        return self.site.config.absolute(self.channel.path)

    @property
    def updated(self) -> datetime:
        # The newest lesson, not the wall clock: the same sources give the same feed.
        return self.entries[0].issue.lesson.date if self.entries else EPOCH

    @cached_property
    def feedgen(self) -> FeedGenerator:
        """The channel as feedgen holds it; one run serves RSS and Atom (works on a frozen dataclass: it fills `__dict__`)."""
        return _generator(self)


def _entries(site: Site, channel: Channel, env: Environment) -> ChannelFeed:
    """Render the content of the channel's newest `feed_limit` lessons."""
    template = env.get_template("feed_entry.html")
    entries = []
    for issue in channel.issues[: site.config.feed_limit]:
        url = site.config.absolute(issue.path)
        entries.append(Entry(issue, url, absolutize_html(template.render(site=site, issue=issue), url)))
    return ChannelFeed(site, channel, tuple(entries))


def _generator(feed: ChannelFeed) -> FeedGenerator:
    """The channel's feed with every entry, ready for an XML format's writer."""
    # Imported here: feedgen brings lxml, which a build that renders no feed never needs.
    from feedgen.feed import FeedGenerator

    config = feed.site.config
    title, description = feed.channel.title, feed.channel.description
    generator = FeedGenerator()
    generator.id(feed.home)
    # Every text goes through xml_text: lxml refuses a control character and would stop the build with no file named.
    generator.title(xml_text(title))
    generator.description(xml_text(description or title))
    generator.subtitle(xml_text(description or title))
    generator.language(config.language)
    generator.generator(GENERATOR, uri=GENERATOR_URL)
    # Atom needs an author for every entry; the site title stands in when [author] has no name.
    generator.author({"name": xml_text(config.author.name or config.title), **({"email": xml_text(config.author.email)} if config.author.email else {})})
    generator.updated(feed.updated)
    generator.lastBuildDate(feed.updated)
    # feedgen prepends entries unless told to append; we add them newest first.
    for item in feed.entries:
        lesson, issue = item.issue.lesson, item.issue
        entry = generator.add_entry(order="append")
        entry.id(item.url)
        entry.guid(item.url, permalink=True)
        entry.title(xml_text(lesson.title))
        entry.link(href=item.url, rel="alternate")
        entry.published(lesson.date)
        entry.updated(lesson.date)
        if issue.author.name:
            entry.author({"name": xml_text(issue.author.name), **({"email": xml_text(issue.author.email)} if issue.author.email else {})})
        if lesson.author_copyright:
            entry.rights(xml_text(f"© {lesson.date.year} {lesson.author_copyright}"))  # Atom only: RSS items have no rights
        for tag in lesson.tags:
            entry.category(term=xml_text(tag))
        # RSS writes content:encoded only when a description is set too.
        entry.summary(xml_text(lesson.summary or lesson.preheader or lesson.title))
        entry.content(xml_text(item.content), type="html")
    return generator


def _xml_writer(kind: str) -> Callable[[ChannelFeed, FeedFormat, str], bytes]:
    """A writer for feedgen's `rss` or `atom` output."""

    def write(feed: ChannelFeed, form: FeedFormat, self_url: str) -> bytes:
        generator = feed.feedgen
        generator.link(href=self_url, rel="self", type=form.media_type, replace=True)
        # feedgen takes the RSS channel <link> from the last link added: it must be the page, not the feed.
        generator.link(href=feed.home, rel="alternate")
        data: bytes = generator.rss_str(pretty=True) if kind == "rss" else generator.atom_str(pretty=True)
        return data

    return write


def _json_author(name: str, url: str) -> dict[str, str]:
    return {"name": name, **({"url": url} if url else {})}


def _json_feed(feed: ChannelFeed, form: FeedFormat, self_url: str) -> bytes:
    """The channel as JSON Feed 1.1 (https://jsonfeed.org/version/1.1): plain JSON, so no library is needed."""
    config = feed.site.config
    items = []
    for item in feed.entries:
        issue, lesson = item.issue, item.issue.lesson
        author = issue.author
        entry: dict[str, object] = {
            "id": item.url,
            "url": item.url,
            "title": lesson.title,
            "content_html": item.content,
            "summary": lesson.summary or lesson.preheader or lesson.title,
            "date_published": lesson.date.isoformat(),
            "date_modified": lesson.date.isoformat(),
        }
        if author.name:
            entry["authors"] = [_json_author(author.name, author.url)]
        if lesson.tags:
            entry["tags"] = list(lesson.tags)
        if issue.image:
            entry["image"] = issue.image
        items.append(entry)
    document: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.channel.title,
        "home_page_url": feed.home,
        "feed_url": self_url,
        "description": feed.channel.description or feed.channel.title,
        "language": config.language,
        "authors": [_json_author(config.author.name or config.title, config.author.url)],
        "items": items,
    }
    # Keys in a fixed order and no time of writing: the same sources give byte-identical files.
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# A new format is one entry here (and its writer): pages, the dev server and the build's count read this.
FEED_FORMATS = (
    FeedFormat("RSS", "feed.xml", "application/rss+xml", _xml_writer("rss")),
    FeedFormat("Atom", "atom.xml", "application/atom+xml", _xml_writer("atom")),
    FeedFormat("JSON", "feed.json", "application/feed+json", _json_feed),
)


def _write(kind: FeedFormat, channel_feed: Callable[[], ChannelFeed], self_url: str) -> bytes:
    return kind.write(channel_feed(), kind, self_url)


def feed_renderers(site: Site, env: Environment) -> dict[str, Callable[[], bytes]]:
    """Map the path of each format's site-wide feed and per-series feeds to a function that renders it."""
    config = site.config
    channels = [Channel(site.issues, config.title, config.description, "")]
    for series in site.series:
        newest_first = tuple(sorted(series.issues, key=lambda issue: (issue.lesson.date, issue.lesson.source), reverse=True))
        channels.append(Channel(newest_first, f"{series.info.title} — {config.title}", series.info.description or config.description, series.path))
    renderers: dict[str, Callable[[], bytes]] = {}
    for channel in channels:
        # The entries are rendered once, by whichever format is asked for first.
        rendered = cache(partial(_entries, site, channel, env))
        for kind in FEED_FORMATS:
            path = channel.path + kind.file
            renderers[path] = partial(_write, kind, rendered, config.absolute(path))
    return renderers
