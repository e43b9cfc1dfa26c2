"""`check`: everything the build validates, plus what an author wants to know before sending."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from .build import render
from .content.frontmatter import FrontMatterError, decode_source, split_front_matter
from .errors import SiteFailed, SourceError, plural
from .site.model import BuildOptions, Issue, Site

GOOD_POLL_OPTIONS = 3  # readers choose well from three to five topics


@dataclass(frozen=True, order=True)
class Finding:
    """One problem, as editors and CI want it."""

    path: str
    line: int
    severity: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        location = f"{self.path}:{self.line}" if self.line else self.path
        return f"{location}: {'warning: ' if self.severity == 'warning' else ''}{self.message}"


@dataclass(frozen=True)
class CheckReport:
    findings: tuple[Finding, ...]
    lessons: int | None  # None when errors stopped the build before lessons were placed
    seconds: float

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "error")

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors

    def as_json_list(self) -> list[dict[str, object]]:
        return [asdict(finding) for finding in self.findings]

    def summary(self) -> str:
        checked = "the site" if self.lessons is None else plural(self.lessons, "lesson")
        return f"Checked {checked}: {plural(self.errors, 'error')}, {plural(self.warnings, 'warning')} in {self.seconds:.2f} s"


def _key_lines(root: Path, source: str) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Lines of a lesson's front matter keys, for pointing at the right line."""
    try:
        front = split_front_matter(decode_source((root / source).read_bytes()))
    except (OSError, UnicodeDecodeError, FrontMatterError):
        return {}, {}
    return front.lines, front.nested_lines


def lesson_warnings(site: Site) -> list[SourceError]:
    """Warn about what makes a sent lesson weaker: bare recaps and teasers, thin polls."""
    root = site.config.root
    warnings: list[SourceError] = []
    issues: list[Issue] = [issue for series in site.series for issue in series.issues]
    for issue in issues:
        lesson = issue.lesson
        lines, nested = _key_lines(root, lesson.source)
        if not lesson.summary:
            warnings.append(SourceError(lesson.source, lines.get("summary", 1), "missing 'summary': the next lesson's recap will show only this title; add summary: \"…\" (one line: what the reader learned)"))
        if not lesson.teaser and issue.number > 1:
            warnings.append(SourceError(lesson.source, lines.get("teaser", 1), "missing 'teaser': the previous lesson's \"next time\" will show only this title; add teaser: \"…\""))
        if lesson.poll and len(lesson.poll.options) < GOOD_POLL_OPTIONS:
            line = nested.get("poll", {}).get("options", lines.get("poll", 1))
            count = len(lesson.poll.options)
            warnings.append(SourceError(lesson.source, line, f"the poll offers only {count} options: give readers {GOOD_POLL_OPTIONS} to 5 topics to choose from"))
    return warnings


def check_site(root: Path, now: datetime) -> CheckReport:
    """Validate the site as `build` does, drafts and scheduled lessons included, and add the author's checks."""
    started = time.perf_counter()
    options = BuildOptions(now=now, include_drafts=True, include_future=True)
    try:
        site, _, warnings = render(root, options)
    except SiteFailed as failure:
        findings = tuple(Finding(error.path, error.line, "error", error.message) for error in failure.errors)
        return CheckReport(tuple(sorted(findings)), None, time.perf_counter() - started)
    all_warnings = set(warnings) | set(lesson_warnings(site))
    findings = tuple(sorted(Finding(warning.path, warning.line, "warning", warning.message) for warning in all_warnings))
    return CheckReport(findings, len(site.issues), time.perf_counter() - started)
