"""The whole pipeline: read → assemble → render → write."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment

from .config import SiteConfig, load_config
from .emails import render_emails, size_warnings
from .errors import BuildFailed, SourceError
from .feeds import feed_renderers
from .model import BuildOptions, LinkResolver, Site, assemble
from .polls_data import read_poll_results
from .read import Sources, read_sources
from .progress import Progress, silent
from .site import Renderer, page_renderers, theme_static
from .themes import make_environment, theme_error
from .topics import Backlog, read_backlog
from .topics_select import plan_topics
from .write import WriteResult, check_paths, output_error, write_tree


@dataclass(frozen=True)
class BuildResult:
    site: Site
    pages: int
    feeds: int
    files: dict[str, bytes]
    written: WriteResult | None
    warnings: tuple[SourceError, ...]
    seconds: float

    def summary(self) -> str:
        lessons = len(self.site.issues)
        series = len(self.site.series)
        emails = sum(1 for path in self.files if path.endswith(".eml"))
        return (
            f"Built {lessons} lesson{'s' if lessons != 1 else ''} in {series} series: "
            f"{self.pages} pages, {self.feeds} feeds, {emails} emails in {self.seconds:.2f} s"
        )


def prepare(
    root: Path,
    options: BuildOptions,
    *,
    read: Callable[[SiteConfig], Sources] = read_sources,
    environment: Callable[[SiteConfig], Environment] = make_environment,
    backlog: Callable[[SiteConfig], tuple[Backlog, list[SourceError]]] = read_backlog,
    links: LinkResolver | None = None,
) -> tuple[Site, Environment, list[SourceError]]:
    """Read and assemble a site and give it its template environment; raise `BuildFailed` with every error found."""
    config, warnings = load_config(root)
    sources = read(config)
    warnings += sources.warnings
    poll_results, results_errors = read_poll_results(config)
    topics = plan_topics(config, sources.lessons, poll_results, backlog)
    site, errors = assemble(config, list(topics.lessons), list(sources.series), sources.assets, options, poll_results, topics.asked(), links)
    site = replace(site, topics=topics.board(site.issues))
    errors = list(sources.errors) + results_errors + list(topics.errors) + errors
    problem = theme_error(config)
    if problem:
        errors.append(SourceError("lessonpress.toml", 0, problem))
    if errors:
        raise BuildFailed(errors)
    return site, environment(config), warnings


def renderers(site: Site, env: Environment) -> dict[str, Renderer]:
    """Every page and feed of the site, each as a function that renders it."""
    return {**page_renderers(site, env), **feed_renderers(site, env)}


def asset_files(site: Site) -> dict[str, bytes]:
    """The files under lessons/ that are copied beside the pages, by output path."""
    return {asset: (site.config.lessons_dir / asset).read_bytes() for asset in site.assets}


def render(
    root: Path, options: BuildOptions, *, with_emails: bool = True, progress: Progress = silent
) -> tuple[Site, dict[str, bytes], list[SourceError]]:
    """Read, assemble and render a site into memory; raise `BuildFailed` with every error found."""
    site, env, warnings = prepare(root, options, read=partial(read_sources, progress=progress))
    jobs = list(renderers(site, env).items())
    files = {path: job() for path, job in progress(f"Rendering {len(jobs)} pages and feeds", jobs)}
    files.update(theme_static(site))
    # The dev server leaves emails out (the costliest part) and renders one when it is asked for.
    if with_emails:
        emails = render_emails(site, progress)
        files.update(emails)
        warnings += size_warnings(site, emails)
    files.update(asset_files(site))
    path_errors = check_paths(list(files))
    if path_errors:
        raise BuildFailed(path_errors)
    return site, files, warnings


def build(
    root: Path, options: BuildOptions | None = None, *, output: Path | None = None, write: bool = True, progress: Progress = silent
) -> BuildResult:
    """Build the site in `root` into `output` (default `root/output`)."""
    started = time.perf_counter()
    problem = output_error(output, root) if output is not None else None
    if problem:
        raise BuildFailed([problem])
    options = options or BuildOptions(now=datetime.now(timezone.utc))
    site, files, warnings = render(root, options, progress=progress)
    written = write_tree(files, output or site.config.output_dir) if write else None
    return BuildResult(
        site=site,
        pages=sum(1 for path in files if path.endswith(".html") and not path.startswith("email/")),
        feeds=sum(1 for path in files if path.endswith(("feed.xml", "atom.xml"))),
        files=files,
        written=written,
        warnings=tuple(warnings),
        seconds=time.perf_counter() - started,
    )
