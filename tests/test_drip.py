"""Email courses: moving the clock over weeks, each subscriber gets the next due lesson, once."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from lessonpress.cli import main
from test_send_support import (
    SECRET,
    Recorder,
    make_site,
    run_send,
    smtp_server,
    write_list,
)

COURSE = [f"retention/{slug}" for slug in (
    "why-customers-leave", "the-first-ninety-days", "reading-churn-signals",
    "complaints-are-a-second-chance", "the-account-review", "the-renewal-conversation",
)]


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T06:00:00").replace(tzinfo=UTC)


def test_a_course_drips_over_several_weeks(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", [
        "ana@example.org,Ana,2026-03-02,",
        "ben@example.org,Ben,2026-03-05,",
        "cat@example.org,Cat,2026-03-02,unsubscribed",
        "dan@example.org,Dan,,",
    ])
    handler = Recorder()
    got: dict[str, list[str]] = defaultdict(list)
    subject_to_lesson = {}

    def run(day: str, **options: object) -> tuple[str, ...]:
        """Run the daily job on `day`; return 'who:lesson-number' for what arrived."""
        start = len(handler.messages)
        report = run_send(root, listed, settings, lesson="", course="retention", now=at(day), **options)
        arrived = []
        for rcpts, message in handler.messages[start:]:
            lesson = subject_to_lesson.setdefault(message["Subject"], len(subject_to_lesson) + 1)
            got[rcpts[0]].append(message["Subject"])
            arrived.append(f"{rcpts[0][:3]}:{lesson}")
        assert not report.failed and not report.uncertain
        assert [str(warning) for warning in report.warnings] == [f"{listed}:5: dan@example.org has no subscribed_at: a course needs the date they subscribed; row skipped"]
        return tuple(sorted(arrived))

    with smtp_server(handler) as settings:
        assert run("2026-03-02") == ("ana:1",)  # lesson 1 on the day Ana subscribes
        assert run("2026-03-02") == ()  # cron ran twice: the ledger makes it idempotent
        assert run("2026-03-06") == ("ben:1",)
        assert run("2026-03-09") == ("ana:2",)  # one cadence (7d) later
        assert run("2026-04-20") == ("ana:3", "ben:2")  # long gap: at most one lesson a run...
        assert run("2026-04-21", catch_up=True) == ("ana:4", "ana:5", "ben:3", "ben:4", "ben:5")  # ...unless --catch-up
        assert run("2027-03-03", catch_up=True) == ()  # lesson 6 is dated 2027-03-03 07:30: the course waits for it
        assert run("2027-03-04") == ("ana:6", "ben:6")
        assert run("2027-05-01", catch_up=True) == ()  # finished

    assert got["ana@example.org"] == got["ben@example.org"] and len(got["ana@example.org"]) == 6
    assert [subject.removeprefix("[Retention] ") for subject in got["ana@example.org"]][:2] == ["Why Customers Really Leave", "The First Ninety Days"]
    assert "cat@example.org" not in got


def test_dry_run_shows_who_gets_what_today(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    listed = write_list(tmp_path / "list.csv", ["ana@example.org,Ana,2026-03-02,", "ben@example.org,Ben,2026-03-05,"])
    result = CliRunner().invoke(
        main,
        ["-C", str(root), "send", "--course", "retention", "--list", str(listed), "--dry-run", "--now", "2026-03-10T06:00:00+00:00", "--catch-up"],
        env={"LESSONPRESS_SECRET": SECRET, "LESSONPRESS_SMTP_URL": "smtp://127.0.0.1:9"},
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("would send")]
    assert lines == [
        f"would send {COURSE[0]} to ana@example.org",
        f"would send {COURSE[1]} to ana@example.org",
        f"would send {COURSE[0]} to ben@example.org",
    ]
    assert "Dry run for course retention: would send 3, skipped 0, failed 0, uncertain 0 in" in result.output
