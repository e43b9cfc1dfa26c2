"""`lessonpress check`, run through the real CLI on copies of the example site."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from lessonpress.cli import main
from test_tally import example_site

LESSON = "lessons/retention/02-the-first-ninety-days.md"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return example_site(tmp_path)


def check(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_example_site_passes(site: Path) -> None:
    code, output = check(site)
    assert code == 0
    assert re.search(r"^Checked 11 lessons: 0 errors, 0 warnings in [\d.]+ s$", output, re.MULTILINE)
    assert not (site / "output").exists()


def test_links_to_missing_lessons_and_images_are_errors(site: Path) -> None:
    lesson = site / LESSON
    edit(lesson, "(01-why-customers-leave.md)", "(01-why-customers-go.md)")
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n![The plan](ninety-days.png)\n", encoding="utf-8")
    code, output = check(site)
    assert code == 1
    assert f"{LESSON}:21: link to a missing lesson '01-why-customers-go.md': check the file name" in output
    assert re.search(rf"{re.escape(LESSON)}:\d+: link to a missing file 'ninety-days.png'", output)
    assert "Checked the site: 2 errors" in output


def test_a_link_to_a_sibling_lesson_becomes_its_url(site: Path) -> None:
    assert check(site)[0] == 0  # the example lessons link to each other with 01-….md
    (site / "lessons/retention/ninety-days.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    lesson = site / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n![The plan](ninety-days.png)\n", encoding="utf-8")
    assert check(site)[0] == 0


def test_missing_summary_teaser_and_a_thin_poll_are_warnings(site: Path) -> None:
    lesson = site / LESSON
    edit(lesson, 'summary: "how to plan the first ninety days so a new customer reaches a real result quickly"\n', "")
    edit(lesson, 'teaser: "the first ninety days, and the three milestones that decide whether a new customer stays for years."', 'teaser: ""')
    edit(lesson, '    - "Measuring time to first value"\n    - "The handover from sales to delivery"\n', "")
    code, output = check(site)
    assert code == 0
    assert f"{LESSON}:1: warning: missing 'summary': the next lesson's recap will show only this title" in output
    assert f"{LESSON}:4: warning: missing 'teaser'" in output
    assert f"{LESSON}:11: warning: the poll offers only 2 options: give readers 3 to 5 topics to choose from" in output
    assert "0 errors, 3 warnings" in output


def test_the_first_lesson_of_a_series_needs_no_teaser(site: Path) -> None:
    edit(site / "lessons/retention/01-why-customers-leave.md", "teaser:", "# teaser:")
    assert "0 warnings" in check(site)[1]


def test_emails_over_the_size_budget_are_reported(site: Path) -> None:
    edit(site / "lessonpress.toml", "[email]\n", "[email]\nsize_budget_kb = 1\n")
    code, output = check(site)
    assert code == 0
    assert re.search(rf"{re.escape(LESSON)}: warning: the email is \d+ KB, over the 1 KB budget", output)


def test_json_format_lists_every_finding_for_editors(site: Path) -> None:
    edit(site / LESSON, "(01-why-customers-leave.md)", "(01-nowhere.md)")
    edit(site / "lessons/retention/03-reading-churn-signals.md", "summary:", "# summary:")
    result = CliRunner().invoke(main, ["-C", str(site), "check", "--format", "json"])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)
    assert findings == [
        {"path": LESSON, "line": 21, "severity": "error", "message": "link to a missing lesson '01-nowhere.md': check the file name"},
    ]
    assert "Checked the site: 1 error, 0 warnings" in result.stderr


def test_json_format_warnings_have_lines(site: Path) -> None:
    edit(site / "lessons/retention/03-reading-churn-signals.md", "summary:", "# summary:")
    result = CliRunner().invoke(main, ["-C", str(site), "check", "--format", "json"])
    assert result.exit_code == 0
    assert [(item["path"], item["line"], item["severity"]) for item in json.loads(result.stdout)] == [
        ("lessons/retention/03-reading-churn-signals.md", 1, "warning"),
    ]


def test_a_broken_front_matter_is_an_error_with_its_line(site: Path) -> None:
    edit(site / LESSON, "date: 2026-01-14T07:30:00", "date: [unclosed")
    code, output = check(site)
    assert code == 1
    assert re.search(rf"^{re.escape(LESSON)}:\d+: malformed YAML", output, re.MULTILINE)
    assert "Traceback" not in output
