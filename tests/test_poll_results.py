"""Poll results files: read back, checked, and shown in a later lesson's four outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessonpress.content.config import load_config
from lessonpress.content.typography import quote_style
from lessonpress.errors import BuildFailed
from lessonpress.render.wording import Wording
from lessonpress.site.model import OptionResult, PollResults
from lessonpress.site.polls import read_poll_results, results_json
from lessonpress.translations import load_translations, locale_for
from test_tally import build_site, example_site

POLL = "relationships-referral-partners"


def results(votes: tuple[int, ...], write_ins: tuple[str, ...] = ()) -> PollResults:
    total = sum(votes) + len(write_ins)
    texts = ("Written partner agreements", "Referral fees: pay or not?", "Partnering with competitors", "Co-hosting events with partners")
    return PollResults(
        poll=POLL,
        question="Which partnership topic would you like a future lesson on?",
        options=tuple(OptionResult(choice, text, count, total) for choice, (text, count) in enumerate(zip(texts, votes), start=1)),
        write_ins=write_ins,
        votes=total,
        ballots=total + 1,
        first_vote="2026-02-04T08:00:00+00:00",
        last_vote="2026-02-09T17:30:00+00:00",
    )


def save(root: Path, result: PollResults, name: str = POLL) -> Path:
    path = root / "data" / "polls" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(results_json(result), encoding="utf-8")
    return path


def test_numbers_bars_and_headlines() -> None:
    result = results((5, 2, 0, 1), ("More on <b>fees</b>", "Events"))
    assert [(option.percent, option.text_bar()) for option in result.options] == [(50, "#####-----"), (20, "##--------"), (0, "----------"), (10, "#---------")]
    words = Wording(load_translations(Path("."), "en"), locale_for("en"), quote_style("en"))
    assert words.poll_headline(result) == "You voted: “Written partner agreements” came first"
    assert words.poll_headline(results((3, 3, 3, 0))) == "You voted: “Written partner agreements”, “Referral fees: pay or not?” and “Partnering with competitors” tied for first place"
    german = Wording(load_translations(Path("."), "de"), locale_for("de"), quote_style("de"))
    assert german.poll_headline(results((3, 3, 0, 0))) == "Ihre Wahl: „Written partner agreements“ und „Referral fees: pay or not?“ teilen sich den ersten Platz"
    assert [option.choice for option in results((1, 4, 4, 0)).ranked] == [2, 3, 1, 4]


def test_results_files_read_back_exactly(tmp_path: Path) -> None:
    root = example_site(tmp_path)
    original = results((5, 2, 0, 1), ("Events",))
    save(root, original)
    found, errors = read_poll_results(load_config(root)[0])
    assert errors == [] and found == {POLL: original}


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        ('{\n  "poll": "x",\n  "options": [,]\n}\n', POLL, f"data/polls/{POLL}.json:3: invalid JSON (Expecting value): fix it or run 'lessonpress polls tally' again"),
        ('{"poll": "x"}\n', POLL, f"data/polls/{POLL}.json:1: is not a poll results file (problem with 'totals': missing)"),
        (None, "renamed", f"data/polls/renamed.json:1: holds poll '{POLL}' but is named renamed.json: rename it to {POLL}.json"),
    ],
)
def test_broken_results_files_fail_the_build_with_their_line(tmp_path: Path, content: str | None, name: str, expected: str) -> None:
    root = example_site(tmp_path)
    path = save(root, results((1, 0, 0, 0)), name)
    if content is not None:
        path.write_text(content)
    with pytest.raises(BuildFailed) as caught:
        build_site(root)
    assert expected in caught.value.format_message()


def test_named_results_and_chosen_write_ins_in_all_four_outputs(tmp_path: Path) -> None:
    root = example_site(tmp_path)
    save(root, results((5, 2, 0, 1), ("More on <b>fees</b>", "Events with competitors")))
    # A lesson in another place names the poll and asks for the write-ins.
    lesson = root / "lessons" / "relationships" / "04-when-your-champion-leaves.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("---\n", f"---\npoll_results: {POLL}\nshow_write_ins: true\n", 1), encoding="utf-8")
    files = build_site(root)

    headline = "You voted: “Written partner agreements” came first"
    page = files["relationships/when-your-champion-leaves/index.html"].decode()
    assert headline in page and 'style="width: 50%"' in page and "“More on &lt;b&gt;fees&lt;/b&gt;”" in page
    feed = files["relationships/feed.xml"].decode()
    assert headline in feed and "Events with competitors" in feed
    email_html = files["email/relationships/when-your-champion-leaves.html"].decode()
    assert headline in email_html and 'width="50%"' in email_html and "More on &lt;b&gt;fees&lt;/b&gt;" in email_html
    email_text = files["email/relationships/when-your-champion-leaves.txt"].decode()
    assert "#####-----    5 (50%)  Written partner agreements" in email_text
    assert '- “More on <b>fees</b>”' in email_text
    # The lesson right after the poll shows the counts too, but not the write-ins it did not ask for.
    next_page = files["relationships/customer-advisory-boards/index.html"].decode()
    assert headline in next_page and "Events with competitors" not in next_page
