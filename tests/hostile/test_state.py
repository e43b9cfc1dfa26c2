"""Hostile state files: a damaged cache is rebuilt with a notice, a damaged send ledger stops `send` and `sends` and is left as it was."""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from lessonpress.send.ledger import LEDGER_PATH, Ledger
from lessonpress.store import CACHE_DIR
from test_send_support import LESSON, NOW, SECRET, Recorder, make_site, many, smtp_server, write_list

from .conftest import run_cli, snapshot

PROJECTS = Path(__file__).resolve().parents[1] / "projects"
PAGE_SIZE = 4096  # SQLite's default, which every state file here uses


def random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(19).randbytes(path.stat().st_size))


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def bad_page(path: Path) -> None:
    """Overwrite the second page (the first table's root), as a bad sector or a torn write would."""
    data = bytearray(path.read_bytes())
    data[PAGE_SIZE : 2 * PAGE_SIZE] = random.Random(19).randbytes(PAGE_SIZE)
    path.write_bytes(bytes(data))


def foreign_table(path: Path) -> None:
    """A valid SQLite file that some other program made."""
    path.unlink()
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE contacts (email TEXT, notes TEXT)")
        connection.execute("INSERT INTO contacts VALUES ('ana@example.org', 'not lessonpress data')")
    connection.close()


def folder(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "keep.txt").write_text("someone's file: must survive\n")


def emptied(path: Path) -> None:
    path.write_bytes(b"")


# (id, damage, a word the reason shown to the user must hold)
DAMAGES: list[tuple[str, Callable[[Path], None], str]] = [
    ("random-bytes", random_bytes, "is not an SQLite database"),
    ("truncated", truncated, "is truncated"),
    ("bad-page", bad_page, "is damaged"),
    ("foreign-table", foreign_table, "it has no"),
    ("folder", folder, "is a folder"),
    ("emptied", emptied, "is empty"),
]


# The send ledger ----------------------------------------------------------------------------------


@pytest.fixture
def sent_site(tmp_path: Path) -> Path:
    """A site whose ledger records 300 readers already sent the lesson (several pages of SQLite)."""
    root = make_site(tmp_path)
    ledger = Ledger.open(root)
    pairs = [(LESSON, f"reader{number}@example.org") for number in range(300)]
    ledger.enqueue(pairs)
    for lesson, address in pairs:
        ledger.mark(lesson, address, "sent", "250 2.0.0 OK", attempt=True)
    ledger.close()
    return root


def ledger_files(root: Path) -> dict[str, str]:
    """The ledger and anything beside it named after it (-wal, -shm, -journal), with their digests."""
    return {name: digest for name, digest in snapshot(root / ".lessonpress").items() if name.startswith("sends.sqlite")}


@pytest.mark.parametrize("command", ["send", "sends"])
@pytest.mark.parametrize(("damage", "reason"), [(damage, reason) for _, damage, reason in DAMAGES], ids=[name for name, _, _ in DAMAGES])
def test_a_damaged_ledger_stops_and_is_left_as_it_was(sent_site: Path, tmp_path: Path, command: str, damage: Callable[[Path], None], reason: str) -> None:
    ledger = sent_site / LEDGER_PATH
    damage(ledger)
    before = ledger_files(sent_site)
    inside = snapshot(ledger) if ledger.is_dir() else None
    listed = write_list(tmp_path / "list.csv", many(3))
    handler = Recorder()
    with smtp_server(handler) as settings:
        env = {"LESSONPRESS_SMTP_URL": f"smtp://127.0.0.1:{settings.port}", "LESSONPRESS_SECRET": SECRET}
        arguments = ["send", LESSON, "--list", str(listed), "--now", NOW.isoformat()] if command == "send" else ["sends"]
        run = run_cli(sent_site, *arguments, env=env)
    assert run.status == 1, run.said
    [problem] = [line for line in run.stderr.splitlines() if line.startswith(".lessonpress/sends.sqlite: ")]
    assert reason in problem
    assert "nothing was sent and the file was left as it is" in problem and "Restore it from a backup" in problem
    assert ".dump" in problem and "may get a second copy" in problem
    assert handler.copies() == {}, "no reader gets a second copy"
    assert ledger_files(sent_site) == before, "no byte of the ledger changes and no -wal or -shm appears beside it"
    if inside is not None:
        assert snapshot(ledger) == inside


def test_a_ledger_of_an_earlier_version_still_opens(tmp_path: Path) -> None:
    """Ledgers made before the check carry no format stamp: the `sends` table alone is what makes them ours."""
    root = make_site(tmp_path)
    (root / ".lessonpress").mkdir()
    with sqlite3.connect(root / LEDGER_PATH) as connection:
        connection.execute(
            "CREATE TABLE sends (lesson TEXT NOT NULL, email TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
            " reply TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL, PRIMARY KEY (lesson, email)) WITHOUT ROWID"
        )
        connection.execute("INSERT INTO sends VALUES (?, 'ana@example.org', 'sent', 1, '250 OK', '2026-01-01T00:00:00+00:00')", (LESSON,))
    connection.close()
    run = run_cli(root, "sends")
    assert run.status == 0, run.said
    assert run.stdout.splitlines()[1].split() == [LESSON, "0", "0", "1", "0", "0", "0"]


# The parse cache and the build record --------------------------------------------------------------


@pytest.fixture
def built_site(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the basic site, built once: its output as a clean build leaves it."""
    root = tmp_path / "site"
    shutil.copytree(PROJECTS / "basic", root)
    run = run_cli(root, "build")
    assert run.status == 0, run.said
    return root, snapshot(root / "output")


@pytest.mark.parametrize("cache", ["parse.sqlite3", "outputs.sqlite3"])
@pytest.mark.parametrize(("damage", "reason"), [(damage, reason) for _, damage, reason in DAMAGES], ids=[name for name, _, _ in DAMAGES])
def test_a_damaged_cache_is_rebuilt_with_a_notice(built_site: tuple[Path, dict[str, str]], cache: str, damage: Callable[[Path], None], reason: str) -> None:
    root, clean = built_site
    path = root / CACHE_DIR / cache
    damage(path)
    run = run_cli(root, "build")
    assert run.status == 0, run.said
    [notice] = [line for line in run.stderr.splitlines() if line.startswith(f".lessonpress/cache/{cache}: warning: ")]
    assert reason in notice
    assert snapshot(root / "output") == clean
    again = run_cli(root, "build")
    assert again.status == 0 and ".lessonpress/cache" not in again.stderr, "the rebuilt cache is trusted again"
    assert "(0 of " in again.stdout, "the rebuilt records spare the next build all rendering"


def test_a_folder_in_place_of_a_cache_is_moved_aside_whole(built_site: tuple[Path, dict[str, str]]) -> None:
    """lessonpress never wrote a folder there, so it deletes none of it: the folder is renamed and the notice says where."""
    root, _ = built_site
    path = root / CACHE_DIR / "parse.sqlite3"
    folder(path)
    run = run_cli(root, "build")
    assert run.status == 0, run.said
    assert ".lessonpress/cache/parse.sqlite3: warning: is a folder, not a file: moved to parse.sqlite3.moved-aside-1 and rebuilt" in run.stderr
    assert (root / CACHE_DIR / "parse.sqlite3.moved-aside-1" / "keep.txt").read_text() == "someone's file: must survive\n"
    assert path.is_file()


def test_a_file_where_the_cache_folder_goes_is_moved_aside(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(PROJECTS / "minimal", root)
    (root / ".lessonpress").mkdir()
    (root / ".lessonpress/cache").write_text("someone's notes\n")
    run = run_cli(root, "build")
    assert run.status == 0, run.said
    assert ".lessonpress/cache: warning: is a file where lessonpress keeps a folder of its state: moved to cache.moved-aside-1" in run.stderr
    assert (root / ".lessonpress/cache.moved-aside-1").read_text() == "someone's notes\n"


def blocking_file(path: Path) -> None:
    path.write_text("someone's notes\n")


def dangling_link(path: Path) -> None:
    """Where the ledger lives on a disk that is not mounted."""
    path.symlink_to(path.parent / "unmounted" / "lessonpress-state")


@pytest.mark.parametrize(("block", "reason"), [(blocking_file, "is a file"), (dangling_link, "is a link to nothing")], ids=["file", "dangling-link"])
def test_what_stands_where_the_state_folder_goes_is_never_moved(tmp_path: Path, block: Callable[[Path], None], reason: str) -> None:
    """`.lessonpress/` holds the ledger too: a build keeps its caches in memory, send and sends stop, and it stays where it is."""
    root = make_site(tmp_path)
    block(root / ".lessonpress")
    listed = write_list(tmp_path / "list.csv", many(3))
    built = run_cli(root, "build")
    assert built.status == 0, built.said
    assert f".lessonpress: warning: {reason} where lessonpress keeps a folder of its state: the cache is not kept for the next build" in built.stderr
    handler = Recorder()
    with smtp_server(handler) as settings:
        env = {"LESSONPRESS_SMTP_URL": f"smtp://127.0.0.1:{settings.port}", "LESSONPRESS_SECRET": SECRET}
        runs = [run_cli(root, "send", LESSON, "--list", str(listed), "--now", NOW.isoformat(), env=env), run_cli(root, "sends")]
    for run in runs:
        assert run.status == 1, run.said
        assert f".lessonpress: {reason} where lessonpress keeps a folder of its state: nothing was sent" in run.stderr
    assert handler.copies() == {}
    assert (root / ".lessonpress").is_symlink() or (root / ".lessonpress").read_text() == "someone's notes\n"
