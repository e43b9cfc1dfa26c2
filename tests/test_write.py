"""Writing the output: exactly the built files, unchanged ones untouched, nothing outside the folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import build_into
from lessonpress.cli import main
from lessonpress.incremental.write import Staging, WriteResult, check_paths, scan


def tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def write_tree(files: dict[str, bytes], output: Path) -> WriteResult:
    """Write `files` as the build does: stage what differs from the output, then commit."""
    existing = scan(output)
    staging = Staging(output)
    for path, data in files.items():
        staging.write(path, data, existing)
    return staging.commit(list(files), existing)


def identity(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_ino, status.st_mtime_ns


def test_output_holds_exactly_the_built_files(tmp_path: Path) -> None:
    output = tmp_path / "out"
    write_tree({"index.html": b"home", "a/index.html": b"a", "a/b/c.txt": b"c", "old/x.html": b"x"}, output)
    (output / "stray.txt").write_bytes(b"left by hand")
    result = write_tree({"index.html": b"home", "a/index.html": b"A", "new.html": b"n"}, output)
    assert tree(output) == {"index.html": b"home", "a/index.html": b"A", "new.html": b"n"}
    assert (result.written, result.unchanged, result.removed) == (2, 1, 3)
    assert not (output / "old").exists() and not (output / "a" / "b").exists(), "emptied folders are removed"


def test_unchanged_files_keep_inode_and_mtime_changed_ones_do_not(tmp_path: Path) -> None:
    output = tmp_path / "out"
    write_tree({"same.html": b"same bytes", "grows.html": b"short", "edited.html": b"abc"}, output)
    before = {name: identity(output / name) for name in ("same.html", "grows.html", "edited.html")}
    write_tree({"same.html": b"same bytes", "grows.html": b"much longer now", "edited.html": b"abd"}, output)
    assert identity(output / "same.html") == before["same.html"]
    assert identity(output / "grows.html") != before["grows.html"]
    assert identity(output / "edited.html") != before["edited.html"], "same size, different bytes is still a change"
    assert (output / "edited.html").read_bytes() == b"abd"


def test_a_build_whose_template_fails_leaves_the_previous_output_whole(basic: Path) -> None:
    build_into(basic)
    before = tree(basic / "output")
    theme = basic / "themes" / "broken"
    theme.mkdir(parents=True)
    (theme / "lesson.html").write_text('{% extends "default/lesson.html" %}\n{% block title %}{{ issue.no_such_field }}{% endblock %}\n', encoding="utf-8")
    config = basic / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('title =', 'theme = "broken"\ntitle =', 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["--site", str(basic), "build"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "template error" in result.stderr and "no_such_field" in result.stderr
    assert tree(basic / "output") == before
    assert sorted(path.name for path in basic.iterdir()) == sorted({".lessonpress", "lessonpress.toml", "lessons", "output", "themes"}), "no staging folder is left behind"


def test_a_file_can_become_a_folder_between_builds(tmp_path: Path) -> None:
    output = tmp_path / "out"
    write_tree({"about": b"a file"}, output)
    write_tree({"about/index.html": b"now a page"}, output)
    assert tree(output) == {"about/index.html": b"now a page"}
    write_tree({"about": b"a file again"}, output)
    assert tree(output) == {"about": b"a file again"}


def test_a_lesson_file_with_the_path_of_a_page_is_refused(basic: Path) -> None:
    (basic / "lessons" / "retention" / "why-they-leave").mkdir()
    (basic / "lessons" / "retention" / "why-they-leave" / "index.html").write_text("<p>a page by hand</p>", encoding="utf-8")
    result = CliRunner().invoke(main, ["--site", str(basic), "build"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "output: refusing to write 'retention/why-they-leave/index.html' twice" in result.stderr
    assert not (basic / "output").exists()


def test_paths_that_escape_or_collide_are_refused() -> None:
    errors = check_paths(["ok/index.html", "../outside.html", "/etc/passwd", "a\\b.html", "tags", "tags/index.html"])
    messages = [str(error) for error in errors]
    assert [message.split("'")[1] for message in messages] == ["../outside.html", "/etc/passwd", "a\\b.html", "tags"]
    assert "leave the output folder" in messages[0] and "needs it to be a folder" in messages[3]
    assert all(message.startswith("output: refusing to write") for message in messages)


def test_rebuild_after_one_edit_rewrites_few_files(basic: Path) -> None:
    first = build_into(basic)
    assert first.written.unchanged == 0
    unchanged_page = basic / "output" / "good-habits" / "small-steps" / "index.html"
    before = identity(unchanged_page)
    lesson = basic / "lessons" / "retention" / "01-why-they-leave.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    second = build_into(basic)
    assert "One more line." in (basic / "output" / "retention" / "why-they-leave" / "index.html").read_text(encoding="utf-8")
    assert identity(unchanged_page) == before
    assert second.written.unchanged > second.written.written
    assert sorted(path.name for path in basic.iterdir()) == sorted({".lessonpress", "lessonpress.toml", "lessons", "output"})


@pytest.mark.parametrize("target", [".", "..", "lessons/retention", ".lessonpress"])
def test_an_output_folder_holding_the_sources_is_refused(basic: Path, target: str) -> None:
    before = tree(basic)
    result = CliRunner().invoke(main, ["--site", str(basic), "build", "--output", str(basic / target)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "output: refusing to write into" in result.stderr and "choose a folder outside lessons/" in result.stderr
    assert tree(basic) == before, "nothing was written or removed"


@pytest.mark.parametrize("target", [".", "lessons", "data"])
def test_a_default_output_that_links_into_the_site_is_refused(basic: Path, target: str) -> None:
    (basic / "data").mkdir(exist_ok=True)
    (basic / "output").symlink_to(basic / target, target_is_directory=True)
    before = {path for path in tree(basic) if not path.startswith(".lessonpress/")}
    result = CliRunner().invoke(main, ["--site", str(basic), "build"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "output: refusing to write into" in result.stderr
    assert before <= set(tree(basic)), "no file of the site was removed"


def test_a_clean_build_leaves_output_readable_by_others(basic: Path) -> None:
    umask = os.umask(0o022)
    try:
        build_into(basic)
    finally:
        os.umask(umask)
    assert stat.S_IMODE((basic / "output").stat().st_mode) == 0o755, "output/ gets the umask's mode, not a private 0700"
