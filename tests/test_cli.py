"""`lessonpress build` through click: summary, warnings, flags and every kind of bad input."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import PROJECTS, copy_project
from lessonpress.cli import main

INVALID = PROJECTS / "invalid"
CASES = sorted(path.name for path in INVALID.iterdir() if path.is_dir())


def run_build(root: Path, *flags: str) -> Result:
    return CliRunner().invoke(main, ["--site", str(root), "build", *flags])


def invalid_site(case: str, destination: Path) -> Path:
    """Lay the broken files of one invalid case over a copy of the minimal site."""
    root = copy_project("minimal", destination)
    shutil.copytree(INVALID / case, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("expected.txt"))
    return root


def test_build_prints_a_summary_and_writes_output(basic: Path) -> None:
    result = run_build(basic)
    assert result.exit_code == 0, result.output
    assert re.match(r"Built 4 lessons in 2 series: 15 pages, 9 feeds\b", result.stdout)
    assert result.stderr == ""
    assert (basic / "output" / "retention" / "why-they-leave" / "index.html").is_file()


def test_drafts_and_future_flags(basic: Path) -> None:
    result = run_build(basic, "--drafts", "--future")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Built 6 lessons in 2 series: ")
    assert (basic / "output" / "good-habits" / "unfinished" / "index.html").is_file()
    assert (basic / "output" / "retention" / "renewals" / "index.html").is_file()


def test_output_option_writes_elsewhere(basic: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "public"
    assert run_build(basic, "--output", str(elsewhere)).exit_code == 0
    assert (elsewhere / "index.html").is_file()
    assert not (basic / "output").exists()


def test_unknown_front_matter_field_is_a_warning_with_a_suggestion(basic: Path) -> None:
    lesson = basic / "lessons" / "good-habits" / "03-final.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("tags: [habits]", "tgas: [habits]"), encoding="utf-8")
    result = run_build(basic)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "lessons/good-habits/03-final.md:6: warning: unknown front matter field 'tgas' is ignored (did you mean 'tags'?)",
    ]


def test_unknown_config_key_is_a_warning_with_a_suggestion(basic: Path) -> None:
    config = basic / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('timezone = "America/New_York"', 'timezone = "America/New_York"\nfeed_limt = 5'), encoding="utf-8")
    result = run_build(basic)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "lessonpress.toml:7: warning: unknown key 'feed_limt' in [site] is ignored (did you mean 'feed_limit'?)",
    ]


def test_missing_site_folder_is_a_clean_error(tmp_path: Path) -> None:
    result = run_build(tmp_path / "nowhere")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("lessonpress.toml: not found in ")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", CASES)
def test_invalid_site_reports_every_problem_and_fails(case: str, tmp_path: Path, update_golden: bool) -> None:
    root = invalid_site(case, tmp_path / case)
    result = run_build(root)
    expected_file = INVALID / case / "expected.txt"
    if update_golden:
        expected_file.write_text(result.stderr, encoding="utf-8")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), "a traceback instead of a clean error"
    assert result.stdout == ""
    assert result.stderr.splitlines() == expected_file.read_text(encoding="utf-8").splitlines()
    assert not (root / "output").exists()
