"""`lessonpress replies`: readers' answers grouped by lesson, from a real Maildir."""

from __future__ import annotations

import json
import mailbox
import re
from pathlib import Path

from click.testing import CliRunner

from lessonpress.cli import main
from test_tally import at, example_site, raw_message


def _reply(sender: str, to: str, subject: str, date: str, body: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode()


def test_replies_are_grouped_by_plus_address_or_subject_newest_first(tmp_path: Path) -> None:
    root = example_site(tmp_path)
    box = mailbox.Maildir(tmp_path / "Replies", create=True)
    for mail in [
        # By plus-address, whatever the subject says.
        _reply("Priya Shah <priya@example.com>", "lessons+the-first-ninety-days@retention.example.org", "a thought", "Thu, 15 Jan 2026 09:00:00 +0000", "We had the data.\r\nNobody looked at it together.\r\n\r\nOn Wed, Clara wrote:\r\n> Good news first\r\n"),
        _reply("tom@example.com", "lessons+the-first-ninety-days@retention.example.org", "Re: [Retention] The First Ninety Days", "Sat, 17 Jan 2026 09:00:00 +0000", "Sixty days for us.\r\n"),
        # By subject: sent to the author's own address, list tag and all.
        _reply("Ana <ana@example.com>", "clara@retention.example.org", "AW: [Retention] Reading the Churn Signals", "Fri, 23 Jan 2026 09:00:00 +0000", "Signal four is the one we miss.\r\n"),
        # Not replies: a vote and a stray newsletter.
        raw_message("vic@example.com", "Vote: retention-the-first-ninety-days #2 Onboarding without a dedicated team", at(50), b"x\r\n"),
        _reply("news@example.net", "clara@retention.example.org", "Our spring offers", "Fri, 23 Jan 2026 10:00:00 +0000", "Buy now.\r\n"),
    ]:
        box.add(mail)

    result = CliRunner().invoke(main, ["--site", str(root), "replies", str(tmp_path / "Replies")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:5] == [
        "retention/reading-churn-signals/ Reading the Churn Signals: 1 reply",
        "  2026-01-23  Ana: Signal four is the one we miss.",
        "retention/the-first-ninety-days/ The First Ninety Days: 2 replies",
        "  2026-01-17  Sixty days for us.",
        "  2026-01-15  Priya Shah: We had the data. / Nobody looked at it together.",
    ]
    assert re.fullmatch(r"Found 3 replies to 2 lessons; 1 vote, 1 unmatched, 0 unreadable in \d+\.\d\d s", lines[-1])

    scripted = CliRunner().invoke(main, ["--site", str(root), "replies", "--json", str(tmp_path / "Replies")])
    data = json.loads(scripted.stdout)
    assert [(item["slug"], item["count"]) for item in data["lessons"]] == [("reading-churn-signals", 1), ("the-first-ninety-days", 2)]
    assert data["lessons"][1]["replies"][1] == {
        "date": "2026-01-15T09:00:00+00:00", "name": "Priya Shah", "first_lines": ["We had the data.", "Nobody looked at it together."],
    }
    assert (data["votes"], data["unmatched"], data["unreadable"]) == (1, 1, 0)
    assert "@" not in scripted.stdout, "addresses stay in the mailbox"
