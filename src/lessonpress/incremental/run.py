"""Run a build's jobs incrementally: decide which are stale, render those over all cores into a staging folder, then commit.

Everything a build needs to skip unchanged work lives here, so `build.build` reads as its stages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildFailed, SourceError
from ..progress import Counted, Progress
from ..render.themes import BodyReads, template_error
from ..workers import can_fork, fan_out, usable_cpus
from .digest import SiteDigests
from .jobs import Depends, Job
from .manifest import Manifest, Record, Written, file_digest
from .write import Staging, WriteResult, foreign_error, scan

# Below this many jobs to render, forking workers costs more than it saves.
MIN_FORK_JOBS = 64


def run_job(root: Path, render: Callable[[], dict[str, bytes]]) -> dict[str, bytes]:
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


def _same_bytes(output: Path, path: str, digest: bytes) -> bool:
    try:
        return file_digest((output / path).read_bytes()) == digest
    except OSError:  # gone or a folder since the scan
        return False


def _still_right(record: Record | None, key: str, existing: Mapping[str, tuple[int, int]], output: Path) -> Record | None:
    """The last build's record of a job if its files are still right (same key, each file as written), with their mtimes as found; else None.

    A file whose mtime is not the recorded one (a cache restored in CI, the output folder copied or
    checked out elsewhere) is read and its digest decides, so a restored cache is used, never trusted blindly.
    """
    if record is None or record.key != key:
        return None
    files = []
    for path, size, mtime, digest in record.files:
        found = existing.get(path)
        if found is None or found[0] != size:
            return None
        if found[1] != mtime:
            if not _same_bytes(output, path, digest):
                return None
            mtime = found[1]
        files.append((path, size, mtime, digest))
    return Record(record.key, record.outside, tuple(files))


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
        files = tuple(staging.write(path, data, existing) for path, data in run_job(root, job.render).items())
        return _Done(files, reads.outside)

    return render_job


def _render_stale(
    root: Path, jobs: list[Job], staging: Staging, reads: BodyReads, existing: Mapping[str, tuple[int, int]], progress: Progress
) -> list[_Done]:
    """Render the jobs over all cores when there are enough to pay for forking workers."""
    render_job = _renderer(root, jobs, staging, reads, existing)
    workers = min(usable_cpus(), len(jobs))
    if workers < 2 or len(jobs) < MIN_FORK_JOBS or not can_fork():
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


@dataclass(frozen=True)
class Ran:
    """What running a build's jobs did to the output folder."""

    written: WriteResult
    rendered: int  # jobs rendered; the others were unchanged since the last build
    sizes: dict[str, int]  # every output file's size, by path
    notices: tuple[SourceError, ...]  # the build record was found damaged and started again


def run_jobs(
    root: Path, jobs: list[Job], output: Path, *,
    fingerprint: str, digests: SiteDigests, reads: BodyReads, own: bool, progress: Progress,
) -> Ran:
    """Render the jobs whose files are missing or made from something else into `output`; keep the rest.

    `own`: the folder is the site's own output/; any other folder must hold only files an earlier
    build into it wrote, or nothing is written.
    """
    manifest = Manifest(root, output)
    try:
        records = manifest.load()
        existing = scan(output)
        problem = None if own else foreign_error(output, existing, {file[0] for record in records.values() for file in record.files})
        if problem:
            raise BuildFailed([problem], manifest.notices)
        previous = [records.get(job.name) for job in jobs]
        kept = {
            job.name: right for job, record in zip(jobs, previous)
            if (right := _still_right(record, _key(job, fingerprint, digests, record is not None and record.outside), existing, output)) is not None
        }
        stale = [index for index, job in enumerate(jobs) if job.name not in kept]
        staging = Staging(output)
        try:
            done = _render_stale(root, [jobs[index] for index in stale], staging, reads, existing, progress)
        except BaseException:
            staging.discard()
            raise
        fresh = {jobs[index].name: Record(_key(jobs[index], fingerprint, digests, result.outside), result.outside, result.files) for index, result in zip(stale, done)}
        now = {job.name: fresh.get(job.name) or kept[job.name] for job in jobs}
        # The files each job wrote: a job may write more than it declared (the search index names its files by their contents).
        written = staging.commit([file[0] for record in now.values() for file in record.files], existing)
        manifest.save(now.items())
    finally:
        manifest.close()
    return Ran(written, len(stale), {file[0]: file[1] for record in now.values() for file in record.files}, manifest.notices)
