"""Find the lesson a command names (a file or `series/slug`), and say how to name one in this site's own words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..errors import SourceError, Stopped
from .load import load_site
from .model import BuildOptions, Issue, Site


def find_issue(site: Site, root: Path, wanted: str) -> Issue | None:
    """The issue named by its file (from the working folder or the site folder) or by `series/slug`; None when none is."""
    as_path = Path(wanted)
    files = {(Path.cwd() / as_path).resolve(), (root / as_path).resolve()}
    name = wanted.strip("/")
    for issue in site.issues:
        if name == f"{issue.lesson.series}/{issue.lesson.slug}" or (root / issue.lesson.source).resolve() in files:
            return issue
    return None


def named_issue(
    site: Site, root: Path, wanted: str, now: datetime, *, unknown: str, draft: str, future: str, stop: Callable[[list[SourceError]], Stopped],
) -> Issue:
    """The published issue `wanted` names; else raise `stop` saying why: no such lesson, a draft or a lesson dated later (each with its fix)."""
    issue = find_issue(site, root, wanted)
    if issue is not None:
        return issue
    everything = load_site(root, BuildOptions(now=now, include_drafts=True, include_future=True)).site
    hidden = find_issue(everything, root, wanted)
    if hidden is None:
        raise stop([SourceError(wanted, 0, unknown)])
    if hidden.lesson.draft:
        raise stop([SourceError(hidden.lesson.source, 0, f"is a draft: {draft}")])
    raise stop([SourceError(hidden.lesson.source, 0, f"is dated {hidden.lesson.date.isoformat()}, in the future: {future}")])


def naming_hint(site: Site) -> str:
    """How to name a lesson, shown with one of this site's own (never the example site's)."""
    if not site.issues:
        return "give its file, lessons/SERIES/NN-slug.md, or SERIES/SLUG"
    lesson = site.issues[-1].lesson
    return f"give its file, like {lesson.source}, or SERIES/SLUG, like {lesson.series}/{lesson.slug}"
