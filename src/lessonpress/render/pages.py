"""Render the site's pages: `Site -> {path: renderer}`, rendered all at once by a build, on request by the dev server."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from jinja2 import Environment

from ..site.model import Site
from .themes import static_files

# A zero-argument function that renders one output file from the Site it was made for.
Renderer = Callable[[], bytes]


def _page(env: Environment, template: str, site: Site, **context: object) -> bytes:
    return env.get_template(template).render(site=site, **context).encode("utf-8")


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
    renderers: dict[str, Renderer] = {
        "index.html": partial(_page, env, "home.html", site),
        "archive/index.html": partial(_page, env, "archive.html", site),
        "tags/index.html": partial(_page, env, "tags.html", site),
        "404.html": partial(_page, env, "404.html", site),
    }
    for series in site.series:
        renderers[f"{series.path}index.html"] = partial(_page, env, "series.html", site, series=series)
        for issue in series.issues:
            renderers[f"{issue.path}index.html"] = partial(_page, env, "lesson.html", site, issue=issue)
    for tag in site.tags:
        renderers[f"{tag.path}index.html"] = partial(_page, env, "tag.html", site, tag=tag)
    if site.topics:
        renderers["topics/index.html"] = partial(_page, env, "topics.html", site)
    renderers["sitemap.xml"] = partial(_sitemap, env, site)
    robots = f"User-agent: *\nAllow: /\nSitemap: {site.config.absolute('sitemap.xml')}\n".encode()
    renderers["robots.txt"] = partial(bytes, robots)
    return renderers


def theme_static(site: Site) -> dict[str, bytes]:
    """The theme's static files by output path; the site theme's win."""
    return {f"static/{name}": data for name, data in static_files(site.config)}
