"""Hostile reader mail and the data it leaves behind: no vote, write-in or reply may break a build, stall a tally or reach a terminal raw."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import run_cli, snapshot

POLL = "retention-first-days"
RESULTS = f"data/polls/{POLL}.json"
WRITE_IN = f"Vote: {POLL} write-in"
PROMPT = "My suggestion for a future lesson: "
DATE = "Wed, 14 Jan 2026 09:45:00 +0000"


@pytest.fixture
def site(basic: Path) -> Path:
    """The basic project with a write-in poll, and the next lesson showing its write-ins."""
    lesson = basic / "lessons" / "retention" / "02-first-days.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("write_in: false", "write_in: true"), encoding="utf-8")
    following = basic / "lessons" / "retention" / "03-renewals.md"
    following.write_text(following.read_text(encoding="utf-8").replace("tags: [renewals]\n", "tags: [renewals]\nshow_write_ins: true\n"), encoding="utf-8")
    return basic


def mail(subject: str, body: bytes | str = b"", *, sender: str = "Ana <ana@example.com>", date: str = DATE, headers: str = "") -> bytes:
    """One raw message, written byte by byte so any header or encoding can be hostile."""
    head = f"From: {sender}\nTo: replies+first-days@example.org\nSubject: {subject}\nDate: {date}\nMIME-Version: 1.0\n{headers}"
    return head.encode("utf-8", "surrogateescape") + b"\n" + (body.encode("utf-8") if isinstance(body, str) else body)


def mbox(folder: Path, *messages: bytes) -> str:
    path = folder / "in.mbox"
    path.write_bytes(b"".join(b"From reader@example.com Wed Jan 14 09:45:00 2026\n" + message + b"\n" for message in messages))
    return str(path)


def vote(choice: int, sender: str) -> bytes:
    return mail(f"Vote: {POLL} #{choice} Whatever", sender=sender)


def counts(site: Path) -> list[int]:
    data = json.loads((site / RESULTS).read_text(encoding="utf-8"))
    return [option["votes"] for option in data["options"]] + [data["totals"]["write_ins"]]


CONTROLS = "\x1b[31mred\x1b[0m \x08\x00\x07 \x9b2J \u2028 \u202eevil\u202c \x7f"


def test_control_characters_in_a_write_in_never_break_a_build_or_check(site: Path) -> None:
    source = mbox(site, mail(WRITE_IN, PROMPT + "Onboarding " + CONTROLS + " please\n", headers="Content-Type: text/plain; charset=utf-8\n"))
    assert run_cli(site, "polls", "tally", source).status == 0
    stored = (site / RESULTS).read_text(encoding="utf-8")
    assert "Onboarding" in stored and not any(character in json.loads(stored)["write_ins"][0] for character in "\x1b\x08\x00\x07\x9b\u2028\u202e\x7f")
    assert run_cli(site, "build", "--future").status == 0
    assert "Onboarding" in (site / "output" / "feed.xml").read_text(encoding="utf-8")
    promoted = run_cli(site, "topics", "promote", f"{POLL}:1")
    assert promoted.status == 0, promoted.said
    assert "\x1b" not in (site / "data" / "topics.yml").read_text(encoding="utf-8")
    assert run_cli(site, "build", "--future").status == 0
    assert run_cli(site, "check").status == 0


def test_data_files_already_holding_control_characters_still_build(site: Path) -> None:
    """A results file or backlog from an older version, or hand-edited, holds the characters raw or escaped."""
    results = {
        "format": 1, "poll": POLL, "question": "Which \u001b[2J topic?",
        "options": [{"choice": number, "text": f"Option\u0008 {number}", "votes": 1} for number in (1, 2, 3)],
        "write_ins": ["evil \u001b]0;title\u0007 text", "lone \ud800 surrogate", "bidi \u202e text"],
        "totals": {"votes": 6, "write_ins": 3, "ballots": 6}, "first_vote": "", "last_vote": "",
    }
    (site / "data" / "polls").mkdir(parents=True)
    (site / RESULTS).write_text(json.dumps(results), encoding="utf-8")
    (site / "data" / "topics.yml").write_bytes(
        b'- id: raw\n  title: "Raw \x1b[31m escape"\n  added: 2025-01-01\n- id: quoted\n  title: "Quoted \\e[31m and \\u2028 \\ud800"\n  added: 2025-01-01\n'
    )
    built = run_cli(site, "build", "--future")
    assert built.status == 0, built.said
    for name in ("feed.xml", "atom.xml"):
        assert "evil" in (site / "output" / name).read_text(encoding="utf-8")
    listed = run_cli(site, "topics", "write-ins")
    assert listed.status == 0 and "evil" in listed.stdout and "\x1b" not in listed.said
    topics = run_cli(site, "topics")
    assert topics.status == 0 and "Raw" in topics.stdout and "\x1b" not in topics.said


def test_reader_text_is_escaped_on_every_terminal(site: Path) -> None:
    hostile_name = "=?utf-8?q?=1B]0;pwned=07Eve=1B[2J?= <eve@example.com>"
    source = mbox(
        site,
        mail(WRITE_IN, PROMPT + "topic \x1b[31mred\n", sender=hostile_name),
        mail("Re: The First Days", "thanks \x1b[2J\x1b[H cleared\n", sender=hostile_name),
    )
    tallied = run_cli(site, "polls", "tally", source)
    replies = run_cli(site, "replies", source)
    as_json = run_cli(site, "replies", "--json", source)
    listed = run_cli(site, "topics", "write-ins")
    for run in (tallied, replies, as_json, listed):
        assert run.status == 0, run.said
        assert "\x1b" not in run.said and "\x07" not in run.said
    assert "topic" in tallied.stdout and "topic" in listed.stdout
    assert "Eve" in replies.stdout and "cleared" in replies.stdout
    assert json.loads(as_json.stdout)["lessons"][0]["replies"][0]["name"] == "]0;pwned Eve [2J"


def test_terminal_escapes_are_visible_not_hidden() -> None:
    from lessonpress.untrusted import terminal_text

    assert terminal_text("a\x1b[31mb\tc\u202ed\x9b") == "a\\x1b[31mb\\x09c\\u202ed\\x9b"


@pytest.mark.parametrize(
    "body",
    [
        "a" * 262_144,  # no "@": the old address pattern backtracked for 216 s
        "a." * 131_072 + "@",
        "x@" * 131_072,
        PROMPT.rstrip() + " " * 262_144 + "idea",  # the prompt cut tried every prefix of the line
        "am " + " schrieb x" * 30_000,  # an attribution pattern with two wildcards
    ],
    ids=["no-at", "dots-then-at", "many-at", "spaced-prompt", "attribution"],
)
def test_a_long_write_in_line_is_tallied_in_bounded_time(site: Path, body: str) -> None:
    source = mbox(site, mail(WRITE_IN, body + "\n"), vote(1, "ben@example.com"))
    run = run_cli(site, "polls", "tally", source, timeout=20)
    assert run.status == 0, run.said
    assert counts(site)[0] == 1


def test_oversized_and_overbuilt_messages_are_skipped_with_a_report(site: Path) -> None:
    parts = "".join("--b\nContent-Type: text/plain\n\nx\n" for _ in range(2_000)) + "--b--\n"
    source = mbox(
        site,
        mail(f"Vote: {POLL} #2 Kickoff", b"a" * (11 * 1024 * 1024), headers="Message-ID: <big.1@example.com>\n"),
        mail(f"Vote: {POLL} #2 Kickoff", parts, headers="Content-Type: multipart/mixed; boundary=b\n", sender="c@example.com"),
        mail(f"Vote: {POLL} #2 Kickoff", b"", headers="X-Filler: " + "a" * 300_000 + "\n", sender="d@example.com"),
        mail(f"Vote: {POLL} #3 Time", b"", sender="(" * 5_000 + "e@example.com"),
        vote(1, "ben@example.com"),
    )
    run = run_cli(site, "polls", "tally", source, timeout=30)
    assert run.status == 0
    assert "skipped message <big.1@example.com>: larger than 10 MB, the limit for one message" in run.stderr
    assert "more than 500 MIME parts" in run.stderr and "headers larger than 256 KB" in run.stderr and "nested too deeply" in run.stderr
    assert counts(site) == [1, 0, 0, 0]


def test_a_large_mbox_is_read_in_linear_time(site: Path) -> None:
    """Three 9 MB messages: reading by concatenation took minutes; each is under the limit and counted."""
    big = [mail(f"Vote: {POLL} #3 Time", "x" * 72 + "\n" * 0 + ("y" * 79 + "\n") * 115_000, sender=f"r{number}@example.com") for number in range(3)]
    run = run_cli(site, "polls", "tally", mbox(site, *big), timeout=45)
    assert run.status == 0 and counts(site) == [0, 0, 3, 0]


@pytest.mark.parametrize(
    "date",
    ["Fri, 31 Dec 9999 23:59:59 -1200", "Mon, 01 Jan 0001 00:00:00 +1400", "99999999999999999999", "Wed, 14 Jan 2026 99:99:99 +0000"],
)
def test_an_impossible_date_makes_an_undated_vote_with_a_notice(site: Path, date: str) -> None:
    source = mbox(site, mail(f"Vote: {POLL} #2 Kickoff", date=date), vote(1, "ben@example.com"))
    run = run_cli(site, "polls", "tally", source)
    assert run.status == 0 and counts(site) == [1, 1, 0, 0]
    if "9999 " in date or "99:99" in date or date.isdigit():
        assert "unusable Date" in run.stderr


def test_option_numbers_are_exact_and_unknown_ones_are_reported(site: Path) -> None:
    source = mbox(site, mail(f"Vote: {POLL} #12 Welcome calls"), mail(f"Vote: {POLL} #3", sender="b@example.com"),
                  mail(f"Vote: {POLL} #0", sender="c@example.com"), mail(f"Vote: {POLL} #1{'0' * 5000}", sender="d@example.com"))
    run = run_cli(site, "polls", "tally", source)
    assert run.status == 0
    assert counts(site) == [0, 0, 1, 0], "a vote for #12 must not count as #1"
    assert f"in.mbox:1: warning: unmatched vote 'Vote: {POLL} #12 Welcome calls': poll '{POLL}' has options #1 to #3; not counted" in run.stderr
    assert run.stderr.count("unmatched vote") == 3


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda data: data["options"][0].update(votes=-3), "'options[0].votes': -3 is not a count"),
        (lambda data: data["options"][1].update(votes=2.5), "'options[1].votes': 2.5 is not a whole number"),
        (lambda data: data["options"][1].update(votes="2"), "'options[1].votes': \"2\" is not a whole number"),
        (lambda data: data["options"][1].update(votes=True), "'options[1].votes': true is not a whole number"),
        (lambda data: data["options"][2].update(votes=10**12), "'options[2].votes': 1000000000000 is not a count"),
        (lambda data: data["totals"].update(votes=-1), "'totals.votes': -1 is not a count"),
        (lambda data: data["totals"].update(votes=0), "'totals.votes': 0 is less than the options' votes added up"),
        (lambda data: data["totals"].update(ballots=0), "'totals.ballots': 0 is less than 'totals.votes'"),
        (lambda data: data["options"][0].update(choice=3), "'options[0].choice': 3 is out of order"),
        (lambda data: data.update(write_ins=[{"text": 1}]), "'write_ins': {\"text\": 1} is not a string"),
        (lambda data: data.update(question=None), "'question': null is not a string"),
    ],
)
def test_hand_edited_vote_counts_are_clear_errors(site: Path, edit: Callable[[dict], object], expected: str) -> None:
    assert run_cli(site, "polls", "tally", mbox(site, vote(1, "a@example.com"), vote(2, "b@example.com"))).status == 0
    data = json.loads((site / RESULTS).read_text(encoding="utf-8"))
    edit(data)
    (site / RESULTS).write_text(json.dumps(data), encoding="utf-8")
    built = run_cli(site, "build", "--future")
    assert built.status == 1
    assert f"{RESULTS}:1: is not a poll results file (problem with {expected}" in built.stderr
    assert "run 'lessonpress polls tally' again to rewrite it" in built.stderr


def test_a_number_too_long_for_python_is_a_clear_error(site: Path) -> None:
    (site / "data" / "polls").mkdir(parents=True)
    (site / RESULTS).write_text('{"poll": "' + POLL + '", "totals": {"votes": ' + "9" * 5000 + "}}", encoding="utf-8")
    built = run_cli(site, "build", "--future")
    assert built.status == 1 and f"{RESULTS}: holds a number too long or nesting too deep" in built.stderr


HEADERS = {
    "encoded-control-subject": mail("=?utf-8?q?Vote=3A_" + POLL + "_=232_=1B[2JKickoff?="),
    "unknown-charset-subject": mail("=?x-unknown?q?Vote=3A_" + POLL + "_=232_Kickoff?="),
    "broken-base64-subject": mail("=?utf-8?b?!!!?="),
    "unknown-body-charset": mail(f"Vote: {POLL} #2 K", b"caf\xc3\xa9", headers="Content-Type: text/plain; charset=x-unknown\n"),
    "long-charset": mail(f"Vote: {POLL} #2 K", b"x", headers="Content-Type: text/plain; charset=" + "x" * 10_000 + "\n"),
    "broken-base64-body": mail(f"Vote: {POLL} #2 K", b"!!!!====abc", headers="Content-Transfer-Encoding: base64\n"),
    "broken-qp-body": mail(f"Vote: {POLL} #2 K", b"=ZZ=\n=1", headers="Content-Transfer-Encoding: quoted-printable\n"),
    "huge-message-id": mail(f"Vote: {POLL} #2 K", headers="Message-ID: <" + "a" * 200_000 + ">\n"),
    "control-message-id": mail(f"Vote: {POLL} #2 K", headers="Message-ID: <\x1b[2J@x>\n"),
    "nested-multipart": mail(f"Vote: {POLL} #2 K", "".join(f"--b{depth}\nContent-Type: multipart/mixed; boundary=b{depth + 1}\n\n" for depth in range(450)),
                             headers="Content-Type: multipart/mixed; boundary=b0\n"),
    "html-of-angles": mail(f"Vote: {POLL} #2 K", "<" * 500_000, headers="Content-Type: text/html\n"),
    "utf8-surrogate-bytes": mail(f"Vote: {POLL} #2 K", b"\xed\xa0\x80", headers="Content-Type: text/plain; charset=utf-8\n"),
    "control-display-name": mail(f"Vote: {POLL} #2 K", sender="=?utf-8?q?=00=1B=07?= <z@example.com>"),
    "no-at-from": mail(f"Vote: {POLL} #2 K", sender="nobody"),
    "many-prefixes": mail("Re: " * 5_000 + f"Vote: {POLL} #2 K"),
    "open-brackets-subject": mail("[" * 50_000),
}


@pytest.mark.parametrize("message", HEADERS.values(), ids=HEADERS.keys())
def test_hostile_headers_and_encodings_cost_at_most_their_own_vote(site: Path, message: bytes) -> None:
    before = snapshot(site / "lessons")
    source = mbox(site, message, vote(1, "ben@example.com"))
    for command in (("polls", "tally", source), ("replies", source)):
        run = run_cli(site, *command, timeout=30)
        assert run.status == 0, run.said
        assert "\x1b" not in run.said and "\x00" not in run.said
    assert counts(site)[0] == 1, "the good vote after the hostile message still counts"
    assert run_cli(site, "build", "--future").status == 0
    assert snapshot(site / "lessons") == before


def test_a_handoff_whose_time_is_not_ascii_digits_is_reported_not_raised() -> None:
    """"²" passes str.isdigit but not int(): one such mail to the list used to stop every later inbox pass."""
    from lessonpress.mail.handoff import read_handoff

    for at in ("²", "١٢٣", "-5", "1" * 13):
        text = f"lessonpress-handoff: 1\naction: unsubscribe\naddress: ann@example.org\nat: {at}\nstamp: {'0' * 32}\n"
        assert read_handoff(text, "a-secret", now=1_800_000_000) == "a hand-off from the endpoint that is not whole (cut short or altered)"
