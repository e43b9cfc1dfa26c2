"""Hostile paths and values given on the command line: a clear message and status, never a hang or a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import minimal_site, run_cli, snapshot

SENDABLE = '\n[email]\nunsubscribe_url = "https://example.org/unsubscribe"\nfrom = "Letters <letters@example.org>"\n'


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = minimal_site(tmp_path)
    with (root / "lessonpress.toml").open("a", encoding="utf-8") as settings:
        settings.write(SENDABLE)
    return root


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "list.csv"
    os.mkfifo(path)
    return path


# Every file a command reads from a flag or an argument, given as a FIFO (waits forever when opened) or /dev/zero (never ends).
FILE_ARGUMENTS = [
    ("list-import", ("list", "import", "{file}")),
    ("send-list", ("send", "course/first", "--list", "{file}", "--dry-run")),
    ("send-suppress", ("send", "course/first", "--list", "{good}", "--suppress", "{file}", "--dry-run")),
    ("polls-tally", ("polls", "tally", "{file}")),
    ("replies", ("replies", "{file}")),
]


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
@pytest.mark.parametrize("arguments", [case[1] for case in FILE_ARGUMENTS], ids=[case[0] for case in FILE_ARGUMENTS])
def test_a_fifo_or_a_device_as_a_file_argument_is_refused_at_once(site: Path, fifo: Path, tmp_path: Path, kind: str, arguments: tuple[str, ...]) -> None:
    good = tmp_path / "good.csv"
    good.write_text("email,name\nana@example.org,Ana\n", encoding="utf-8")
    file = str(fifo) if kind == "fifo" else "/dev/zero"
    before = kept(site)
    # A dry run reads the SMTP settings as a real send does (it never connects).
    env = {"LESSONPRESS_SECRET": "s" * 32, "LESSONPRESS_SMTP_URL": "smtp://127.0.0.1:9"}
    run = run_cli(site, *(argument.format(file=file, good=good) for argument in arguments), env=env)
    assert run.status == 1, run.said
    assert file in run.said
    assert any(words in run.said for words in ("not a plain file", "not found", "give an mbox file")), run.said
    assert kept(site) == before


def kept(site: Path) -> dict[str, str]:
    """The site's files but its caches, which any command may warm."""
    return {name: digest for name, digest in snapshot(site).items() if not name.startswith(".lessonpress/cache/")}


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (("serve", "--port", "70000"), "70000 is not in the range"),
        (("serve", "--port", "-1"), "-1 is not in the range"),
        (("build", "-o", "/dev/null"), "refusing to write into /dev/null: it is a file, not a folder"),
        (("email", "../../../etc/passwd"), "no lesson by that name"),
        (("email", "/etc/passwd", "--format", "txt"), "no lesson by that name"),
        (("send", "--course", "../../etc"), ""),
        (("new", "--series", "course", "x" * 5000), ""),
        (("new", "--series", "../../etc", "A title"), "cannot be a series"),
    ],
    ids=["port-too-high", "port-negative", "output-dev-null", "email-traversal", "email-absolute", "course-traversal", "new-huge-title", "new-series-traversal"],
)
def test_odd_values_get_a_clear_answer(site: Path, arguments: tuple[str, ...], said: str) -> None:
    before = snapshot(site / "lessons")
    run = run_cli(site, *arguments, env={"LESSONPRESS_SECRET": "s" * 32})
    assert said in run.said
    if arguments[0] == "new" and not said:
        assert run.status == 0, run.said
        made = set(snapshot(site / "lessons")) - set(before)
        assert len(made) == 1 and all(len(Path(name).name) <= 80 for name in made)
    else:
        assert run.status in (1, 2), run.said
        assert snapshot(site / "lessons") == before


def test_a_site_folder_that_does_not_exist(tmp_path: Path) -> None:
    run = run_cli(tmp_path / "nowhere", "build")
    assert run.status == 1
    assert "lessonpress.toml: not found in" in run.said
