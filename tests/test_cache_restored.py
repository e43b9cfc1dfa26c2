"""A `.lessonpress/` cache carried to another folder or machine (a CI cache, a fresh checkout) is used, and never gives other bytes."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import lessonpress.content.read
from conftest import copy_project
from lessonpress.cli import main

LESSON = Path("lessons/retention/02-first-days.md")
# A checkout or cache restore an hour later: every file gets a new mtime.
LATER = 3600 * 10**9
SUMMARY = re.compile(r"\((\d+) of \d+ rendered, (\d+) files? written\); (\d+) of (\d+) sources parsed(?: \(the rest cached\))?")


def files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def touch_everything(root: Path) -> None:
    """Give every file under `root` a new mtime, as `git clone` or a cache restore does."""
    for path in root.rglob("*"):
        if path.is_file():
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns + LATER, stat.st_mtime_ns + LATER))


def build(root: Path) -> tuple[int, int, int, int]:
    """Build `root` with the CLI; return what its summary line counts: outputs rendered, files written, sources parsed, sources."""
    result = CliRunner().invoke(main, ["--site", str(root), "build"])
    assert result.exit_code == 0, result.output
    found = SUMMARY.search(result.stdout)
    assert found, result.stdout
    rendered, written, parsed, sources = map(int, found.groups())
    return rendered, written, parsed, sources


def never_convert(md: object, text: str) -> str:
    raise AssertionError("Markdown was converted although the restored cache holds this lesson")


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """The basic site built once in one folder, its cache in `.lessonpress/`."""
    root = copy_project("basic", tmp_path / "first-checkout")
    build(root)
    return root


def cold_build(source: Path, target: Path) -> dict[str, bytes]:
    """The output of a build of `source`'s lessons with no cache and no output, in `target`."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".lessonpress", "output"))
    build(target)
    return files(target / "output")


def test_cache_restored_elsewhere_without_output_parses_nothing(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # CI: a fresh checkout at another path, with .lessonpress/ restored from the cache and no output/.
    ci = tmp_path / "runner" / "work" / "site"
    shutil.copytree(built, ci, ignore=shutil.ignore_patterns("output"))
    touch_everything(ci)
    monkeypatch.setattr(lessonpress.content.read, "convert", never_convert)
    _, _, parsed, sources = build(ci)
    assert (parsed, sources) == (0, 7)
    monkeypatch.undo()
    assert files(ci / "output") == cold_build(built, tmp_path / "cold")


def test_cache_and_output_restored_elsewhere_render_nothing(built: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "site"
    shutil.copytree(built, moved)
    touch_everything(moved)
    assert build(moved) == (0, 0, 0, 7)
    assert files(moved / "output") == cold_build(built, tmp_path / "cold")
    # The new mtimes are recorded, and the next build keeps everything too.
    assert build(moved) == (0, 0, 0, 7)


def test_restored_output_edited_by_hand_is_rendered_again(built: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    shutil.copytree(built, moved)
    page = moved / "output" / "retention" / "first-days" / "index.html"
    original = page.read_bytes()
    page.write_bytes(original.replace(b"<", b"[", 1))  # same size, other bytes
    touch_everything(moved)
    assert build(moved)[:2] == (1, 1)
    assert page.read_bytes() == original


def test_restored_cache_with_an_edited_lesson_matches_a_cold_build(built: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    shutil.copytree(built, moved)
    lesson = moved / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nA line written on the other machine.\n", encoding="utf-8")
    touch_everything(moved)
    assert build(moved)[2:] == (1, 7)
    assert "A line written on the other machine." in (moved / "output" / "retention" / "first-days" / "index.html").read_text(encoding="utf-8")
    assert files(moved / "output") == cold_build(moved, tmp_path / "cold")
