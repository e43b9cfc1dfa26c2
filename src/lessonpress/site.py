"""Render the site's pages: `Site -> {path: bytes}`."""

from __future__ import annotations

from jinja2 import Environment

from .model import Site
from .themes import static_files


def _page(env: Environment, template: str, site: Site, **context: object) -> bytes:
    return env.get_template(template).render(site=site, **context).encode("utf-8")


def render_site(site: Site, env: Environment) -> dict[str, bytes]:
    """Render every page, the sitemap, robots.txt and the theme's static files."""
    files: dict[str, bytes] = {
        "index.html": _page(env, "home.html", site),
        "archive/index.html": _page(env, "archive.html", site),
        "tags/index.html": _page(env, "tags.html", site),
        "404.html": _page(env, "404.html", site),
    }
    for series in site.series:
        files[f"{series.path}index.html"] = _page(env, "series.html", site, series=series)
        for issue in series.issues:
            files[f"{issue.path}index.html"] = _page(env, "lesson.html", site, issue=issue)
    for tag in site.tags:
        files[f"{tag.path}index.html"] = _page(env, "tag.html", site, tag=tag)

    config = site.config
    latest = site.issues[0].lesson.date.date().isoformat() if site.issues else ""
    entries = [(config.absolute(""), latest), (config.absolute("archive/"), latest), (config.absolute("tags/"), latest)]
    for series in site.series:
        newest = max((issue.lesson.date for issue in series.issues), default=None)
        entries.append((config.absolute(series.path), newest.date().isoformat() if newest else ""))
        entries.extend((config.absolute(issue.path), issue.lesson.date.date().isoformat()) for issue in series.issues)
    entries.extend((config.absolute(tag.path), tag.issues[0].lesson.date.date().isoformat()) for tag in site.tags)
    files["sitemap.xml"] = _page(env, "sitemap.xml", site, entries=entries)
    files["robots.txt"] = f"User-agent: *\nAllow: /\nSitemap: {config.absolute('sitemap.xml')}\n".encode()
    for name, data in static_files(config):
        files[f"static/{name}"] = data
    return files
