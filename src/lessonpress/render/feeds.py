"""RSS 2.0 and Atom feeds through feedgen, with its traps handled in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, partial

from jinja2 import Environment

from ..site.model import Issue, Site
from ..untrusted import xml_text
from .absolute import absolutize_html

GENERATOR = "lessonpress"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _feed(site: Site, issues: tuple[Issue, ...], env: Environment, *, title: str, description: str, path: str) -> tuple[bytes, bytes]:
    """Return (rss, atom) bytes for these issues, newest first."""
    # Imported here: feedgen brings lxml, which a build that renders no feed never needs.
    from feedgen.feed import FeedGenerator

    config = site.config
    feed = FeedGenerator()
    home = config.absolute(path)
    feed.id(home)
    # Every text goes through xml_text: lxml refuses a control character and would stop the build with no file named.
    feed.title(xml_text(title))
    feed.description(xml_text(description or title))
    feed.subtitle(xml_text(description or title))
    feed.language(config.language)
    feed.generator(GENERATOR, uri="https://pypi.org/project/lessonpress/")
    # Atom needs an author for every entry; the site title stands in when [author] has no name.
    feed.author({"name": xml_text(config.author.name or config.title), **({"email": xml_text(config.author.email)} if config.author.email else {})})
    chosen = issues[: config.feed_limit]
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
        for tag in lesson.tags:
            entry.category(term=xml_text(tag))
        content = xml_text(absolutize_html(template.render(site=site, issue=issue), url))
        # RSS writes content:encoded only when a description is set too.
        entry.summary(xml_text(lesson.summary or lesson.preheader or lesson.title))
        entry.content(content, type="html")
    feed.link(href=config.absolute(path + "feed.xml"), rel="self", type="application/rss+xml")
    # feedgen takes the RSS channel <link> from the last link added: it must be the page, not the feed.
    feed.link(href=home, rel="alternate")
    rss = feed.rss_str(pretty=True)
    feed.link(href=config.absolute(path + "atom.xml"), rel="self", type="application/atom+xml", replace=True)
    feed.link(href=home, rel="alternate")
    atom = feed.atom_str(pretty=True)
    return rss, atom


def feed_renderers(site: Site, env: Environment) -> dict[str, Callable[[], bytes]]:
    """Map the path of the site-wide feeds and of one RSS and one Atom feed per series to a function that renders it."""
    config = site.config
    channels = [(site.issues, config.title, config.description, "")]
    for series in site.series:
        newest_first = tuple(sorted(series.issues, key=lambda issue: (issue.lesson.date, issue.lesson.source), reverse=True))
        channels.append((newest_first, f"{series.info.title} — {config.title}", series.info.description or config.description, series.path))
    renderers: dict[str, Callable[[], bytes]] = {}
    for issues, title, description, path in channels:
        # One feedgen run writes both formats: whichever is asked for first renders the pair.
        pair = cache(partial(_feed, site, issues, env, title=title, description=description, path=path))
        renderers[f"{path}feed.xml"] = lambda pair=pair: pair()[0]
        renderers[f"{path}atom.xml"] = lambda pair=pair: pair()[1]
    return renderers
