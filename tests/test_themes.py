"""A site theme overrides templates by name and may extend the built-in default."""

from __future__ import annotations

from pathlib import Path

import lxml.html

from conftest import build_into, only, select, text


def use_theme(root: Path, templates: dict[str, str]) -> None:
    """Create themes/house/ with these files and switch the site to it."""
    for name, content in templates.items():
        target = root / "themes" / "house" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    config = root / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('timezone = "America/New_York"', 'timezone = "America/New_York"\ntheme = "house"'), encoding="utf-8")


def lesson_page(root: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((root / "output" / "retention" / "first-days" / "index.html").read_bytes())


def test_override_extending_the_default_changes_one_block(basic: Path) -> None:
    use_theme(basic, {"lesson.html": '{% extends "default/lesson.html" %}\n{% block title %}House: {{ issue.lesson.title }}{% endblock %}\n'})
    build_into(basic)
    lesson = lesson_page(basic)
    assert only(lesson, "title").text == "House: The First Days"
    assert text(only(lesson, "h1")) == "The First Days"
    assert select(lesson, ".recap") and select(lesson, ".teaser")


def test_overridden_partial_is_used_by_the_default_templates_and_feeds(basic: Path) -> None:
    use_theme(basic, {"partials/teaser.html": '{% if issue.next %}<p class="house-teaser">Coming up: {{ issue.next.teaser or issue.next.title }}</p>{% endif %}\n'})
    build_into(basic)
    assert text(only(lesson_page(basic), ".house-teaser")) == "Coming up: the renewal talk, step by step"
    assert not select(lesson_page(basic), ".teaser")
    assert b"house-teaser" in (basic / "output" / "feed.xml").read_bytes()


def test_theme_static_file_wins_and_default_ones_remain(basic: Path) -> None:
    use_theme(basic, {"static/style.css": "body { color: teal; }\n", "static/extra.js": "// extra\n"})
    build_into(basic)
    static = basic / "output" / "static"
    assert (static / "style.css").read_text() == "body { color: teal; }\n"
    assert (static / "extra.js").read_text() == "// extra\n"
