"""What a new user hit in their first hour, each fixed and held here: commands as the README shows them, run for real."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from conftest import BROWSER_SETUP, NOW, build_into, copy_project
from lessonpress.build import build
from lessonpress.cli import main
from lessonpress.site.model import BuildOptions
from test_poll_results import results, save
from test_tally import example_site
from test_topics import make_site, run, voted  # noqa: F401 - `voted` is a fixture used below

SRC = Path(__file__).resolve().parents[1] / "src"
SECRET_ENV = {"LESSONPRESS_SECRET": "0123456789abcdef0123456789abcdef", "LESSONPRESS_SMTP_URL": "smtp://127.0.0.1:9"}


def cli(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the real command line in a process of its own: stderr is a pipe, as under cron or in CI."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("LESSONPRESS_")}
    environ.update(PYTHONPATH=str(SRC), **(env or {}))
    done = subprocess.run([sys.executable, "-m", "lessonpress", "-C", str(root), *args], capture_output=True, text=True, env=environ, timeout=120)
    return done.returncode, done.stdout, done.stderr


# --- lessonpress topics list --------------------------------------------------------------------------------


def test_topics_list_is_what_the_readme_table_promises(voted: Path) -> None:
    code, listed = run(voted, "topics", "list")
    assert code == 0, listed
    _, bare = run(voted, "topics")
    without_time = re.compile(r" in [\d.]+ s$", re.MULTILINE)
    assert without_time.sub("", listed) == without_time.sub("", bare)
    assert "Open topics:" in listed and re.search(r"^Listed 5 topics \(4 open, 1 covered\) with 8 votes in [\d.]+ s$", listed, re.MULTILINE)
    code, help_text = run(voted, "topics", "--help")
    assert re.search(r"^\s+list\s", help_text, re.MULTILINE)


# --- lessonpress new --series NEW ------------------------------------------------------------------------------


def test_new_refuses_a_missing_series_naming_the_flag_then_starts_it_with_the_flag(basic: Path) -> None:
    code, out, err = cli(basic, "new", "Pricing Without Fear", "--series", "pricing")
    assert code == 1 and out == ""
    assert "lessons/pricing: series not found: to start a new series, run the same command with --new-series" in err
    assert "build failed" not in err and not (basic / "lessons" / "pricing").exists()

    code, out, err = cli(basic, "new", "Pricing Without Fear", "--series", "pricing", "--new-series")
    assert code == 0, err
    assert out == "lessons/pricing/01-pricing-without-fear.md\n"
    assert "started the series pricing (edit lessons/pricing/_index.md)" in err
    index = (basic / "lessons" / "pricing" / "_index.md").read_text(encoding="utf-8")
    assert 'title: "Pricing"' in index
    # The new series builds: its page exists, and the lesson (a draft dated today) with --drafts --future.
    result = build(basic, BuildOptions(now=NOW, include_drafts=True, include_future=True), output=basic / "output")
    assert "pricing/index.html" in result.files and "pricing/pricing-without-fear/index.html" in result.files


def _on_a_terminal(root: Path, args: list[str], answer: bytes) -> tuple[int, str]:
    """Run the command with a pseudo-terminal as stdin, stdout and stderr, typing `answer` when it asks."""
    leader, follower = pty.openpty()
    environ = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen([sys.executable, "-m", "lessonpress", "-C", str(root), *args], stdin=follower, stdout=follower, stderr=follower, env=environ)
    os.close(follower)
    seen = b""
    answered = False
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process ended and closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"?" in seen:
            os.write(leader, answer)
            answered = True
    os.close(leader)
    return process.wait(timeout=60), seen.decode("utf-8", "replace")


def test_new_offers_to_start_a_missing_series_on_a_terminal(basic: Path) -> None:
    code, shown = _on_a_terminal(basic, ["new", "Raising Prices", "--series", "pricing"], b"y\n")
    assert "There is no series 'pricing' yet. Start it" in shown
    assert code == 0, shown
    assert (basic / "lessons" / "pricing" / "_index.md").is_file()
    assert (basic / "lessons" / "pricing" / "01-raising-prices.md").is_file()


# --- send --help and send --dry-run ----------------------------------------------------------------------------


def test_send_help_names_its_environment_variables() -> None:
    result = CliRunner().invoke(main, ["send", "--help"])
    assert result.exit_code == 0
    for name in ("LESSONPRESS_SMTP_URL", "LESSONPRESS_SMTP_PASSWORD", "LESSONPRESS_SECRET"):
        assert name in result.output


@pytest.mark.parametrize(("missing", "expected"), [
    ("LESSONPRESS_SECRET", "LESSONPRESS_SECRET: is not set"),
    ("LESSONPRESS_SMTP_URL", "LESSONPRESS_SMTP_URL: is not set"),
])
def test_a_dry_run_stops_where_the_real_send_would(tmp_path: Path, missing: str, expected: str) -> None:
    root = example_site(tmp_path)
    listed = tmp_path / "list.csv"
    listed.write_text("email\nana@example.org\n", encoding="utf-8")
    env = {key: value for key, value in SECRET_ENV.items() if key != missing}
    lesson = "retention/why-customers-leave"
    dry = cli(root, "send", lesson, "--list", str(listed), "--dry-run", env=env)
    real = cli(root, "send", lesson, "--list", str(listed), env=env)
    assert dry[0] == real[0] == 1
    assert expected in dry[2]
    assert dry[2] == real[2]  # the same words, so a dry run that passes means the real one will get going
    assert not (root / ".lessonpress" / "sends.sqlite").exists()


def test_a_dry_run_with_everything_set_passes_and_draws_no_bar_off_a_terminal(tmp_path: Path) -> None:
    root = example_site(tmp_path)
    listed = tmp_path / "list.csv"
    listed.write_text("email\nana@example.org\nben@example.org\n", encoding="utf-8")
    code, out, err = cli(root, "send", "retention/why-customers-leave", "--list", str(listed), "--dry-run", env=SECRET_ENV)
    assert code == 0, err
    assert "would send retention/why-customers-leave to ben@example.org" in out
    # stderr is a pipe here: no "Rendering" bar line in a log or a cron mail.
    assert "Rendering" not in err and "Sending" not in err and "[" not in err


# --- errors that are not a build's -----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["email", "retention/why-customers-leave"],
    ["topics"],
    ["topics", "list"],
    ["check"],
    ["polls", "tally", "votes.mbox"],
    ["send", "retention/why-customers-leave", "--dry-run"],
])
def test_a_command_outside_a_site_says_so_and_speaks_of_no_build(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "votes.mbox").write_text("", encoding="utf-8")
    code, out, err = cli(tmp_path, *args, env=SECRET_ENV)
    err += out  # check reports its findings on stdout, for editors to read
    assert code == 1
    assert "lessonpress.toml" in err and "lessonpress init" in err
    assert "build failed" not in err and "output/ was left" not in err, err


def test_build_outside_a_site_speaks_of_no_output_folder(tmp_path: Path) -> None:
    code, _, err = cli(tmp_path, "build")
    assert code == 1 and "lessonpress.toml: not found" in err and "output/ was left" not in err


def test_email_names_a_draft_as_a_draft_and_hints_with_the_sites_own_lessons(basic: Path) -> None:
    code, _, err = cli(basic, "email", "good-habits/unfinished")
    assert code == 1
    assert "lessons/good-habits/02-unfinished.md: is a draft: add --drafts to write its email anyway" in err
    assert "build failed" not in err and "output/ was left" not in err

    code, _, err = cli(basic, "email", "retention/why-customers-leave")  # the example site's lesson, not this site's
    assert code == 1
    assert "retention/why-customers-leave: no lesson by that name: give its file, like lessons/" in err
    hint = err.split("give its file, like ", 1)[1]
    assert "why-customers-leave" not in hint and re.match(r"lessons/(retention|good-habits)/\d\d-[a-z-]+\.md, or SERIES/SLUG, like [a-z-]+/[a-z-]+\n", hint), hint
    assert "build failed" not in err and "output/ was left" not in err
    code, _, err = cli(basic, "email", "good-habits/unfinished", "--drafts")
    assert code == 0, err


def test_a_backlog_hint_names_a_lesson_of_this_site(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    backlog = root / "data" / "topics.yml"
    backlog.write_text(backlog.read_text(encoding="utf-8") + "- id: onboarding\n  title: \"Onboarding\"\n  added: 2025-12-01\n  covered_by: retention/the-account-review\n", encoding="utf-8")
    code, output = run(root, "topics", "list")
    assert code == 1
    assert "covered_by 'retention/the-account-review', which is no lesson: write series/slug, e.g. course/" in output
    assert "build failed" not in output


# --- poll results and the home page ----------------------------------------------------------------------------


def test_poll_results_show_readers_own_topics_so_the_bars_add_up(tmp_path: Path) -> None:
    root = example_site(tmp_path)
    # Three readers: one for each of the first two options, one with a topic of their own.
    save(root, results((1, 1, 0, 0), ("Referral networks for freelancers",)))
    # The lesson after the poll shows its results; the series is dated after the tests' clock.
    files = build(root, BuildOptions(now=NOW, include_future=True), output=root / "output").files
    page = lxml.html.fromstring(files["relationships/customer-advisory-boards/index.html"])
    rows = [" ".join(item.text_content().split()) for item in page.xpath("//ul[@class='poll-bars']/li")]
    assert "3 readers answered" in " ".join(page.xpath("//p[@class='poll-results-question']")[0].text_content().split())
    assert rows[-1] == "Your own topics 1 vote (33%)"
    percents = [int(re.search(r"\((\d+)%\)", row).group(1)) for row in rows]  # type: ignore[union-attr]
    assert sum(int(re.search(r"(\d+) votes?", row).group(1)) for row in rows) == 3  # type: ignore[union-attr]
    assert percents == [33, 33, 0, 0, 33]
    text = files["email/relationships/customer-advisory-boards.txt"].decode()
    assert "###-------    1 (33%)  Your own topics" in text
    html = files["email/relationships/customer-advisory-boards.html"].decode()
    assert "Your own topics — <strong>1</strong> (33%)" in html
    assert "Your own topics" in files["relationships/feed.json"].decode()


def test_the_home_page_lists_only_topics_readers_asked_for(tmp_path: Path, voted: Path) -> None:
    fresh = make_site(tmp_path / "fresh")
    home = lxml.html.fromstring(build(fresh, BuildOptions(now=NOW), output=fresh / "output").files["index.html"])
    assert not home.xpath("//section[@aria-labelledby='backlog-title']")  # no votes yet: nothing was asked for
    home = lxml.html.fromstring(build(voted, BuildOptions(now=NOW), output=voted / "output").files["index.html"])
    listed = [" ".join(item.text_content().split()) for item in home.xpath("//section[@aria-labelledby='backlog-title']//li")]
    assert listed == ["A health score you can trust 3 votes", "Customer communities 2 votes", "Handing an account to a new manager 1 vote"]


# --- summaries -------------------------------------------------------------------------------------------------


def test_summaries_use_the_singular_for_one(project: Callable[[str], Path]) -> None:
    root = project("minimal")
    first = build_into(root).summary()
    assert first.startswith("Built 1 lesson in 1 series: ") and "1 email in" in first
    (root / "output" / "robots.txt").unlink()
    again = build_into(root).summary()
    assert "rendered, 1 file written)" in again, again
    code, _, err = cli(root, "new", "Second Step")
    assert code == 0 and "Created a draft lesson" in err


# --- serve -----------------------------------------------------------------------------------------------------


def _read_until(process: subprocess.Popen[str], pattern: str, seen: list[str]) -> str:
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        assert line, "serve ended early:\n" + "".join(seen)
        seen.append(line)
        if re.search(pattern, line):
            return line


def test_serve_ignores_editor_files_and_ends_with_its_summary_on_sigterm(tmp_path: Path) -> None:
    root = copy_project("basic", tmp_path / "site")
    environ = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lessonpress", "-C", str(root), "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ,
    )
    seen: list[str] = []
    try:
        _read_until(process, r"^Serving ", seen)
        folder = root / "lessons" / "retention"
        editor_files = [".01-why-they-leave.md.swp", "01-why-they-leave.md~", ".#01-why-they-leave.md", "#01-why-they-leave.md#", "4913", "5036",
                        "01-why-they-leave.md.tmp", "sedAb12Cd", "01-why-they-leave.md___jb_tmp___", "01-why-they-leave.md.kate-swp", "notes.bak"]
        for name in editor_files:
            (folder / name).write_text("scratch", encoding="utf-8")
        for name in editor_files:
            (folder / name).unlink()
        lesson = folder / "01-why-they-leave.md"
        lesson.write_text(lesson.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
        # The first build after the server started answers the lesson's save alone.
        line = _read_until(process, r"build #\d+ after", seen)
        assert line.split(": ")[1] == "lessons/retention/01-why-they-leave.md", line
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    seen.append(rest)
    output = "".join(seen)
    assert process.returncode == 0, output
    assert re.search(r"^Stopped after 2 builds, served for [\d.]+ s$", output, re.MULTILINE), output
    for name in ("swp", "4913", "5036", "sedAb12Cd", "jb_tmp", "kate-swp", ".bak", ".tmp"):
        assert name not in output


# --- the browser group's banner --------------------------------------------------------------------------------


def test_a_skipped_browser_group_ends_the_run_with_a_banner_naming_the_setup_command(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    shutil.copy(Path(__file__).parent / "conftest.py", suite / "conftest.py")
    (suite / "test_skips.py").write_text(
        "import pytest\n\n\ndef test_in_a_browser():\n    pytest.skip(\"browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)\")\n\n\n"
        "def test_plain():\n    assert True\n",
        encoding="utf-8",
    )
    environ = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-ra", "-p", "no:cacheprovider", str(suite)], capture_output=True, text=True, env=environ, cwd=suite, timeout=120)
    lines = done.stdout.rstrip().splitlines()
    assert done.returncode == 0, done.stdout
    banner = lines.index(next(line for line in lines if "THE BROWSER TESTS DID NOT RUN" in line))
    assert any("1 passed, 1 skipped" in line for line in lines[:banner])  # after pytest's own last line
    assert "1 browser test was skipped: browser tests need Debian's Chromium" in lines[banner + 1]
    assert BROWSER_SETUP in lines[banner + 2] and BROWSER_SETUP == "bash scripts/setup-browser.sh"
    assert (Path(__file__).parents[1] / "scripts" / "setup-browser.sh").is_file()
    # A run without browser skips stays quiet.
    (suite / "test_skips.py").write_text("def test_plain():\n    assert True\n", encoding="utf-8")
    quiet = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(suite)], capture_output=True, text=True, env=environ, cwd=suite, timeout=120)
    assert "BROWSER" not in quiet.stdout
