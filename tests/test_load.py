"""One way to load a site: every command that reads readers' mail sees the same polls."""

from __future__ import annotations

import json
import mailbox
import shutil
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from click.testing import CliRunner

from conftest import copy_project
from lessonpress.cli import main
from test_topics import build_site, links, make_site

REPO = Path(__file__).parent.parent


def _vote_mail(link: str, sender: str) -> EmailMessage:
    """The mail a reader's client writes when they click a `mailto:` vote link."""
    parts = urlsplit(link)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = unquote(parts.path)
    message["Subject"] = parse_qs(parts.query)["subject"][0]
    message["Date"] = "Tue, 06 Jan 2026 09:00:00 +0000"
    message.set_content("my vote")
    return message


def test_replies_and_tally_agree_on_a_vote_for_an_automatic_poll(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    # The first lesson's poll comes from the topic backlog, not from its front matter.
    assert "poll:" not in (root / "lessons" / "course" / "01-first-call.md").read_text()
    vote = links(build_site(root), "first-call")[0]
    box = mailbox.mbox(tmp_path / "votes.mbox")
    box.add(_vote_mail(vote, "reader@example.com"))
    box.flush()

    tallied = CliRunner().invoke(main, ["--site", str(root), "polls", "tally", str(tmp_path / "votes.mbox")])
    assert tallied.exit_code == 0, tallied.output
    assert "1 vote in 1 poll" in tallied.output

    replied = CliRunner().invoke(main, ["--site", str(root), "replies", "--json", str(tmp_path / "votes.mbox")])
    assert replied.exit_code == 0, replied.output
    found = json.loads(replied.stdout)
    assert (found["votes"], found["unmatched"]) == (1, 0)


def test_an_edited_parser_module_misses_the_parse_cache(tmp_path: Path) -> None:
    # A copied (non-editable) install, as a user's site-packages holds it.
    installed = tmp_path / "installed"
    shutil.copytree(REPO / "src" / "lessonpress", installed / "lessonpress", ignore=shutil.ignore_patterns("__pycache__"))
    site = copy_project("basic", tmp_path / "site")

    def build() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "lessonpress", "--site", str(site), "build", "--drafts", "-o", str(tmp_path / "out")],
            env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=False,
        )
        assert done.returncode == 0, done.stderr
        return (tmp_path / "out" / "retention" / "why-they-leave" / "index.html").read_text(encoding="utf-8")

    before = build()
    assert "&ldquo;" in before  # the typography pass turned straight quotes into curly ones
    # Edit the typography pass of the copy: curly opening quotes become guillemets.
    typography = installed / "lessonpress" / "content" / "typography.py"
    source = typography.read_text(encoding="utf-8")
    english = 'ENGLISH = QuoteStyle(("“",'
    assert english in source
    typography.write_text(source.replace(english, english.replace("“", "«")), encoding="utf-8")
    after = build()
    assert "&laquo;" in after and "&ldquo;" not in after
