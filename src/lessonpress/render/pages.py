"""Render the site's pages: `Site -> {path: renderer}`, rendered all at once by a build, on request by the dev server."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from jinja2 import Environment

from ..site.model import Site
from .relative import relative_html
from .themes import static_files

# A zero-argument function that renders one output file from the Site it was made for.
Renderer = Callable[[], bytes]


def _page(env: Environment, template: str, site: Site, **context: object) -> bytes:
    return env.get_template(template).render(site=site, **context).encode("utf-8")


def _linked_page(env: Environment, template: str, site: Site, page: str, **context: object) -> bytes:
    """A page whose links to the site are relative to it: the site works under any path without a setting."""
    html = env.get_template(template).render(site=site, page=page, **context)
    return relative_html(html, page, site.config.base_path, offline=site.config.offline).encode("utf-8")


def _sitemap(env: Environment, site: Site) -> bytes:
    config = site.config
    latest = site.issues[0].lesson.date.date().isoformat() if site.issues else ""
    entries = [(config.absolute(""), latest), (config.absolute("archive/"), latest), (config.absolute("tags/"), latest)]
    for series in site.series:
        newest = max((issue.lesson.date for issue in series.issues), default=None)
        entries.append((config.absolute(series.path), newest.date().isoformat() if newest else ""))
        entries.extend((config.absolute(issue.path), issue.lesson.date.date().isoformat()) for issue in series.issues)
    entries.extend((config.absolute(tag.path), tag.issues[0].lesson.date.date().isoformat()) for tag in site.tags)
    if site.topics:
        entries.append((config.absolute("topics/"), latest))
    return _page(env, "sitemap.xml", site, entries=entries)


def page_renderers(site: Site, env: Environment) -> dict[str, Renderer]:
    """Map the path of every page, the sitemap and robots.txt to a function that renders it."""
    def page(path: str, template: str, **context: object) -> None:
        renderers[path] = partial(_linked_page, env, template, site, path, **context)

    renderers: dict[str, Renderer] = {}
    page("index.html", "home.html")
    page("archive/index.html", "archive.html")
    page("tags/index.html", "tags.html")
    if site.config.search:
        page("search/index.html", "search.html")
    # Served for a missing page at any depth, so no relative link would hold: its links stay under `[site] url`'s path.
    renderers["404.html"] = partial(_page, env, "404.html", site, page=None)
    for series in site.series:
        page(f"{series.path}index.html", "series.html", series=series)
        for issue in series.issues:
            page(f"{issue.path}index.html", "lesson.html", issue=issue)
    for tag in site.tags:
        page(f"{tag.path}index.html", "tag.html", tag=tag)
    if site.topics:
        page("topics/index.html", "topics.html")
    renderers["sitemap.xml"] = partial(_sitemap, env, site)
    robots = f"User-agent: *\nAllow: /\nSitemap: {site.config.absolute('sitemap.xml')}\n".encode()
    renderers["robots.txt"] = partial(bytes, robots)
    return renderers


def theme_static(site: Site) -> dict[str, bytes]:
    """The theme's static files by output path; the site theme's win."""
    return {f"static/{name}": data for name, data in static_files(site.config)}
