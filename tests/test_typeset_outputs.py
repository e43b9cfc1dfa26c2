"""Front-matter text is typeset like the body, in the site's language, and reads the same in every output.

A golden test: one small site, built in English, German and French, and the reviewed strings a reader sees
in the page, the feed (feedparser), the subject (MIME-parsed) and both parts of the email.
"""

from __future__ import annotations

import email
import json
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import lxml.html
import pytest

from lessonpress.build import BuildResult, build
from lessonpress.content.lesson import Poll
from lessonpress.content.typography import QUOTE_STYLES, quote_style, typeset
from lessonpress.mail.tally import subject_key
from lessonpress.render.mailto import vote_subject
from lessonpress.site.model import BuildOptions
from test_tally import at, mailto_links, message_from_link, raw_message, run, write_mbox

NOW = datetime(2026, 3, 1, tzinfo=UTC)
N = "\u202f"  # narrow no-break space

CONFIG = """\
[site]
title = "Anna's Letters"
url = "https://example.org/"
language = "{language}"
reply_prompt = "What's your \\"one\\" habit?"

[author]
name = "Anna"
email = "anna@example.org"

[polls]
address = "polls@example.org"
"""
SERIES = """\
---
title: 'The "Habit" Course'
description: "Small steps -- every week..."
---
"""
FIRST = """\
---
title: '"Why" they stay -- and leave...'
date: 2026-01-05
summary: "It's the 'small' things."
---
"Why" they stay -- and leave...

It's the 'small' things.
"""
SECOND = """\
---
title: '"Second steps"'
date: 2026-01-12
preheader: 'Keep a \\"straight\\" quote.'
poll:
  question: 'Which "next" lesson?'
  options: ['"Quick wins" first', 'Calls or mail?']
---
Hello.

<!-- poll -->
"""

# Reviewed by hand: what a reader of each language sees.
EXPECTED = {
    "en": {
        "site": "Anna’s Letters",
        "series": "The “Habit” Course",
        "description": "Small steps – every week…",
        "title": "“Why” they stay – and leave…",
        "summary": "It’s the ‘small’ things.",
        "second": "“Second steps”",
        "question": "Which “next” lesson?",
        "options": ("“Quick wins” first", "Calls or mail?"),
        "votes": ("Vote for “‘Quick wins’ first”", "Vote for “Calls or mail?”"),
        "prompt": "What’s your “one” habit?",
        "footer": ("Read “‘Why’ they stay – and leave…” in your browser", "Read “Second steps” in your browser"),
        "recap": "Last time:",
        "ps": "P.S.",
        "headline": "You voted: “‘Quick wins’ first” came first",
    },
    "de": {
        "site": "Anna’s Letters",
        "series": "The „Habit“ Course",
        "description": "Small steps – every week…",
        "title": "„Why“ they stay – and leave…",
        "summary": "It’s the ‚small‘ things.",
        "second": "„Second steps“",
        "question": "Which „next“ lesson?",
        "options": ("„Quick wins“ first", "Calls or mail?"),
        "votes": ("Für „‚Quick wins‘ first“ stimmen", "Für „Calls or mail?“ stimmen"),
        "prompt": "What’s your „one“ habit?",
        "footer": ("„‚Why‘ they stay – and leave…“ im Browser lesen", "„Second steps“ im Browser lesen"),
        "recap": "Letztes Mal:",
        "ps": "PS:",
        "headline": "Ihre Wahl: „‚Quick wins‘ first“ liegt vorn",
    },
    "fr": {
        "site": "Anna’s Letters",
        "series": f"The «{N}Habit{N}» Course",
        "description": "Small steps – every week…",
        "title": f"«{N}Why{N}» they stay – and leave…",
        "summary": "It’s the “small” things.",
        "second": f"«{N}Second steps{N}»",
        "question": f"Which «{N}next{N}» lesson{N}?",
        "options": (f"«{N}Quick wins{N}» first", f"Calls or mail{N}?"),
        "votes": (f"Voter pour «{N}“Quick wins” first{N}»", f"Voter pour «{N}Calls or mail{N}?{N}»"),
        "prompt": f"What’s your «{N}one{N}» habit{N}?",
        "footer": (f"Lire «{N}“Why” they stay – and leave…{N}» dans votre navigateur", f"Lire «{N}Second steps{N}» dans votre navigateur"),
        "recap": f"La dernière fois{N}:",
        "ps": "P.-S.",
        "headline": f"Vous avez voté{N}: «{N}“Quick wins” first{N}» arrive en tête",
    },
}


def make_site(root: Path, language: str) -> Path:
    (root / "lessons" / "habits").mkdir(parents=True)
    (root / "lessonpress.toml").write_text(CONFIG.format(language=language), encoding="utf-8")
    (root / "lessons" / "habits" / "_index.md").write_text(SERIES, encoding="utf-8")
    (root / "lessons" / "habits" / "01-why.md").write_text(FIRST, encoding="utf-8")
    (root / "lessons" / "habits" / "02-second.md").write_text(SECOND, encoding="utf-8")
    return root


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], BuildResult]:
    language = request.param
    root = make_site(tmp_path_factory.mktemp(language), language)
    return EXPECTED[language], build(root, BuildOptions(now=NOW), output=root / "output")


def html_text(data: bytes | str, selector: str = "body") -> list[str]:
    """The text of each element matching a CSS-ish selector (tag or .class), whitespace as the browser collapses it."""
    root = lxml.html.fromstring(data)
    found = root.find_class(selector[1:]) if selector.startswith(".") else root.iter(selector)
    return [" ".join(element.text_content().split(" ")).replace("\n", " ").strip() for element in found]


def message(result: BuildResult, slug: str) -> tuple[str, str, str]:
    """The subject, the plain text and the HTML of one lesson's .eml, MIME-parsed."""
    parsed = email.message_from_bytes(result.files[f"email/habits/{slug}.eml"], policy=default)
    assert isinstance(parsed, EmailMessage)
    plain, html = parsed.get_payload()
    return str(parsed["Subject"]), plain.get_content(), html.get_content()


def test_pages_show_typeset_front_matter(built: tuple[dict, BuildResult]) -> None:
    expected, result = built
    page = result.files["habits/why/index.html"]
    assert html_text(page, "h1") == [expected["title"]]
    # The body set from the same words agrees with the front matter.
    body = html_text(page, ".lesson-body") or html_text(page, "article")
    assert expected["title"] in body[0] and expected["summary"] in body[0]
    home = result.files["index.html"].decode()
    assert expected["summary"] in home and expected["site"] in home and expected["series"] in home and expected["description"] in home
    second = result.files["habits/second/index.html"]
    assert html_text(second, "h1") == [expected["second"]]
    poll = " ".join(html_text(second, ".poll"))
    assert expected["question"] in poll and all(vote in poll for vote in expected["votes"])
    assert f"{expected['ps']} {expected['prompt']}" in " ".join(html_text(second, ".reply-prompt"))


def test_feed_entries_are_typeset(built: tuple[dict, BuildResult]) -> None:
    expected, result = built
    for path in ("feed.xml", "atom.xml", "habits/feed.xml"):
        feed = feedparser.parse(result.files[path])
        titles = {entry.title: entry for entry in feed.entries}
        assert set(titles) == {expected["title"], expected["second"]}, path
        assert titles[expected["title"]].summary == expected["summary"]
    assert feedparser.parse(result.files["feed.xml"]).feed.title == expected["site"]
    assert feedparser.parse(result.files["habits/feed.xml"]).feed.title.startswith(expected["series"])


def test_email_subject_and_both_parts_carry_the_same_characters(built: tuple[dict, BuildResult]) -> None:
    expected, result = built
    subject, plain, html = message(result, "why")
    assert subject == expected["title"]
    assert html_text(html, "h1") == [expected["title"]]
    assert expected["title"] in plain.splitlines()
    subject, plain, html = message(result, "second")
    assert subject == expected["second"]
    html_words = " ".join(html_text(html))
    # Last time: the title and summary, with the same em dash in both parts.
    recap = f"{expected['recap']} {expected['title']} — {expected['summary']}"
    assert recap in html_words and recap in plain
    for text in (expected["question"], expected["prompt"], expected["site"]):
        assert text in html_words and text in plain, text
    # The HTML's buttons quote each option (its own quotes nested inside); the text part lists them as they are.
    assert all(vote in html_words for vote in expected["votes"])
    assert all(f"{number}. {option}" in plain for number, option in enumerate(expected["options"], start=1))
    assert "Keep a \"straight\" quote." in html  # a backslash keeps a quote straight, as in the body
    # No en dash where the HTML has an em dash; German's own sentences set a spaced en dash, in both parts alike.
    theme_dash = "– ich lese jede Antwort" if "ich lese" in plain else ""
    assert theme_dash in html_words
    assert "–" not in plain.replace(expected["title"], "").replace(expected["description"], "").replace(theme_dash, "")


def test_nothing_is_quoted_twice(built: tuple[dict, BuildResult]) -> None:
    expected, result = built
    for slug, footer in zip(("why", "second"), expected["footer"]):
        _, _, html = message(result, slug)
        assert footer in " ".join(html_text(html))
    # Pages and email parts (a feed's content:encoded escapes HTML into XML once more, rightly).
    for path, output in result.files.items():
        if path.endswith((".html", ".txt")):
            for double in ("““", "””", "„„", "‚‚", "««", "»»", "&amp;ldquo;", "&amp;#"):
                assert double.encode() not in output, (path, double)


def test_typeset_text_is_escaped_once(tmp_path: Path) -> None:
    root = make_site(tmp_path, "en")
    lesson = root / "lessons" / "habits" / "01-why.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("title: '\"Why\"", "title: '\"Why\" & <b>co</b>"), encoding="utf-8")
    result = build(root, BuildOptions(now=NOW), output=root / "output")
    page = result.files["habits/why/index.html"].decode()
    assert "<h1>“Why” &amp; &lt;b&gt;co&lt;/b&gt; they stay – and leave…</h1>" in page
    subject, plain, html = message(result, "why")
    assert subject == "“Why” & <b>co</b> they stay – and leave…"
    assert "“Why” & <b>co</b> they stay – and leave…" in plain
    assert "Read “‘Why’ &amp; &lt;b&gt;co&lt;/b&gt; they stay – and leave…” in your browser" in html


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_tally_counts_votes_typeset_and_cast_before_typesetting(tmp_path: Path, language: str) -> None:
    """Vote subjects carry the option's text: the new links' (typeset, French spaces) and old mails' (straight quotes) count alike."""
    root = make_site(tmp_path / "site", language)
    result = build(root, BuildOptions(now=NOW), output=root / "output")
    _, plain, html = message(result, "second")
    links = mailto_links(plain)
    assert links == mailto_links(html) and len(links) == 3
    one, two, _write_in = links
    assert unquote(urlsplit(one).query).endswith(f"#1 {EXPECTED[language]['options'][0]}")  # the reader's subject shows the typeset option
    mails = [
        message_from_link(one, "ann@example.com", at(1)),
        message_from_link(two, "bob@example.com", at(2), prefix="Re: "),
        # Cast from links made before options were typeset: straight quotes, plain spaces.
        raw_message("cat@example.com", 'Vote: habits-second #1 "Quick wins" first', at(3), b"x\r\n"),
        raw_message("dan@example.com", "Vote: habits-second #2 Calls or mail?", at(4), b"x\r\n"),
        raw_message("eve@example.com", "Vote: habits-second #1 “Quick wins” first", at(5), b"x\r\n", "Content-Type: text/plain; charset=utf-8\r\n"),
    ]
    code, output = run(root, "polls", "tally", str(write_mbox(tmp_path / "votes.mbox", mails)))
    assert code == 0, output
    data = json.loads((root / "data" / "polls" / "habits-second.json").read_text(encoding="utf-8"))
    assert {option["choice"]: option["votes"] for option in data["options"]} == {1: 3, 2: 2}
    assert [option["text"] for option in data["options"]] == list(EXPECTED[language]["options"])
    # The results, shown in a lesson, name the winner in the language's quotes, its own quotes nested.
    lesson = root / "lessons" / "habits" / "01-why.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("---\n", "---\npoll_results: habits-second\n", 1), encoding="utf-8")
    page = build(root, BuildOptions(now=NOW), output=root / "output").files["habits/why/index.html"]
    assert EXPECTED[language]["headline"] in " ".join(html_text(page, "h2"))


@pytest.mark.parametrize("language", sorted(QUOTE_STYLES))
def test_vote_subject_keys_do_not_depend_on_typesetting(language: str) -> None:
    raw = Poll(id="habits-second", question="Which?", options=('"Quick wins" first', "Calls -- or mail?", "'90s tactics..."))
    typeset_poll = replace(raw, options=tuple(typeset(option, quote_style(language)) for option in raw.options))
    for choice in (1, 2, 3):
        assert subject_key(vote_subject(typeset_poll, choice)) == subject_key(vote_subject(raw, choice).replace("--", "-"))


def test_changing_the_language_sets_cached_lessons_again(tmp_path: Path) -> None:
    """The parse cache keys on the language: lessons parsed in English are not reused for a German site."""
    root = make_site(tmp_path, "en")
    english = build(root, BuildOptions(now=NOW), output=root / "output")
    assert html_text(english.files["habits/why/index.html"], "h1") == [EXPECTED["en"]["title"]]
    config = root / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('language = "en"', 'language = "de"'), encoding="utf-8")
    german = build(root, BuildOptions(now=NOW), output=root / "output")
    assert html_text(german.files["habits/why/index.html"], "h1") == [EXPECTED["de"]["title"]]
    assert "&bdquo;Why&ldquo; they stay" in german.files["habits/why/index.html"].decode()  # the body too
