"""The parse cache: warm builds convert nothing, edits convert one lesson, bad caches are never trusted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import lessonpress.content.read
from conftest import build_into
from lessonpress.cli import main
from lessonpress.content.cache import DATABASE
from lessonpress.content.config import load_config
from lessonpress.content.read import read_sources
from lessonpress.store import CACHE_DIR

LESSON = Path("lessons/retention/02-first-days.md")
PAGE = Path("output/retention/first-days/index.html")


def sources(root: Path) -> int:
    return len(list((root / "lessons").glob("*/*.md")))


def stats(root: Path):
    """Read the site's sources through the cache and return what the cache did."""
    return read_sources(load_config(root)[0]).cache


def database(root: Path) -> Path:
    return root / CACHE_DIR / DATABASE


def web_output(root: Path) -> dict[str, bytes]:
    """Every built file except emails, whose MIME boundaries differ from build to build."""
    output = root / "output"
    return {
        path.relative_to(output).as_posix(): path.read_bytes()
        for path in sorted(output.rglob("*"))
        if path.is_file() and not path.relative_to(output).as_posix().startswith("email/")
    }


def never_convert(md: object, text: str) -> str:
    raise AssertionError("Markdown was converted although the cache holds this lesson")


def test_warm_build_converts_no_markdown(basic: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_into(basic)
    cold = web_output(basic)
    monkeypatch.setattr(lessonpress.content.read, "convert", never_convert)
    build_into(basic)
    assert web_output(basic) == cold
    assert stats(basic).misses == 0


def test_editing_one_lesson_converts_only_that_lesson(basic: Path) -> None:
    build_into(basic)
    lesson = basic / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nA sentence added -- after the first build.\n", encoding="utf-8")
    before = stats(basic)
    assert (before.misses, before.hits) == (1, sources(basic) - 1)
    build_into(basic)
    assert "A sentence added &ndash; after the first build." in (basic / PAGE).read_text(encoding="utf-8")


def test_cache_lives_in_the_site_folder_only(basic: Path) -> None:
    build_into(basic)
    assert database(basic).is_file()
    assert not list((basic / "lessons").rglob(".lessonpress")) and not list((basic / "output").rglob(".lessonpress"))
    assert not list((basic / "lessons").rglob("*.sqlite3*"))


def test_a_cache_that_is_not_a_database_is_replaced(basic: Path) -> None:
    build_into(basic)
    good = web_output(basic)
    for leftover in database(basic).parent.iterdir():
        leftover.unlink()
    database(basic).write_bytes(b"this is not SQLite, just garbage left by a full disk" * 100)
    result = CliRunner().invoke(main, ["--site", str(basic), "build"])
    assert result.exit_code == 0, result.output
    assert web_output(basic) == good
    assert stats(basic).misses == 0, "the replaced cache is filled again"


def test_a_corrupted_entry_is_parsed_again_not_trusted(basic: Path) -> None:
    build_into(basic)
    good = web_output(basic)
    with sqlite3.connect(database(basic)) as connection:
        key, value = connection.execute("SELECT key, value FROM entries ORDER BY key LIMIT 1").fetchone()
        # Same length, different bytes: what a torn write or a bad sector leaves.
        damaged = value.replace(b"<p>", b"<q>") if b"<p>" in value else bytes(255 - byte for byte in value)
        connection.execute("UPDATE entries SET value = ? WHERE key = ?", (damaged, key))
    found = stats(basic)
    assert (found.rejected, found.misses) == (1, 1)
    build_into(basic)
    assert web_output(basic) == good


def test_a_cache_of_another_format_is_dropped(basic: Path) -> None:
    build_into(basic)
    with sqlite3.connect(database(basic)) as connection:
        connection.execute("UPDATE meta SET format = 'lessonpress-parse-cache/0'")
    assert stats(basic).misses == sources(basic)
    assert stats(basic).misses == 0


def test_changing_a_setting_that_shapes_parsing_is_not_served_stale(basic: Path) -> None:
    build_into(basic)
    config = basic / "lessonpress.toml"
    assert 'datetime="2026-01-14T07:30:00-05:00"' in (basic / PAGE).read_text(encoding="utf-8")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('timezone = "America/New_York"', 'timezone = "Asia/Tokyo"'), encoding="utf-8")
    assert stats(basic).misses == sources(basic)
    build_into(basic)
    assert 'datetime="2026-01-14T07:30:00+09:00"' in (basic / PAGE).read_text(encoding="utf-8")


def test_errors_and_warnings_come_from_the_cache_too(basic: Path) -> None:
    (basic / "lessons" / "retention" / "04-broken.md").write_text("---\ntitle: Broken\ndate: someday\ncolour: red\n---\nBody.\n", encoding="utf-8")
    first = CliRunner().invoke(main, ["--site", str(basic), "build"])
    second = CliRunner().invoke(main, ["--site", str(basic), "build"])
    assert first.exit_code == second.exit_code == 1
    assert "lessons/retention/04-broken.md:3: cannot read date 'someday'" in second.stderr
    assert second.stderr == first.stderr
    assert stats(basic).misses == 0


def test_many_misses_parsed_in_a_pool_match_one_process(basic: Path) -> None:
    source = (basic / LESSON).read_bytes()
    files = [(f"lessons/retention/{number:02d}-copy-{number}.md", source + f"\nCopy {number}.\n".encode()) for number in range(1, 41)]
    files.append(("lessons/retention/_index.md", (basic / "lessons/retention/_index.md").read_bytes()))
    assert len(files) >= lessonpress.content.read.MIN_POOL_FILES
    pooled = lessonpress.content.read._parse_many(files, "UTC", "Which topic next?")
    assert pooled == lessonpress.content.read._parse_chunk(files, "UTC", "Which topic next?")
    assert [parsed[0].source for parsed in pooled] == [source for source, _ in files]
