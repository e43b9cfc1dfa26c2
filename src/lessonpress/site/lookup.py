"""Find the lesson a command names (a file or `series/slug`), and say how to name one in this site's own words."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

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


def find_unpublished(root: Path, wanted: str, now: datetime) -> Issue | None:
    """The draft or scheduled lesson `wanted` names, to say why a command left it out; None when it names no lesson at all."""
    return find_issue(load_site(root, BuildOptions(now=now, include_drafts=True, include_future=True)).site, root, wanted)


def naming_hint(site: Site) -> str:
    """How to name a lesson, shown with one of this site's own (never the example site's)."""
    if not site.issues:
        return "give its file, lessons/SERIES/NN-slug.md, or SERIES/SLUG"
    lesson = site.issues[-1].lesson
    return f"give its file, like {lesson.source}, or SERIES/SLUG, like {lesson.series}/{lesson.slug}"
