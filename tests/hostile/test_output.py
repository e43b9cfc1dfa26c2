"""Hostile output folders and paths: nothing lessonpress did not write is lost, nothing outside the site is published, nothing hangs."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import minimal_site, run_cli, snapshot


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return minimal_site(tmp_path)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the site, holding a file that is not the site's."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.txt").write_text("host file: must never be published\n")
    return folder


def built(site: Path) -> dict[str, str]:
    """Build once so output/ exists, and return it as it is."""
    run = run_cli(site, "build")
    assert run.status == 0, run.said
    return snapshot(site / "output")


def refused(site: Path, before: dict[str, str], *said: str, command: tuple[str, ...] = ("build",)) -> str:
    """The command fails naming each expected text; output/ is left as it was and nothing from outside is in it."""
    run = run_cli(site, *command)
    assert run.status == 1, run.said
    for text in said:
        assert text in run.said, run.said  # `check` reports on stdout, `build` on stderr
    assert snapshot(site / "output") == before
    return run.said


# --- build -o: a folder with files of others is never emptied -----------------------------------

def test_a_folder_holding_other_files_is_refused_and_kept(site: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    (home / "Documents" / "taxes.pdf").write_bytes(b"%PDF precious")
    (home / ".bashrc").write_text("alias ll='ls -l'\n")
    before = snapshot(home)
    run = run_cli(site, "build", "-o", str(home))
    assert run.status == 1
    assert f"refusing to write into {home}: it holds 2 files lessonpress did not write (.bashrc, Documents/taxes.pdf)" in run.stderr
    assert snapshot(home) == before


def test_a_new_or_empty_folder_is_built_and_rebuilt(site: Path, tmp_path: Path) -> None:
    for folder in (tmp_path / "new", tmp_path / "empty"):
        if folder.name == "empty":
            folder.mkdir()
        assert run_cli(site, "build", "-o", str(folder)).status == 0
        first = snapshot(folder)
        assert "course/first/index.html" in first
        again = run_cli(site, "build", "-o", str(folder))
        assert again.status == 0, again.said
        assert snapshot(folder) == first


def test_a_file_added_to_an_earlier_build_stops_the_next(site: Path, tmp_path: Path) -> None:
    folder = tmp_path / "public"
    assert run_cli(site, "build", "-o", str(folder)).status == 0
    (folder / "CNAME").write_text("lessons.example.org\n")
    before = snapshot(folder)
    run = run_cli(site, "build", "-o", str(folder))
    assert run.status == 1
    assert "it holds 1 file lessonpress did not write (CNAME)" in run.stderr
    assert snapshot(folder) == before


def test_an_earlier_build_whose_record_is_gone_is_refused_with_the_way_out(site: Path, tmp_path: Path) -> None:
    folder = tmp_path / "public"
    assert run_cli(site, "build", "-o", str(folder)).status == 0
    shutil.rmtree(site / ".lessonpress")
    before = snapshot(folder)
    run = run_cli(site, "build", "-o", str(folder))
    assert run.status == 1
    assert "delete the folder and build again" in run.stderr
    assert snapshot(folder) == before
    shutil.rmtree(folder)
    assert run_cli(site, "build", "-o", str(folder)).status == 0


def test_the_sites_own_output_folder_is_lessonpress_s(site: Path) -> None:
    built(site)
    (site / "output" / "stray.html").write_text("left by hand\n")
    run = run_cli(site, "build")
    assert run.status == 0, run.said
    assert not (site / "output" / "stray.html").exists()


@pytest.mark.parametrize("target", ["lessons", "lessons/course", "data", "themes", ".lessonpress", ".", ".."])
def test_a_folder_of_the_site_is_refused(site: Path, target: str) -> None:
    (site / "data").mkdir()
    (site / "themes").mkdir()
    (site / ".lessonpress").mkdir()
    before = snapshot(site.parent)
    run = run_cli(site, "build", "-o", str(site / target))
    assert run.status == 1
    assert "refusing to write into" in run.stderr
    assert snapshot(site.parent) == before


def test_a_file_as_output_folder_is_refused(site: Path, tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine\n")
    run = run_cli(site, "build", "-o", str(target))
    assert run.status != 0
    assert target.read_text() == "mine\n"
    assert "Traceback" not in run.said


# --- email -o: one file, never into the site, never over a file without --force ------------------

EMAIL = ("email", "course/first", "--format", "txt")


@pytest.mark.parametrize("target", ["lessons/course/01-first.md", "lessons/course/new.eml", "data/x.eml", "themes/x.eml", ".lessonpress/x.eml"])
def test_email_never_writes_into_the_sites_folders(site: Path, target: str) -> None:
    for folder in ("data", "themes", ".lessonpress"):
        (site / folder).mkdir(exist_ok=True)
    before = snapshot(site)
    run = run_cli(site, *EMAIL, "-o", str(site / target))
    assert run.status == 1
    assert f"{site / target}: refusing to write into the site's own folders" in run.stderr
    assert snapshot(site) == before


def test_email_keeps_an_existing_file_unless_forced(site: Path, tmp_path: Path) -> None:
    target = tmp_path / "issue.txt"
    target.write_text("my notes\n")
    run = run_cli(site, *EMAIL, "-o", str(target))
    assert run.status == 1
    assert f"{target}: already exists: pass --force to replace it" in run.stderr
    assert target.read_text() == "my notes\n"
    forced = run_cli(site, *EMAIL, "-o", str(target), "--force")
    assert forced.status == 0, forced.said
    assert "Hello." in target.read_text()


def test_email_writes_a_new_file_readable_like_any_other(site: Path, tmp_path: Path) -> None:
    target = tmp_path / "issue.txt"
    run = run_cli(site, *EMAIL, "-o", str(target))
    assert run.status == 0, run.said
    assert "Hello." in target.read_text()
    assert target.stat().st_mode & 0o044 == 0o044 & ~_umask()  # like a file made by `>`, not mkstemp's 0600
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".issue")] == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_email_refuses_a_link_a_fifo_and_a_missing_folder(site: Path, tmp_path: Path, outside: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(outside / "secret.txt")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    for target in (link, fifo):
        run = run_cli(site, *EMAIL, "-o", str(target), "--force")
        assert run.status == 1
        assert "not a plain file" in run.stderr
    assert (outside / "secret.txt").read_text() == "host file: must never be published\n"
    missing = run_cli(site, *EMAIL, "-o", str(tmp_path / "no" / "such" / "x.txt"))
    assert missing.status == 1
    assert "does not exist: create it first" in missing.stderr


# --- content stays inside the site --------------------------------------------------------------

def _link(target: Path) -> Callable[[Path], None]:
    return lambda path: path.symlink_to(target)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays


# (id, where under the site, how it is made, the message the author sees)
CONTENT_CASES: list[tuple[str, str, Callable[[Path], None] | str, str]] = [
    ("lesson-linked-out", "lessons/course/02-second.md", "outside-lesson", "is a link to {outside}/lesson.md, outside the site: copy the file into the site instead"),
    ("asset-linked-to-passwd", "lessons/course/passwd.txt", _link(Path("/etc/passwd")), "is a link to /etc/passwd, outside the site"),
    ("asset-linked-to-dev-zero", "lessons/course/zero.bin", _link(Path("/dev/zero")), "is a link to /dev/zero, outside the site"),
    ("dangling-lesson-link", "lessons/course/02-second.md", _link(Path("gone.md")), "is a link to 'gone.md', which does not exist: restore the file or remove the link"),
    ("fifo-named-like-a-lesson", "lessons/course/02-second.md", _fifo, "is a FIFO (named pipe), not a plain file: remove it"),
    ("fifo-asset", "lessons/course/chart.png", _fifo, "is a FIFO (named pipe), not a plain file: remove it"),
    ("socket-asset", "lessons/course/s.sock", _socket, "is a socket, not a plain file: remove it"),
    ("series-folder-linked-out", "lessons/other", "outside-folder", "is a link to {outside}, outside the site"),
    ("theme-static-linked-to-passwd", "themes/default/static/passwd.css", _link(Path("/etc/passwd")), "is a link to /etc/passwd, outside the site"),
    ("theme-template-linked-out", "themes/default/base.html", "outside-lesson", "is a link to {outside}/lesson.md, outside the site"),
    ("theme-fifo", "themes/default/static/site.css", _fifo, "is a FIFO (named pipe), not a plain file"),
]


@pytest.mark.parametrize(("where", "make", "message"), [case[1:] for case in CONTENT_CASES], ids=[case[0] for case in CONTENT_CASES])
def test_content_from_outside_or_not_a_file_is_refused(site: Path, outside: Path, where: str, make: Callable[[Path], None] | str, message: str) -> None:
    before = built(site)
    (outside / "lesson.md").write_text('---\ntitle: "Elsewhere"\ndate: 2026-01-02\n---\nNot this site.\n')
    path = site / where
    path.parent.mkdir(parents=True, exist_ok=True)
    if make == "outside-lesson":
        path.symlink_to(outside / "lesson.md")
    elif make == "outside-folder":
        path.symlink_to(outside)
    else:
        assert callable(make)
        make(path)
    for command in (("build",), ("check",)):
        stderr = refused(site, before, f"{where}: {message.format(outside=outside)}", command=command)
        assert "host file" not in stderr and "root:" not in stderr
    assert not any("secret" in name or "passwd" in name for name in snapshot(site / "output"))


def test_a_link_inside_the_site_is_followed(site: Path) -> None:
    (site / "lessons" / "course" / "chart.svg").write_text("<svg/>")
    (site / "lessons" / "course" / "same-chart.svg").symlink_to("chart.svg")
    run = run_cli(site, "build")
    assert run.status == 0, run.said
    assert (site / "output" / "course" / "same-chart.svg").read_text() == "<svg/>"


def test_a_lessons_folder_linked_out_of_the_site_is_one_error(site: Path, outside: Path) -> None:
    shutil.move(site / "lessons", outside / "lessons")
    (site / "lessons").symlink_to(outside / "lessons")
    run = run_cli(site, "build")
    assert run.status == 1
    assert f"lessons: is a link to {outside}/lessons, outside the site: move that folder into the site" in run.stderr
    assert not (site / "output").exists()


@pytest.mark.parametrize("where", ["lessonpress.toml", "data/topics.yml", "data/polls/first.json"])
def test_a_fifo_for_a_settings_or_data_file_does_not_hang(site: Path, where: str) -> None:
    if where == "lessonpress.toml":
        before: dict[str, str] = {}
        (site / where).unlink()
    else:
        before = built(site)
    path = site / where
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    refused(site, before, where, "not a plain file")
