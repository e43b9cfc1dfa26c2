"""The whole pipeline: read → assemble → render → write."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from jinja2 import Environment

from .content.config import SiteConfig
from .content.read import Sources, read_sources
from .errors import BuildFailed, SourceError
from .incremental.digest import SiteDigests, render_fingerprint, site_digests
from .incremental.jobs import Depends, Job, site_jobs
from .incremental.manifest import Manifest, Record, Written
from .incremental.write import Staging, WriteResult, check_paths, foreign_error, output_error, scan
from .progress import Counted, Progress, silent
from .render.emails import Mailer, size_warnings
from .render.feeds import FEED_FORMATS, feed_renderers
from .render.pages import Renderer, page_renderers
from .render.themes import BodyReads, make_environment, template_error, theme_errors
from .site.assemble import LinkResolver
from .site.backlog import Backlog, read_backlog
from .site.load import load_site
from .site.model import BuildOptions, Site
from .workers import fan_out, usable_cpus

# Below this many jobs to render, forking workers costs more than it saves.
MIN_FORK_JOBS = 64


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
    warnings: tuple[SourceError, ...]
    seconds: float

    def summary(self) -> str:
        lessons = len(self.site.issues)
        series = len(self.site.series)
        return (
            f"Built {lessons} lesson{'s' if lessons != 1 else ''} in {series} series: "
            f"{self.pages} pages, {self.feeds} feeds, {self.emails} emails in {self.seconds:.2f} s "
            f"({self.rendered} of {self.outputs} rendered, {self.written.written} files written)"
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
    """Load a site and give it its template environment; raise `BuildFailed` with every error found, the theme's included."""
    loaded = load_site(root, options, read=read, backlog=backlog, links=links)
    replace(loaded, errors=loaded.errors + tuple(theme_errors(loaded.site.config))).or_fail()
    return loaded.site, environment(loaded.site.config), list(loaded.warnings)


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
    files = {path: data for job in jobs for path, data in _run(root, job.render).items()}
    return site, files, warnings + size_warnings(site, {path: len(data) for path, data in files.items()})


def _run(root: Path, render: Callable[[], dict[str, bytes]]) -> dict[str, bytes]:
    """Render one job; a template's error becomes a `path:line: message`, not a traceback."""
    try:
        return render()
    except Exception as error:
        problem = template_error(root, error)
        if problem is None:
            raise
        raise BuildFailed([problem]) from None


def _key(job: Job, fingerprint: str, digests: SiteDigests, outside: bool) -> str:
    """Everything the job's files are made from, as one digest."""
    parts = [fingerprint, job.name, job.inputs]
    if job.depends is Depends.SITE or (job.depends is Depends.NAV and outside):
        parts.append(digests.full)
    elif job.depends is Depends.NAV:
        parts.append(digests.nav)
        if job.issue is not None:
            parts.append(digests.issues[job.issue.lesson.source])
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=20).hexdigest()


def _fresh(record: Record | None, key: str, existing: Mapping[str, tuple[int, int]]) -> bool:
    """Whether the last build's files of a job are still right: same key, and each file as it was written."""
    return record is not None and record.key == key and all(existing.get(path) == (size, mtime) for path, size, mtime in record.files)


@dataclass(frozen=True)
class _Done:
    """One job rendered into the staging folder."""

    files: tuple[Written, ...]
    outside: bool


def _renderer(root: Path, jobs: list[Job], staging: Staging, reads: BodyReads, existing: Mapping[str, tuple[int, int]]) -> Callable[[int], _Done]:
    """The function that renders job `index` into the staging folder, in this process or a forked worker."""

    def render_job(index: int) -> _Done:
        job = jobs[index]
        reads.begin(job.issue)
        files = tuple(staging.write(path, data, existing) for path, data in _run(root, job.render).items())
        return _Done(files, reads.outside)

    return render_job


def _render_stale(
    root: Path, jobs: list[Job], staging: Staging, reads: BodyReads, existing: Mapping[str, tuple[int, int]], progress: Progress
) -> list[_Done]:
    """Render the jobs over all cores when there are enough to pay for forking workers."""
    render_job = _renderer(root, jobs, staging, reads, existing)
    workers = min(usable_cpus(), len(jobs))
    # A forked child of a process with threads could inherit a held lock: threads mean render here.
    if workers < 2 or len(jobs) < MIN_FORK_JOBS or not hasattr(os, "fork") or threading.active_count() > 1:
        results = ((index, render_job(index)) for index in range(len(jobs)))
    else:
        results = fan_out(len(jobs), render_job, workers)
    done: list[_Done | None] = [None] * len(jobs)
    # Closed at once on any error or interrupt: fan_out's cleanup then stops the workers before the
    # caller removes the staging folder they write into.
    with closing(results):
        for index, result in progress(f"Rendering {len(jobs)} pages, feeds and emails", Counted(results, len(jobs))):
            done[index] = result
    finished = [result for result in done if result is not None]
    if len(finished) != len(jobs):  # records are paired with jobs by position: a gap would misplace them
        raise RuntimeError(f"{len(jobs) - len(finished)} of {len(jobs)} outputs were not rendered; run the build again")
    return finished


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
    # A folder given on the command line is checked before anything is read or cached.
    problem = output_error(output, root) if output is not None else None
    if problem:
        raise BuildFailed([problem])
    options = options or BuildOptions(now=datetime.now(UTC))
    site, env, warnings = prepare(root, options, read=partial(read_sources, progress=progress))
    # The default output/ too: it may be a link to the site itself.
    problem = output_error(site.config.output_dir, root) if output is None else None
    if problem:
        raise BuildFailed([problem])
    output = (output or site.config.output_dir).resolve()
    reads = env.reads
    jobs = site_jobs(site, env, Mailer(site, reads=reads))
    paths = _checked_paths(jobs)
    fingerprint, digests = render_fingerprint(site.config), site_digests(site)
    manifest = Manifest(root, output)
    try:
        records = manifest.load()
        existing = scan(output)
        # The site's own output/ is lessonpress's (as MkDocs' site/): any other folder is checked for files of others.
        if output != site.config.output_dir.resolve():
            problem = foreign_error(output, existing, {path for record in records.values() for path, _, _ in record.files})
            if problem:
                raise BuildFailed([problem])
        previous = [records.get(job.name) for job in jobs]
        stale = [
            index for index, (job, record) in enumerate(zip(jobs, previous))
            if not _fresh(record, _key(job, fingerprint, digests, record is not None and record.outside), existing)
        ]
        staging = Staging(output)
        try:
            done = _render_stale(root, [jobs[index] for index in stale], staging, reads, existing, progress)
        except BaseException:
            staging.discard()
            raise
        fresh = {jobs[index].name: Record(_key(jobs[index], fingerprint, digests, result.outside), result.outside, result.files) for index, result in zip(stale, done)}
        now = {job.name: fresh.get(job.name) or records[job.name] for job in jobs}
        written = staging.commit(paths, existing)
        manifest.save(now.items())
    finally:
        manifest.close()
    sizes = {path: size for record in now.values() for path, size, _ in record.files}
    warnings += size_warnings(site, sizes)
    return BuildResult(
        site=site,
        pages=sum(1 for path in paths if path.endswith(".html") and not path.startswith("email/")),
        feeds=sum(1 for path in paths if path.endswith(tuple(kind.file for kind in FEED_FORMATS))),
        emails=sum(1 for path in paths if path.endswith(".eml")),
        files=OutputFiles(output, paths),
        written=written,
        rendered=len(stale),
        outputs=len(jobs),
        warnings=tuple(warnings),
        seconds=time.perf_counter() - started,
    )
