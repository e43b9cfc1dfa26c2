"""Same input, same bytes; a failed build keeps the last good output; lessons/ is never written."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from conftest import build_into
from lessonpress.cli import main


def snapshot(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    """Return every entry under `folder` with its bytes (None for folders) and mtime in ns."""
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes() if path.is_file() else None, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
    }


def contents(folder: Path) -> dict[str, bytes]:
    return {name: data for name, (data, _) in snapshot(folder).items() if data is not None}


def web_files(files: dict[str, bytes]) -> dict[str, bytes]:
    """Pages, feeds and static files: the output of the core build (emails are checked on their own)."""
    return {name: data for name, data in files.items() if not name.startswith("email/")}


def test_two_builds_are_byte_identical(basic: Path, tmp_path: Path) -> None:
    first = dict(build_into(basic).files)
    second = build_into(basic.rename(tmp_path / "moved"))
    assert web_files(first) == web_files(dict(second.files))
    assert web_files(contents(tmp_path / "moved" / "output")) == web_files(first)


def test_emails_are_byte_identical_too(basic: Path) -> None:
    first = build_into(basic).files
    assert {name: data for name, data in first.items() if name.endswith(".eml")} == {
        name: data for name, data in build_into(basic).files.items() if name.endswith(".eml")
    }


def test_rebuild_keeps_unchanged_files_as_they_were(basic: Path) -> None:
    build_into(basic)
    before = snapshot(basic / "output")
    build_into(basic)
    after = snapshot(basic / "output")
    names = web_files(contents(basic / "output"))
    assert {name: after[name] for name in names} == {name: before[name] for name in names}


def test_failed_build_leaves_previous_output_untouched(basic: Path) -> None:
    build_into(basic)
    before = snapshot(basic / "output")
    broken = basic / "lessons" / "retention" / "04-broken.md"
    broken.write_text("---\ntitle: Broken\ndate: someday\n---\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--site", str(basic), "build"])
    assert result.exit_code == 1
    assert "lessons/retention/04-broken.md:3: cannot read date 'someday'" in result.stderr
    assert snapshot(basic / "output") == before
    assert [path.name for path in basic.iterdir() if path.name.startswith(".output")] == [], "staging folder left behind"


def test_nothing_is_written_under_lessons(basic: Path) -> None:
    before = snapshot(basic / "lessons")
    build_into(basic, include_drafts=True, include_future=True)
    (basic / "lessons" / "retention" / "04-broken.md").write_text("", encoding="utf-8")
    before["retention/04-broken.md"] = snapshot(basic / "lessons")["retention/04-broken.md"]
    before["retention"] = snapshot(basic / "lessons")["retention"]
    CliRunner().invoke(main, ["--site", str(basic), "build"])
    assert snapshot(basic / "lessons") == before
