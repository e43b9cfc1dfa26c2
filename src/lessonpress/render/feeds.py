"""RSS 2.0 and Atom feeds through feedgen, with its traps handled in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from typing import TYPE_CHECKING

from jinja2 import Environment

from ..site.model import Issue, Site
from ..untrusted import xml_text
from .absolute import absolutize_html

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

GENERATOR = "lessonpress"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedFormat:
    """One kind of feed every channel (the site, each series) is published in: the only place its file name is spelt."""

    label: str  # as links name it: "RSS"
    file: str  # beside the channel's page: "feed.xml"
    media_type: str
    write: Callable[[FeedGenerator], bytes]


# A new format is one entry here (and its writer): pages, the dev server and the build's count read this.
FEED_FORMATS = (
    FeedFormat("RSS", "feed.xml", "application/rss+xml", lambda feed: feed.rss_str(pretty=True)),
    FeedFormat("Atom", "atom.xml", "application/atom+xml", lambda feed: feed.atom_str(pretty=True)),
)


@dataclass(frozen=True)
class Channel:
    """What one set of feeds carries: these issues, newest first, under a title, for the page at `path`."""

    issues: tuple[Issue, ...]
    title: str
    description: str
    path: str


def _generator(site: Site, channel: Channel, env: Environment) -> FeedGenerator:
    """The channel's feed with every entry, ready for any format's writer."""
    # Imported here: feedgen brings lxml, which a build that renders no feed never needs.
    from feedgen.feed import FeedGenerator

    config = site.config
    title, description = channel.title, channel.description
    feed = FeedGenerator()
    home = config.absolute(channel.path)
    feed.id(home)
    # Every text goes through xml_text: lxml refuses a control character and would stop the build with no file named.
    feed.title(xml_text(title))
    feed.description(xml_text(description or title))
    feed.subtitle(xml_text(description or title))
    feed.language(config.language)
    feed.generator(GENERATOR, uri="https://pypi.org/project/lessonpress/")
    # Atom needs an author for every entry; the site title stands in when [author] has no name.
    feed.author({"name": xml_text(config.author.name or config.title), **({"email": xml_text(config.author.email)} if config.author.email else {})})
    chosen = channel.issues[: config.feed_limit]
    # feedgen stamps the wall clock by default; the newest lesson keeps output deterministic.
    newest = chosen[0].lesson.date if chosen else EPOCH
    feed.updated(newest)
    feed.lastBuildDate(newest)
    template = env.get_template("feed_entry.html")
    # feedgen prepends entries unless told to append; we add them newest first.
    for issue in chosen:
        lesson = issue.lesson
        url = config.absolute(issue.path)
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(xml_text(lesson.title))
        entry.link(href=url, rel="alternate")
        entry.published(lesson.date)
        entry.updated(lesson.date)
        if issue.author.name:
            entry.author({"name": xml_text(issue.author.name), **({"email": xml_text(issue.author.email)} if issue.author.email else {})})
        if lesson.author_copyright:
            entry.rights(xml_text(f"© {lesson.date.year} {lesson.author_copyright}"))  # Atom only: RSS items have no rights
        for tag in lesson.tags:
            entry.category(term=xml_text(tag))
        content = xml_text(absolutize_html(template.render(site=site, issue=issue), url))
        # RSS writes content:encoded only when a description is set too.
        entry.summary(xml_text(lesson.summary or lesson.preheader or lesson.title))
        entry.content(content, type="html")
    return feed


def _write(site: Site, channel: Channel, kind: FeedFormat, generator: Callable[[], FeedGenerator]) -> bytes:
    feed = generator()
    feed.link(href=site.config.absolute(channel.path + kind.file), rel="self", type=kind.media_type, replace=True)
    # feedgen takes the RSS channel <link> from the last link added: it must be the page, not the feed.
    feed.link(href=site.config.absolute(channel.path), rel="alternate")
    return kind.write(feed)


def feed_renderers(site: Site, env: Environment) -> dict[str, Callable[[], bytes]]:
    """Map the path of each format's site-wide feed and per-series feeds to a function that renders it."""
    config = site.config
    channels = [Channel(site.issues, config.title, config.description, "")]
    for series in site.series:
        newest_first = tuple(sorted(series.issues, key=lambda issue: (issue.lesson.date, issue.lesson.source), reverse=True))
        channels.append(Channel(newest_first, f"{series.info.title} — {config.title}", series.info.description or config.description, series.path))
    renderers: dict[str, Callable[[], bytes]] = {}
    for channel in channels:
        # One feedgen run serves every format: whichever is asked for first makes it.
        generator = cache(partial(_generator, site, channel, env))
        for kind in FEED_FORMATS:
            renderers[channel.path + kind.file] = partial(_write, site, channel, kind, generator)
    return renderers

