"""Our typography pass gives byte for byte the HTML of Python-Markdown's `smarty`, which it replaces."""

from __future__ import annotations

import sys
from html import unescape
from pathlib import Path

import pytest
from markdown import Markdown

from lessonpress.content.frontmatter import decode_source, split_front_matter
from lessonpress.content.markdown import LessonExtension, convert, make_markdown
from lessonpress.content.typography import quote, quote_style, typeset

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
from generator import generate, write_lessonpress

EXAMPLE_LESSONS = Path(__file__).parents[1] / "lessons"
GENERATED_LESSONS = 300


@pytest.fixture(scope="module")
def smarty() -> Markdown:
    """The converter lessonpress used before: the same extensions, with smarty for typography."""
    return Markdown(
        extensions=["extra", "toc", "smarty", "sane_lists", LessonExtension()],
        extension_configs={"toc": {"permalink": False}},
        output_format="html",
    )


@pytest.fixture(scope="module")
def ours() -> Markdown:
    return make_markdown()


def bodies(root: Path) -> list[tuple[str, str]]:
    """Every Markdown file under `root` (lessons and series indexes) as (path, body after front matter)."""
    return [
        (str(path.relative_to(root)), split_front_matter(decode_source(path.read_bytes()), required=False).body)
        for path in sorted(root.rglob("*.md"))
    ]


def assert_same_html(documents: list[tuple[str, str]], smarty: Markdown, ours: Markdown) -> None:
    different = [name for name, body in documents if convert(ours, body) != convert(smarty, body)]
    assert not different, f"{len(different)} of {len(documents)} differ from smarty, e.g. {different[:3]}"


def test_example_site_is_converted_as_with_smarty(smarty: Markdown, ours: Markdown) -> None:
    documents = bodies(EXAMPLE_LESSONS)
    assert len(documents) >= 13
    assert_same_html(documents, smarty, ours)


def test_generated_lessons_are_converted_as_with_smarty(tmp_path: Path, smarty: Markdown, ours: Markdown) -> None:
    write_lessonpress(generate(GENERATED_LESSONS, seed=3), tmp_path)
    documents = bodies(tmp_path / "lessons")
    assert len(documents) > GENERATED_LESSONS  # and the series indexes
    assert_same_html(documents, smarty, ours)


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ('She said "keep it".', "<p>She said &ldquo;keep it&rdquo;.</p>"),
        ('"Quoted" first.', "<p>&ldquo;Quoted&rdquo; first.</p>"),
        ("A 'single' quote.", "<p>A &lsquo;single&rsquo; quote.</p>"),
        ("It's the customer's call.", "<p>It&rsquo;s the customer&rsquo;s call.</p>"),
        ("Back in the '90s.", "<p>Back in the &rsquo;90s.</p>"),
        ('He said, "\'Quoted\' words."', "<p>He said, &ldquo;&lsquo;Quoted&rsquo; words.&rdquo;</p>"),
        ("Days 1--7, not 8---30.", "<p>Days 1&ndash;7, not 8&mdash;30.</p>"),
        ("A pause... then more.", "<p>A pause&hellip; then more.</p>"),
        ('"*Emphasis*" and "[a link](https://example.org)".', '<p>&ldquo;<em>Emphasis</em>&rdquo; and &ldquo;<a href="https://example.org">a link</a>&rdquo;.</p>'),
        # smarty educates each text between tags on its own, so a quote after emphasis at the end opens.
        ('"*Emphasis*"', "<p>&ldquo;<em>Emphasis</em>&ldquo;</p>"),
        ('Type `"it\'s" -- ...` as is.', "<p>Type <code>\"it's\" -- ...</code> as is.</p>"),
        ("```\nprint(\"it's\") -- ...\n```", "<pre><code>print(&quot;it's&quot;) -- ...\n</code></pre>"),
        ("[the 'plan'](https://example.org/it's--here...)", '<p><a href="https://example.org/it\'s--here...">the &lsquo;plan&rsquo;</a></p>'),
        ('A \\"straight\\" quote.', '<p>A "straight" quote.</p>'),
        ('Q: "Why?" she asked.', '<p class="question"><strong class="question-label">Q:</strong> &ldquo;Why?&rdquo; she asked.</p>'),
        ("## It's \"here\"", '<h2 id="its-here">It&rsquo;s &ldquo;here&rdquo;</h2>'),
    ],
)
def test_typographic_rules(markdown: str, html: str, smarty: Markdown, ours: Markdown) -> None:
    assert convert(ours, markdown) == html
    assert convert(smarty, markdown) == html


# Front-matter text: the same rules, as characters, in the site language's quotes.
AGREEING = [
    'She said "keep it".',
    "It's the customer's call in the '90s.",
    'He said, "\'Quoted\' words."',
    "Days 1--7, not 8---30.",
    "A pause... then more.",
    '"Why?" -- she asked...',
    "Pourquoi ? Parce que ! Voilà : «oui» ; non.",
]


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
@pytest.mark.parametrize("text", AGREEING)
def test_front_matter_and_body_are_typeset_alike(text: str, language: str) -> None:
    style = quote_style(language)
    body = convert(make_markdown(style), text)
    assert body.startswith("<p>") and body.endswith("</p>")
    assert typeset(text, style) == unescape(body[3:-4])


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", '"Emotionally..." -- why they stay', "“Emotionally…” – why they stay"),
        ("de", "\"Gut\" geht's, 'sagt' er", "„Gut“ geht’s, ‚sagt‘ er"),
        ("de-AT", '"Servus"', "„Servus“"),
        ("fr", 'Il dit "bonjour" ! Et toi?', "Il dit «\u202fbonjour\u202f»\u202f! Et toi\u202f?"),
        ("fr", "À 10:30, voir https://example.org: Q: ok", "À 10:30, voir https://example.org: Q: ok"),
        ("es", "Dijo \"hola\" y 'adiós'", "Dijo «hola» y “adiós”"),
        ("xx", '"Unknown" falls back', "“Unknown” falls back"),
        ("en", 'Keep \\"straight\\" and \\\'single\\\'', "Keep \"straight\" and 'single'"),
    ],
)
def test_typeset_in_each_language(language: str, text: str, expected: str) -> None:
    assert typeset(text, quote_style(language)) == expected


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_typesetting_twice_changes_nothing(language: str) -> None:
    style = quote_style(language)
    for text in AGREEING:
        once = typeset(text, style)
        assert typeset(once, style) == once


def test_plain_text_is_left_alone_cheaply() -> None:
    title = "Why customers leave"
    assert typeset(title) is title
    assert typeset(title, quote_style("fr")) is title


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "Second steps", "“Second steps”"),
        ("en", "“Second steps”", "“Second steps”"),  # quoted whole already: not quoted twice
        ("en", "“Why” they stay", "“‘Why’ they stay”"),  # quotes inside become the inner ones
        ("en", "“A” and “B”", "“‘A’ and ‘B’”"),
        ("de", "„Warum“ sie bleiben", "„‚Warum‘ sie bleiben“"),
        ("de", "„Warum“", "„Warum“"),
        ("fr", "«\u202fPourquoi\u202f» ils restent", "«\u202f“Pourquoi” ils restent\u202f»"),
        ("es", "«Por qué»", "«Por qué»"),
    ],
)
def test_quote_never_quotes_twice(language: str, text: str, expected: str) -> None:
    assert quote(text, quote_style(language)) == expected


def test_english_body_keeps_smartys_entities_other_languages_theirs() -> None:
    assert convert(make_markdown(quote_style("de")), "\"Gut\" -- 'ja'...") == "<p>&bdquo;Gut&ldquo; &ndash; &sbquo;ja&lsquo;&hellip;</p>"
    assert convert(make_markdown(quote_style("fr")), 'Il dit "oui" ?') == "<p>Il dit &laquo;&#8239;oui&#8239;&raquo;\u202f?</p>"
    # A reflection question keeps its label in French too (no space is added before a colon).
    assert 'class="question"' in convert(make_markdown(quote_style("fr")), "Q: Pourquoi ?")
