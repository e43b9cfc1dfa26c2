"""The readers' topic backlog end to end: automatic polls, votes mailed back over several issues, the loop closed."""

from __future__ import annotations

import mailbox
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest
from click.testing import CliRunner

from conftest import only, select, text
from lessonpress.build import build
from lessonpress.cli import main
from lessonpress.site.model import BuildOptions

NOW = datetime(2026, 3, 1, tzinfo=UTC)  # after every lesson below
CONFIG = """\
[site]
title = "Keep Them Coming"
url = "https://keep.example.org"
timezone = "UTC"

[author]
name = "Ada Example"
email = "ada@keep.example.org"

[email]
from = "Keep Them Coming <letters@keep.example.org>"

[polls]
address = "polls@keep.example.org"
auto_topics = 2
"""
BACKLOG = """\
# What readers may vote for.
- id: health-score
  title: "A health score you can trust"
  added: 2025-12-01
- id: price-rises
  title: "Raising prices without losing customers"
  description: "How to announce a rise so good customers stay."
  added: 2025-12-01
- id: win-back
  title: "Winning back customers who left"
  added: 2025-12-01
- id: handover
  title: "Handing an account to a new manager"
  added: 2025-12-01
- id: communities
  title: "Customer communities"
  added: 2026-01-15
"""
# slug, date, extra front matter
LESSONS = [
    ("first-call", "2026-01-05", ""),
    ("listening", "2026-01-12", ""),
    ("renewals", "2026-01-19", ""),
    ("quiet-week", "2026-01-26", "poll: false\n"),
    ("pricing", "2026-02-02", "covers: price-rises\n"),
    ("loyalty", "2026-02-09", ""),
]
# What the rule gives, with 2 topics per poll: least offered first, then oldest, then by id.
EXPECTED_CHOICES = {
    "first-call": ["Handing an account to a new manager", "A health score you can trust"],
    "listening": ["Raising prices without losing customers", "Winning back customers who left"],
    "renewals": ["Customer communities", "Handing an account to a new manager"],  # communities joined on 2026-01-15
    "pricing": ["A health score you can trust", "Winning back customers who left"],  # price-rises is covered here
    "loyalty": ["Customer communities", "Handing an account to a new manager"],
}


def make_site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "lessons" / "course").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "lessonpress.toml").write_text(CONFIG, encoding="utf-8")
    (root / "data" / "topics.yml").write_text(BACKLOG, encoding="utf-8")
    for number, (slug, day, extra) in enumerate(LESSONS, start=1):
        title = slug.replace("-", " ").title()
        source = f"---\ntitle: \"{title}\"\ndate: {day}T07:00:00\nsummary: \"all about {slug}\"\n{extra}---\nThe lesson on {slug}.\n"
        (root / "lessons" / "course" / f"{number:02d}-{slug}.md").write_text(source, encoding="utf-8")
    return root


def build_site(root: Path) -> dict[str, bytes]:
    return build(root, BuildOptions(now=NOW), output=root / "output").files


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--site", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def choices(files: dict[str, bytes], slug: str) -> list[str]:
    """The poll choices a reader sees on a lesson page."""
    page = lxml.html.fromstring(files[f"course/{slug}/index.html"])
    return [text(link).removeprefix("Vote for ").strip("“”") for link in select(page, ".poll a.poll-choice") if "poll-write-in" not in link.get("class")]


def links(files: dict[str, bytes], slug: str) -> list[str]:
    """The vote links of a lesson's plain-text email, the last one being the write-in."""
    return re.findall(r"^\s+(mailto:\S+)$", files[f"email/course/{slug}.txt"].decode(), re.MULTILINE)


def mail_from(link: str, sender: str, when: datetime, body: str = "") -> EmailMessage:
    """What a mail client sends for a mailto link (RFC 6068)."""
    parts = urlsplit(link)
    fields = dict(pair.split("=", 1) for pair in parts.query.split("&"))
    message = EmailMessage()
    message["From"] = sender
    message["To"] = unquote(parts.path)
    message["Subject"] = unquote(fields["subject"])
    message["Date"] = format_datetime(when)
    message.set_content(unquote(fields.get("body", "")) + body)
    return message


@pytest.fixture
def voted(tmp_path: Path) -> Path:
    """The site after readers voted on three issues and the author tallied the mailbox."""
    root = make_site(tmp_path)
    files = build_site(root)
    first, listening, renewals = (links(files, slug) for slug in ("first-call", "listening", "renewals"))
    start = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
    mails = [
        # first-call: 3 for health-score (#2), 1 for handover (#1), 1 write-in
        *(mail_from(first[1], f"reader{n}@example.com", start + timedelta(hours=n)) for n in range(3)),
        mail_from(first[0], "reader9@example.com", start),
        mail_from(first[2], "reader8@example.com", start, "A lesson on thanking loyal customers, please"),
        # listening: 2 for price-rises (#1)
        *(mail_from(listening[0], f"reader{n}@example.com", start + timedelta(days=1, hours=n)) for n in range(2)),
        # renewals: 2 for communities (#1)
        *(mail_from(renewals[0], f"reader{n}@example.com", start + timedelta(days=2, hours=n)) for n in range(2)),
    ]
    box = mailbox.mbox(tmp_path / "votes.mbox")
    for mail in mails:
        box.add(mail)
    box.flush()
    code, output = run(root, "polls", "tally", str(tmp_path / "votes.mbox"))
    assert code == 0, output
    assert "Tallied 9 messages: 9 votes in 3 polls" in output
    return root


def test_each_lesson_offers_topics_by_the_rule_and_keeps_them(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    files = build_site(root)
    assert {slug: choices(files, slug) for slug in EXPECTED_CHOICES} == EXPECTED_CHOICES
    assert not select(lxml.html.fromstring(files["course/quiet-week/index.html"]), ".poll")  # poll: false opts out
    email = files["email/course/first-call.txt"].decode()
    assert "Which of these should a future lesson cover?" in email and "Or suggest your own topic:" in email
    assert build_site(root) == files  # a rebuild changes nothing

    code, output = run(root, "topics", "add", "Onboarding with twelve stakeholders", "--description", "Who to meet first.")
    assert code == 0, output
    assert re.fullmatch(r"Added topic 'onboarding-with-twelve-stakeholders' to data/topics\.yml:\d+ in [\d.]+ s\n", output)
    backlog = (root / "data" / "topics.yml").read_text(encoding="utf-8")
    assert backlog.startswith(BACKLOG) and "added: " + datetime.now(UTC).date().isoformat() in backlog
    # Published issues keep their choices; the new topic waits for lessons dated after today.
    assert {slug: choices(build_site(root), slug) for slug in EXPECTED_CHOICES} == EXPECTED_CHOICES


def test_votes_accumulate_per_topic_and_covered_topics_leave(voted: Path) -> None:
    files = build_site(voted)
    topics_page = lxml.html.fromstring(files["topics/index.html"])
    still = [(text(only(item, "h3")), text(only(item, ".meta"))) for item in topics_page.xpath("//section[@aria-labelledby='open-topics']//li")]
    assert still == [
        ("A health score you can trust", "3 votes in 2 polls"),
        ("Customer communities", "2 votes in 2 polls"),
        ("Handing an account to a new manager", "1 vote in 3 polls"),
        ("Winning back customers who left", "0 votes in 2 polls"),
    ]
    answered = topics_page.xpath("//section[@aria-labelledby='covered-topics']//li")
    assert [text(item) for item in answered] == ["Raising prices without losing customers 2 votes · answered by Pricing, Monday, 2 February 2026"]
    home = lxml.html.fromstring(files["index.html"])
    assert [text(item) for item in home.xpath("//section[@aria-labelledby='backlog-title']//li")][:2] == [
        "A health score you can trust 3 votes", "Customer communities 2 votes",
    ]
    # The issue after a poll shows its results with the topics' titles.
    results = only(lxml.html.fromstring(files["course/renewals/index.html"]), ".poll-results")
    assert "“Raising prices without losing customers” came first" in text(results)

    code, output = run(voted, "topics")
    assert code == 0, output
    assert output.index("health-score:") < output.index("communities:") < output.index("handover:") < output.index("Covered topics:") < output.index("price-rises:")
    assert "  health-score: A health score you can trust\n    3 votes in 2 polls\n      2026-02-02  course-pricing #1: 0 votes\n      2026-01-05  course-first-call #2: 3 votes\n" in output
    assert "      2026-02-09  course-loyalty #2: 0 votes\n      2026-01-19  course-renewals #2: 0 votes\n      2026-01-05  course-first-call #1: 1 vote\n" in output
    assert "; covered by course/pricing (2026-02-02)" in output
    assert re.search(r"^Listed 5 topics \(4 open, 1 covered\) with 8 votes in [\d.]+ s$", output, re.MULTILINE)


def test_you_asked_for_this_in_all_four_outputs(voted: Path) -> None:
    files = build_site(voted)
    line = "You asked for this: 2 readers voted for it — “Raising prices without losing customers”."
    page = lxml.html.fromstring(files["course/pricing/index.html"])
    assert text(only(page, "aside.asked-for")).startswith(line)
    feed = files["feed.xml"].decode()
    assert "<strong>You asked for this:</strong> 2 readers voted for it" in feed.replace("&lt;", "<").replace("&gt;", ">")
    email = lxml.html.fromstring(files["email/course/pricing.html"])
    assert text(only(email, "p.asked-for")).startswith(line)
    assert "You asked for this: 2 readers voted for it — “Raising prices without losing customers”." in " ".join(files["email/course/pricing.txt"].decode().split())  # the text part wraps at 78
    assert not [path for path, data in files.items() if b"You asked for this" in data and "pricing" not in path and path.endswith(".html") and path != "feed.xml"]


def test_write_ins_are_listed_and_promoted(voted: Path) -> None:
    code, output = run(voted, "topics", "write-ins")
    assert code == 0, output
    assert "course-first-call:1  (2026-01-05) “A lesson on thanking loyal customers, please”\n" in output
    code, output = run(voted, "topics", "promote", "course-first-call:1", "--title", "Thanking loyal customers")
    assert code == 0, output
    assert re.fullmatch(r"Promoted write-in course-first-call:1 to topic 'thanking-loyal-customers' in data/topics\.yml:\d+ in [\d.]+ s\n", output)
    assert "[now topic 'thanking-loyal-customers']" in run(voted, "topics", "write-ins")[1]
    code, output = run(voted, "topics", "promote", "course-first-call:1")
    assert code == 1 and "data/topics.yml: write-in 'course-first-call:1' is already topic 'thanking-loyal-customers'" in output
    code, output = run(voted, "topics", "promote", "course-listening:4")
    assert code == 1 and "data/polls/course-listening.json: has no write-in 'course-listening:4'" in output
    assert "thanking-loyal-customers: Thanking loyal customers\n    0 votes in 0 polls" in run(voted, "topics")[1]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("lessons/course/05-pricing.md", "covers: price-rises", "covers: price-rise"),
         "lessons/course/05-pricing.md:5: covers unknown topic 'price-rise' (did you mean 'price-rises'?): use an id from data/topics.yml"),
        (("data/topics.yml", "- id: handover", "- id: win-back"), "data/topics.yml:12: duplicate topic id 'win-back' (first on line 9): give each topic its own id"),
        (("data/topics.yml", '  title: "Customer communities"', '  title: "Customer communities'), "data/topics.yml:16: malformed YAML"),
        (("data/topics.yml", "  added: 2026-01-15", "  added: soon"), "data/topics.yml:17: cannot read added date 'soon': use YYYY-MM-DD"),
        (("data/topics.yml", "  added: 2026-01-15", "  covered_by: course/nothing"),
         "data/topics.yml:15: topic 'communities' has no 'added' date: add added: YYYY-MM-DD"),
        (("lessonpress.toml", "auto_topics = 2", "auto_topics = 9"), "lessonpress.toml:15: [polls] auto_topics must be 0 (no automatic polls) to 6"),
    ],
)
def test_bad_input_is_reported_at_its_line(tmp_path: Path, change: tuple[str, str, str], expected: str) -> None:
    root = make_site(tmp_path)
    name, old, new = change
    path = root / name
    assert old in path.read_text(encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    code, output = run(root, "build")
    assert code == 1
    assert expected in output
    assert "Traceback" not in output


def test_covered_by_in_the_backlog_and_no_automatic_polls(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    backlog = root / "data" / "topics.yml"
    backlog.write_text(backlog.read_text(encoding="utf-8").replace("  title: \"Winning back customers who left\"\n", "  title: \"Winning back customers who left\"\n  covered_by: course/listening\n"), encoding="utf-8")
    files = build_site(root)
    assert "Winning back customers who left" not in choices(files, "listening") + choices(files, "pricing")
    assert "From the readers’ topic backlog — “Winning back customers who left”" in text(only(lxml.html.fromstring(files["course/listening/index.html"]), "aside.asked-for"))

    config = root / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("auto_topics = 2", "auto_topics = 0"), encoding="utf-8")
    files = build_site(root)
    assert not any(b'class="poll"' in data for path, data in files.items() if path.startswith("course/"))
    assert "topics/index.html" in files  # the backlog is still shown
