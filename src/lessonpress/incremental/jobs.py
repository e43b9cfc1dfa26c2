"""Every output file of a site as a job: how it renders and what its cache key must cover."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from pathlib import Path

from jinja2 import Environment

from ..render.emails import Mailer, email_files, email_paths, merge_tag_recipient
from ..render.feeds import feed_renderers
from ..render.pages import page_renderers
from ..render.search import ENTRY, search_files
from ..render.themes import static_files
from ..site.model import Issue, Site
from ..sitefiles import read_file


class Depends(Enum):
    """What of the site a job's files are made from, besides the code and the theme."""

    NAV = "nav"  # rendered by templates whose reads of lesson bodies are tracked (themes.BodyReads)
    SITE = "site"  # made by code that reads any lesson's body (feeds, sitemap): the whole site
    FILE = "file"  # a copied file: its own bytes


@dataclass(frozen=True)
class Job:
    name: str  # unique in a build; names the job's record in the manifest
    paths: tuple[str, ...]  # the output files it makes
    render: Callable[[], dict[str, bytes]]
    depends: Depends
    issue: Issue | None = None  # the lesson the job is made for: its digest is part of the key
    inputs: str = ""  # more for the key: a copied file's size and time


def _one(path: str, renderer: Callable[[], bytes]) -> dict[str, bytes]:
    return {path: renderer()}


def _read(path: str, source: Path) -> dict[str, bytes]:
    return {path: read_file(source)}


def _copied(path: str, data: bytes) -> dict[str, bytes]:
    return {path: data}


def site_jobs(site: Site, env: Environment, mailer: Mailer, *, search: bool = False) -> list[Job]:
    """The jobs of every page, feed, email, theme static file and copied lesson file, and of the search index if `search`."""
    lesson_pages = {f"{issue.path}index.html": issue for issue in site.issues}
    pages = page_renderers(site, env)
    jobs = [
        # The sitemap's code reads the site itself, not through templates, so its reads are not tracked.
        Job(path, (path,), partial(_one, path, renderer), Depends.SITE if path == "sitemap.xml" else Depends.NAV, lesson_pages.get(path))
        for path, renderer in pages.items()
    ]
    if search:
        # Pagefind names its files by their contents: the job declares the one the search page loads, and writes them all.
        jobs.append(Job("search", (ENTRY,), partial(search_files, site, pages), Depends.SITE))
    jobs += [Job(path, (path,), partial(_one, path, renderer), Depends.SITE) for path, renderer in feed_renderers(site, env).items()]
    merge = merge_tag_recipient(site)
    jobs += [
        Job(f"email:{issue.path}", tuple(email_paths(issue).values()), partial(email_files, mailer, issue, merge), Depends.NAV, issue)
        for issue in site.issues
    ]
    # Each lesson's page beside its email: workers take contiguous runs of jobs, and these two cost
    # the most and use the same values (sorted is stable: the other jobs keep their order, first).
    position = {issue.lesson.source: index for index, issue in enumerate(site.issues)}
    jobs.sort(key=lambda job: -1 if job.issue is None else position[job.issue.lesson.source])
    # The theme's files are part of every key (digest.render_fingerprint): its static files need nothing more.
    jobs += [Job(f"static/{name}", (f"static/{name}",), partial(_copied, f"static/{name}", data), Depends.FILE) for name, data in static_files(site.config)]
    for asset in site.assets:
        source = site.config.lessons_dir / asset
        status = source.stat()
        jobs.append(Job(asset, (asset,), partial(_read, asset, source), Depends.FILE, inputs=f"{status.st_size}:{status.st_mtime_ns}:{status.st_ino}"))
    return jobs

