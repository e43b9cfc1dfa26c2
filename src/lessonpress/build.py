"""The whole pipeline: read → assemble → render → write."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import Environment

from .content.config import CONFIG_NAME, SiteConfig
from .content.read import Sources, read_sources
from .errors import BuildFailed, SiteFailed, SourceError, plural
from .incremental.digest import render_fingerprint, site_digests
from .incremental.jobs import Job, site_jobs
from .incremental.run import run_job, run_jobs
from .incremental.write import WriteResult, check_paths, output_error
from .progress import Progress, silent
from .render.emails import Mailer, size_warnings
from .render.feeds import FEED_FORMATS, feed_renderers
from .render.pages import Renderer, page_renderers
from .render.search import not_indexed, search_available
from .render.themes import body_reads, make_environment, theme_errors
from .site.assemble import LinkResolver
from .site.backlog import Backlog, read_backlog
from .site.load import LoadedSite, load_site
from .site.model import BuildOptions, Site


@dataclass(frozen=True)
class BuildResult:
    site: Site
    pages: int
    feeds: int
    emails: int
    files: Mapping[str, bytes]  # every built file, read from the output folder when asked for
    written: WriteResult
    rendered: int  # outputs (a page, a feed, a lesson's email files, a copied file) rendered; the others were unchanged since the last build
    outputs: int
    parsed: int  # source files parsed; the others came from the parse cache in .lessonpress/
    sources: int
    warnings: tuple[SourceError, ...]
    seconds: float

    def summary(self) -> str:
        lessons = len(self.site.issues)
        series = len(self.site.series)
        return (
            f"Built {plural(lessons, 'lesson')} in {series} series: "
            f"{plural(self.pages, 'page')}, {plural(self.feeds, 'feed')}, {plural(self.emails, 'email')} in {self.seconds:.2f} s "
            f"({self.rendered} of {self.outputs} rendered, {plural(self.written.written, 'file')} written); "
            f"{self.parsed} of {self.sources} sources parsed{' (the rest cached)' if self.parsed < self.sources else ''}"
        )


def prepare_loaded(
    root: Path,
    options: BuildOptions,
    *,
    read: Callable[[SiteConfig], Sources] = read_sources,
    environment: Callable[[SiteConfig], Environment] = make_environment,
    backlog: Callable[[SiteConfig], tuple[Backlog, list[SourceError]]] = read_backlog,
    links: LinkResolver | None = None,
) -> tuple[LoadedSite, Environment]:
    """Load a site and give it its template environment; raise `SiteFailed` with every error found, the theme's included."""
    loaded = load_site(root, options, read=read, backlog=backlog, links=links)
    replace(loaded, errors=loaded.errors + tuple(theme_errors(loaded.site.config))).or_fail()
    return loaded, environment(loaded.site.config)


def prepare(root: Path, options: BuildOptions, **reuse: Any) -> tuple[Site, Environment, list[SourceError]]:
    """`prepare_loaded`, as the site, its environment and its warnings."""
    loaded, env = prepare_loaded(root, options, **reuse)
    return loaded.site, env, list(loaded.warnings)


def renderers(site: Site, env: Environment) -> dict[str, Renderer]:
    """Every page and feed of the site, each as a function that renders it."""
    return {**page_renderers(site, env), **feed_renderers(site, env)}


def asset_files(site: Site) -> dict[str, bytes]:
    """The files under lessons/ that are copied beside the pages, by output path."""
    return {asset: (site.config.lessons_dir / asset).read_bytes() for asset in site.assets}


def _checked_paths(jobs: list[Job]) -> list[str]:
    paths = [path for job in jobs for path in job.paths]
    path_errors = check_paths(paths)
    if path_errors:
        raise BuildFailed(path_errors)
    return paths


def render(root: Path, options: BuildOptions) -> tuple[Site, dict[str, bytes], list[SourceError]]:
    """Read, assemble and render a whole site into memory, as `check` does; raise `BuildFailed` with every error found."""
    site, env, warnings = prepare(root, options)
    jobs = site_jobs(site, env, Mailer(site))
    _checked_paths(jobs)
    files = {path: data for job in jobs for path, data in run_job(root, job.render).items()}
    return site, files, warnings + size_warnings(site, {path: len(data) for path, data in files.items()})


class OutputFiles(Mapping[str, bytes]):
    """A build's files, read from the output folder when asked for: a build holds none of them in memory."""

    def __init__(self, output: Path, paths: list[str]) -> None:
        self._output = output
        self._paths = dict.fromkeys(paths)

    def __getitem__(self, path: str) -> bytes:
        if path not in self._paths:
            raise KeyError(path)
        return (self._output / path).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def build(root: Path, options: BuildOptions | None = None, *, output: Path | None = None, progress: Progress = silent) -> BuildResult:
    """Build the site in `root` into `output` (default `root/output`): only what changed since the last build is rendered and written."""
    started = time.perf_counter()
    # 1. A folder given on the command line is checked before anything is read or cached.
    problem = output_error(output, root) if output is not None else None
    if problem:
        raise BuildFailed([problem])
    # 2. Read the lessons, settings and data, and assemble the site.
    options = options or BuildOptions(now=datetime.now(UTC))
    try:
        loaded, env = prepare_loaded(root, options, read=partial(read_sources, progress=progress))
    except SiteFailed as failure:
        if not (root / CONFIG_NAME).exists():
            raise  # outside a site: there is no output/ to speak of
        # Said as a build's stop: whether output/ survived is what the author wants to know.
        raise BuildFailed(failure.errors, failure.warnings) from None
    site, warnings = loaded.site, list(loaded.warnings)
    own = site.config.output_dir.resolve()
    # The default output/ too: it may be a link to the site itself.
    problem = output_error(own, root) if output is None else None
    if problem:
        raise BuildFailed([problem])
    output = (output or own).resolve()
    # 3. Every file the site is made of, as jobs.
    reads = body_reads(env)  # prepare's environment is make_environment's
    wanted = site.config.search
    search = wanted and search_available()
    jobs = site_jobs(site, env, Mailer(site, reads=reads), search=search)
    paths = _checked_paths(jobs)
    # 4. Render what changed, and write it.
    ran = run_jobs(
        root, jobs, output, fingerprint=render_fingerprint(site.config), digests=site_digests(site),
        reads=reads, own=output == own, progress=progress,
    )
    return BuildResult(
        site=site,
        pages=sum(1 for path in paths if path.endswith(".html") and not path.startswith("email/")),
        feeds=sum(1 for path in paths if path.endswith(tuple(kind.file for kind in FEED_FORMATS))),
        emails=sum(1 for path in paths if path.endswith(".eml")),
        files=OutputFiles(output, list(ran.sizes)),  # the search index's files too, named when it was written
        written=ran.written,
        rendered=ran.rendered,
        outputs=len(jobs),
        parsed=loaded.parsed.misses,
        sources=loaded.parsed.hits + loaded.parsed.misses,
        warnings=(*warnings, *ran.notices, *size_warnings(site, ran.sizes), *((not_indexed(),) if wanted and not search else ())),
        seconds=time.perf_counter() - started,
    )
