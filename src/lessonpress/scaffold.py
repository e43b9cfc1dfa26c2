"""Create a new site (`init`) and the next lesson of a series (`new`); never overwrite a file."""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path

from .content.config import CONFIG_NAME, load_config
from .content.lesson import SLUG_PATTERN
from .content.read import INDEX_FILE, LESSON_FILE, RESERVED_SERIES
from .errors import SiteFailed, SourceError, Stopped
from .site.model import slugify
from .translations import load_translations

FIRST_SERIES = "first-course"
# A slug names a file and a URL folder: file names stop at 255 bytes, and a long URL is read by no one.
MAX_SLUG = 60
THEME_README = "themes/default/README.md"

_CONFIG = """\
# lessonpress site settings. `lessonpress serve` previews the site; `lessonpress build` writes output/.

[site]
title = {title}
url = "https://example.org"  # where the site will live; feeds and emails use it for links
description = {description}
language = {language}  # the theme's words, dates and quotes; see "Languages" in the README
timezone = "UTC"  # e.g. "Europe/London"; dates without a time zone are read in this one
theme = "default"  # templates in themes/default/ override the built-in ones by name
greeting = {greeting}
reply_prompt = {reply_prompt}

[author]
name = {author}
email = "you@example.org"

[email]
from = "Your Name <you@example.org>"
reply_to = "you@example.org"
unsubscribe_url = "https://example.org/unsubscribe"
"""

_SERIES_INDEX = """\
---
title: {title}
description: {description}
cadence: "7d"
---
{intro}
"""

_FIRST_LESSON = """\
---
title: {title}
date: {today}
summary: {summary}
teaser: {teaser}
tags: [{tag}]
---
{welcome}

## {heading}

{advice}

Q: {question}
"""

_THEME_README = """\
Templates here override the built-in theme by name: copy only the one you want to change,
e.g. `lesson.html`, and start it with `{% extends "default/lesson.html" %}` to reuse the rest.
Files under `static/` here are copied to the site's `static/` folder.
"""

_NEW_LESSON = """\
---
title: {title}
date: {today}
summary: ""  # what the reader learned, in one line; the next lesson's recap uses it
teaser: ""  # what this lesson offers, in one line; the previous lesson's "next time" uses it
tags: []
draft: true  # shown by `lessonpress serve`; delete this line to publish
# reply_prompt: "What is one thing in this lesson you will try this week?"
# poll:
#   question: "Which of these should a future lesson cover?"
#   options:
#     - "First topic"
#     - "Second topic"
#     - "Third topic"
#   write_in: true
---
Write the lesson here.

Q: A question for the reader to answer about their own work.
"""


class ScaffoldRefused(Stopped):
    """`init` or `new` would overwrite or guess."""

    def __init__(self, errors: list[SourceError]) -> None:
        super().__init__(errors, "nothing was written")


def _yaml_text(value: str) -> str:
    """Quote text for YAML (JSON strings are valid YAML double-quoted scalars)."""
    return json.dumps(value, ensure_ascii=False)


def _series_index(title: str, gettext: Callable[[str], str]) -> str:
    """A new series' `_index.md`, its placeholder text in the site's language."""
    _ = gettext
    return _SERIES_INDEX.format(
        title=_yaml_text(title),
        description=_yaml_text(_("What this series teaches, in one sentence.")),
        intro=_("A few lines introducing the series. They appear on the series page."),
    )


def _site_language(root: Path) -> str:
    """The site's `[site] language`, English when its settings cannot be read (`new` reports those itself)."""
    try:
        return load_config(root)[0].language
    except SiteFailed:
        return "en"


def init_site(target: Path, today: date, title: str = "", language: str = "en") -> list[Path]:
    """Create a ready-to-serve site in `target`, its starter text in `language`; refuse if any file it would write exists."""
    # The starter text is in the theme's catalogs, so a language added there starts its sites in it too.
    _ = load_translations(target, language).gettext
    # JSON strings are valid TOML basic strings and YAML double-quoted scalars alike.
    config = _CONFIG.format(
        title=_yaml_text(title or target.resolve().name.replace("-", " ").title() or "My Lessons"),
        description=_yaml_text(_("Short lessons, one at a time.")),
        language=_yaml_text(language),
        greeting=_yaml_text(_("Hello!")),
        reply_prompt=_yaml_text(_("What is one thing in this lesson you will try this week?")),
        author=_yaml_text(_("Your Name")),
    )
    series = _series_index(_("My First Course"), _)
    welcome = lesson_slug(_("Welcome")) or "welcome"
    lesson = _FIRST_LESSON.format(
        title=_yaml_text(_("Welcome")),
        today=today.isoformat(),
        summary=_yaml_text(_("what this course covers and how to get the most from it")),
        teaser=_yaml_text(_("what this course covers, one short lesson at a time.")),
        tag=welcome,
        welcome=_("Welcome to the first lesson. Write in Markdown: headings, lists, *emphasis* and links."),
        heading=_("One idea per lesson"),
        advice=_("Keep each lesson to one idea the reader can try this week."),
        question=_("What would you like to be able to do by the end of this course?"),
    )
    files = {
        CONFIG_NAME: config,
        f"lessons/{FIRST_SERIES}/{INDEX_FILE}": series,
        f"lessons/{FIRST_SERIES}/01-{welcome}.md": lesson,
        THEME_README: _THEME_README,
        ".gitignore": "output/\n.lessonpress/\n",
    }
    existing = [name for name in files if (target / name).exists()]
    if existing:
        raise ScaffoldRefused([SourceError(name, 0, "already exists; lessonpress init never overwrites: pick an empty folder") for name in existing])
    created = []
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
        created.append(path)
    return created


def lesson_slug(title: str) -> str:
    """Return the file slug for a title: accents dropped, lowercase words joined by hyphens, cut after a whole word."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = slugify(ascii_title) if re.search(r"[A-Za-z0-9]", ascii_title) else ""
    if len(slug) <= MAX_SLUG:
        return slug
    cut = slug[: MAX_SLUG + 1].rsplit("-", 1)[0]
    return cut if "-" in slug[: MAX_SLUG + 1] else slug[:MAX_SLUG]


def _existing_series(root: Path) -> list[str]:
    lessons = root / "lessons"
    return sorted(path.name for path in lessons.iterdir() if path.is_dir() and not path.name.startswith(".")) if lessons.is_dir() else []


def series_exists(root: Path, series: str) -> bool:
    """Whether `lessons/<series>/` is there (`new` offers to start a series that is not)."""
    return series in _existing_series(root)


def _start_series(root: Path, series: str) -> Path:
    """Create `lessons/<series>/` with an `_index.md` whose title comes from the folder name."""
    folder = root / "lessons" / series
    folder.mkdir(parents=True)
    with (folder / INDEX_FILE).open("x", encoding="utf-8") as handle:
        handle.write(_series_index(series.replace("-", " ").title(), load_translations(root, _site_language(root)).gettext))
    return folder


def _series_folder(root: Path, series: str, start: bool) -> Path:
    lessons = root / "lessons"
    existing = _existing_series(root)
    if not series:
        if len(existing) == 1:
            return lessons / existing[0]
        choices = ", ".join(existing) or "none yet"
        raise ScaffoldRefused([SourceError("lessons", 0, f"say which series with --series (existing: {choices})")])
    if series not in existing:
        close = difflib.get_close_matches(series, existing, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        if series in RESERVED_SERIES or not SLUG_PATTERN.fullmatch(series):
            raise ScaffoldRefused([SourceError("lessons", 0, f"'{series}' cannot be a series: use lowercase letters, digits and hyphens, not one of {', '.join(sorted(RESERVED_SERIES))}")])
        if not start:
            raise ScaffoldRefused([SourceError(f"lessons/{series}", 0, f"series not found: {hint}to start a new series, run the same command with --new-series")])
        return _start_series(root, series)
    return lessons / series


def new_lesson(root: Path, title: str, series: str, today: date, *, start_series: bool = False) -> Path:
    """Create the next-numbered lesson file of a series (starting the series if asked) and return its path; never overwrite."""
    title = " ".join(title.split())
    slug = lesson_slug(title)
    if not slug:
        raise ScaffoldRefused([SourceError("lessons", 0, "the title needs at least one letter or digit for the file name")])
    folder = _series_folder(root, series, start_series)
    numbered = [(match.group(1), match.group(2)) for match in (LESSON_FILE.match(path.name) for path in folder.iterdir()) if match]
    for _, existing_slug in numbered:
        if existing_slug == slug:
            raise ScaffoldRefused([SourceError(f"lessons/{folder.name}", 0, f"a lesson '{slug}' already exists in this series: choose another title")])
    width = max([2] + [len(number) for number, _ in numbered])
    order = max([0] + [int(number) for number, _ in numbered]) + 1
    path = folder / f"{order:0{width}d}-{slug}.md"
    with path.open("x", encoding="utf-8") as handle:  # "x": a file that appeared meanwhile is never overwritten
        handle.write(_NEW_LESSON.format(title=_yaml_text(title), today=today.isoformat()))
    return path
