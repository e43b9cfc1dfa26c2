"""End to end: vote links out of the built email, mailed back as real messages, tallied, shown in the next lesson."""

from __future__ import annotations

import base64
import json
import mailbox
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from conftest import copy_example_lessons
from lessonpress.build import build
from lessonpress.cli import main
from lessonpress.mail.sources import Inbox, Letter
from lessonpress.mail.tally import strip_prefixes, subject_key, tally
from lessonpress.site.model import BuildOptions

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 1, tzinfo=UTC)  # after every published example lesson, before the scheduled one
POLL = "retention-the-first-ninety-days"
START = datetime(2026, 1, 14, 8, 0, tzinfo=UTC)


def example_site(tmp_path: Path) -> Path:
    """Copy the repo's example site (config and lessons only, no poll data) into tmp_path."""
    root = tmp_path / "site"
    root.mkdir()
    copy_example_lessons(root)
    return root


def build_site(root: Path) -> dict[str, bytes]:
    return build(root, BuildOptions(now=NOW), output=root / "output").files


def mailto_links(text: str) -> list[str]:
    """The poll's mailto links in a built email part (HTML attribute or plain-text line)."""
    return [unquote_amp(link) for link in re.findall(r"mailto:polls@[^\s\"<>]+", text)]


def unquote_amp(link: str) -> str:
    return link.replace("&amp;", "&")


def message_from_link(link: str, sender: str, when: datetime, *, body: str = "", prefix: str = "") -> EmailMessage:
    """Do what a mail client does with a mailto link (RFC 6068: `%20` is a space, `+` stays a plus)."""
    parts = urlsplit(link)
    fields = dict(pair.split("=", 1) for pair in parts.query.split("&"))
    message = EmailMessage()
    message["From"] = sender
    message["To"] = unquote(parts.path)
    message["Subject"] = prefix + unquote(fields["subject"])
    message["Date"] = format_datetime(when)
    message.set_content(unquote(fields.get("body", "")) + body)
    return message


def raw_message(sender: str, subject_header: str, when: datetime, body: bytes, headers: str = "") -> bytes:
    """A message written byte by byte, for encodings EmailMessage would never produce."""
    head = f"From: {sender}\r\nTo: polls@retention.example.org\r\nSubject: {subject_header}\r\nDate: {format_datetime(when)}\r\nMIME-Version: 1.0\r\n{headers}"
    return head.encode() + b"\r\n" + body


def at(hours: int) -> datetime:
    return START + timedelta(hours=hours)


def vote_mails(links: list[str], write_in_link: str) -> list[EmailMessage | bytes]:
    """Seventeen mails: 11 readers' final votes (3, 4, 2, 0 for choices 1-4 and 2 write-ins) and noise."""
    one, two, three, _four = links
    ana = "Ana <ana@example.com>"
    mails: list[EmailMessage | bytes] = [
        message_from_link(one, "ben@example.com", at(1)),
        message_from_link(one, "Cleo Brown <cleo@example.net>", at(2), prefix="Re: "),
        message_from_link(one, "dev@example.org", at(3), prefix="AW: "),
        # Ana votes 3, then changes her mind to 2 (the later vote counts), then sends the same mail again.
        message_from_link(three, ana, at(4)),
        message_from_link(two, ana, at(30)),
        message_from_link(two, ana, at(31), prefix="Fwd: "),
        message_from_link(two, "eve@example.com", at(5)),
        # RFC 2047 subjects, both flavours, and a client that sent raw UTF-8 with no-break spaces.
        raw_message("fay@example.com", "=?utf-8?q?Vote=3A_retention-the-first-ninety-days_=233_Measuring_time_to_first_value?=", at(6), b"Thanks!\r\n", "Content-Type: text/plain; charset=utf-8\r\n"),
        raw_message(
            "gus@example.com",
            "=?utf-8?b?" + base64.b64encode(b"Re: Vote: retention-the-first-ninety-days #3 Measuring time to first value").decode() + "?=",
            at(7), b"", "Content-Type: text/plain; charset=utf-8\r\n",
        ),
        raw_message("hal@example.com", "Vote:\u00a0retention-the-first-ninety-days\u00a0#3\u00a0Measuring time to first value", at(8), b"x\r\n", "Content-Type: text/plain; charset=utf-8\r\n"),
        # Write-ins: one quoted-printable with the reader's quote and signature, one base64.
        raw_message(
            "ivy@example.com", "Re: Vote: retention-the-first-ninety-days write-in", at(9),
            b"My suggestion for a future lesson: onboarding when the buyer is not the us=\r\ner =E2=80=94 write to ivy@example.com\r\n\r\nOn Tue, Clara wrote:\r\n> quoted text\r\n-- \r\nIvy\r\n",
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
        ),
        raw_message(
            "jo@example.com", "Vote: retention-the-first-ninety-days write-in", at(10),
            base64.b64encode(b"My suggestion for a future lesson:   pricing changes at renewal\n") + b"\r\n",
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n",
        ),
        # Noise: a write-in with no suggestion, a reply to the lesson, an out-of-office,
        # a vote for a poll this site does not have, and a vote with a body in an unknown charset (still a vote).
        message_from_link(write_in_link, "kit@example.com", at(11)),
        raw_message("lea@example.com", "Re: [Retention] The First Ninety Days", at(12), b"Loved it.\r\n"),
        raw_message("max@example.com", "Automatic reply: Vote: retention-the-first-ninety-days #1", at(13), b"I am away.\r\n"),
        raw_message("ned@example.com", "Vote: retention-no-such-poll #1 Something", at(14), b"x\r\n"),
        raw_message("oli@example.com", "Vote: retention-the-first-ninety-days #1 Welcome calls", at(15), b"caf\xe9\r\n", "Content-Type: text/plain; charset=x-unknown\r\n"),
    ]
    return mails


EXPECTED_COUNTS = {1: 4, 2: 2, 3: 3, 4: 0}
EXPECTED_WRITE_INS = [
    "onboarding when the buyer is not the user — write to [address removed]",
    "pricing changes at renewal",
]


@pytest.fixture(scope="session")
def email_links(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The poll's links in the built email of the example site, built once per run."""
    files = build_site(example_site(tmp_path_factory.mktemp("links")))
    html = files["email/retention/the-first-ninety-days.html"].decode()
    text = files["email/retention/the-first-ninety-days.txt"].decode()
    html_links, text_links = mailto_links(html), mailto_links(text)
    assert html_links == text_links and len(html_links) == 5, "the HTML and text parts carry the same five links"
    return html_links


@pytest.fixture
def voted(tmp_path: Path, email_links: list[str]) -> tuple[Path, list[EmailMessage | bytes]]:
    """A fresh copy of the example site and the vote mails made from its email's links."""
    return example_site(tmp_path), vote_mails(email_links[:4], email_links[4])


def write_mbox(path: Path, mails: list[EmailMessage | bytes]) -> Path:
    box = mailbox.mbox(path)
    for mail in mails:
        box.add(mail)
    box.flush()
    box.close()
    return path


def write_maildir(path: Path, mails: list[EmailMessage | bytes]) -> Path:
    box = mailbox.Maildir(path, create=True)
    for mail in mails:
        box.add(mail)
    return path


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--site", str(root), *args], catch_exceptions=False)
    return result.exit_code, result.output


def check_results(root: Path) -> dict:
    data = json.loads((root / "data" / "polls" / f"{POLL}.json").read_text())
    assert {option["choice"]: option["votes"] for option in data["options"]} == EXPECTED_COUNTS
    assert data["write_ins"] == EXPECTED_WRITE_INS
    assert data["totals"] == {"votes": 11, "write_ins": 2, "ballots": 13}
    assert data["first_vote"] == at(1).isoformat()
    assert data["last_vote"] == at(31).isoformat()
    assert data["options"][0]["text"] == "Welcome calls that don’t waste time"
    return data


@pytest.mark.parametrize("kind", ["mbox", "maildir"])
def test_tally_counts_exactly_and_twice_the_same(voted: tuple[Path, list], tmp_path: Path, kind: str) -> None:
    root, mails = voted
    source = write_mbox(tmp_path / "votes.mbox", mails) if kind == "mbox" else write_maildir(tmp_path / "Votes", mails)
    code, output = run(root, "polls", "tally", str(source))
    assert code == 0, output
    check_results(root)
    first = (root / "data" / "polls" / f"{POLL}.json").read_bytes()
    assert "@" not in first.decode() and "@" not in output, "no voter's address may leave the mailbox"
    assert re.search(r"Tallied 17 messages: 11 votes in 1 poll, 4 not a vote, 0 unreadable in \d+\.\d\d s$", output.strip())
    assert "#1 Welcome calls that don’t waste time  ####------    4 (36%)" in output
    code, again = run(root, "polls", "tally", str(source))
    assert code == 0 and (root / "data" / "polls" / f"{POLL}.json").read_bytes() == first
    assert "wrote" not in again, "an unchanged result is not rewritten"


def test_results_reach_the_next_lesson_in_all_four_outputs(voted: tuple[Path, list], tmp_path: Path) -> None:
    root, mails = voted
    run(root, "polls", "tally", str(write_mbox(tmp_path / "votes.mbox", mails)))
    files = build_site(root)
    headline = "You voted: “Welcome calls that don’t waste time” came first"
    page = files["retention/reading-churn-signals/index.html"].decode()
    assert headline in page and 'style="width: 36%"' in page and "4 votes (36%)" in page
    feed = files["retention/feed.xml"].decode()
    assert "You voted: “Welcome calls that don’t waste time” came first" in feed and "4 votes (36%)" in feed
    email_html = files["email/retention/reading-churn-signals.html"].decode()
    assert headline in email_html and 'width="36%"' in email_html and 'width="64%"' in email_html
    email_text = files["email/retention/reading-churn-signals.txt"].decode()
    assert "####------    4 (36%)  Welcome calls that don’t waste time" in email_text
    assert "----------    0 (0%)   The handover from sales to delivery" in email_text
    # The example lesson does not ask for write-ins, so they stay out; only the lesson after the poll shows results.
    assert "pricing changes" not in page + email_html + email_text
    assert "You voted" not in files["retention/the-first-ninety-days/index.html"].decode()
    assert "You voted" not in files["email/retention/complaints-are-a-second-chance.txt"].decode()


def test_good_votes_survive_bad_messages(voted: tuple[Path, list], tmp_path: Path) -> None:
    root, mails = voted
    broken = [
        b"Subject: no sender at all\r\n\r\nhello\r\n",
        raw_message("<<<@>>>", "Vote: retention-the-first-ninety-days #4", at(40), b"x\r\n"),
    ]
    source = tmp_path / "votes.mbox"
    write_mbox(source, mails + broken)
    # Junk before the first "From " line, as a hand-edited or truncated export has.
    source.write_bytes(b"this is not mail\n" + source.read_bytes())
    code, output = run(root, "polls", "tally", str(source))
    assert code == 0, output
    check_results(root)
    assert "votes.mbox:1: warning: skipped text that is not a message" in output
    assert re.search(r"votes\.mbox:\d+: warning: skipped, cannot read this message: no sender address", output)
    assert "20 messages: 11 votes in 1 poll, 4 not a vote, 3 unreadable" in output


def test_missing_and_malformed_sources_are_clear_errors(voted: tuple[Path, list], tmp_path: Path) -> None:
    root, _ = voted
    code, output = run(root, "polls", "tally", str(tmp_path / "nowhere"))
    assert code == 1 and output.strip().endswith("nothing was written") and "Traceback" not in output
    assert f"{tmp_path / 'nowhere'}: not found: give an mbox file, a Maildir folder" in output
    (tmp_path / "notes.txt").write_text("just some notes\n")
    code, output = run(root, "polls", "tally", str(tmp_path / "notes.txt"))
    assert code == 1 and "notes.txt:1: is not an mbox file" in output
    (tmp_path / "folder").mkdir()
    code, output = run(root, "polls", "tally", str(tmp_path / "folder"))
    assert code == 1 and "is not a Maildir folder (it needs cur/ and new/ inside)" in output
    assert not (root / "data").exists()


@pytest.mark.parametrize(
    "subject",
    [
        "Vote: p-1 #2 Two words",
        "RE: Fwd: AW: Vote: p-1 #2 Two words",
        "Re[2]: [List] WG: Vote:p-1#2 Two  words",
        "Vote:%20p-1%20%232%20Two%20words",
        "Vote:_p-1_#2_Two_words",
        "vote: P-1 #2 two words (sent from my phone)",
    ],
)
def test_subject_variants_name_the_same_choice(subject: str) -> None:
    from lessonpress.content.lesson import Poll

    poll = Poll(id="p-1", question="Q?", options=("One", "Two words"))
    letter = Letter(where="x", position=0, sender="a@b.c", name="", recipients=(), subject=subject, date=None, text="")
    result = tally(Inbox((letter,), ()), [poll])
    assert [option.votes for option in result.results[0].options] == [0, 1]


def test_prefix_stripping_keeps_the_rest() -> None:
    assert strip_prefixes("Re: Fwd: [Retention] Vote: x") == "Vote: x"
    assert subject_key("Vote: x #1 Don’t") == subject_key("vote:x#1don't")


def test_example_site_results_come_from_the_sample_mailbox(tmp_path: Path) -> None:
    """data/polls/ in the repo is exactly what the tally makes of tests/data/retention-votes.mbox."""
    root = example_site(tmp_path)
    code, output = run(root, "polls", "tally", str(REPO / "tests" / "data" / "retention-votes.mbox"))
    assert code == 0, output
    assert (root / "data" / "polls" / f"{POLL}.json").read_bytes() == (REPO / "data" / "polls" / f"{POLL}.json").read_bytes()
