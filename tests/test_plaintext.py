"""The HTML-to-text converter behind every email's plain-text part."""

from __future__ import annotations

import random

from lessonpress.content.markdown import convert, make_markdown
from lessonpress.render.plaintext import WIDTH, _TextWriter, html_to_text, wrap_text


def to_text(markdown: str) -> str:
    return wrap_text(html_to_text(convert(make_markdown(), markdown)))


def test_headings_are_set_off_and_entities_decoded() -> None:
    text = to_text('# Title\n\n## Why "they" stay -- really\n\nText...\n\n### Small\n')
    assert "Title\n=====\n" in text
    assert "Why “they” stay – really\n------------------------\n" in text
    assert "Text…" in text and "Small\n~~~~~" in text
    assert "&" not in text


def test_lists_keep_numbers_nesting_and_plain_emphasis() -> None:
    text = to_text("1. **First** point\n2. *Second* point\n    - nested item\n3. Third\n")
    assert text.splitlines() == ["1. First point", "2. Second point", "   - nested item", "3. Third"]


def test_links_show_their_url_and_urls_are_never_broken() -> None:
    url = "https://example.org/" + "very-long-path/" * 8
    text = to_text(f"Read [the guide]({url}) and <https://example.org/short> now, please, " + "word " * 20)
    assert f"the guide\n({url})" in text or f"the guide ({url})" in text
    assert text.count("https://example.org/short") == 1  # a bare link is not repeated
    assert all(len(line) <= 78 or url in line for line in text.splitlines())


def test_questions_and_pull_quotes_stay_recognisable() -> None:
    text = to_text("Q: " + "What would you change about your onboarding " * 3 + "?\n\n> “We left because nobody noticed.” " + "Really " * 12 + "\n")
    lines = text.splitlines()
    assert lines[0].startswith("Q: What would")
    assert lines[1].startswith("   ") and not lines[1].startswith("    ")  # hangs under the question
    quote = [line for line in lines if line.startswith(">")]
    assert len(quote) >= 2 and quote[0].startswith("> “We left")


def test_tables_code_images_and_rules() -> None:
    text = to_text("| Plan | Churn |\n|---|---|\n| Basic | 4% |\n\n    keep   this   spacing\n\n![A chart of churn](c.png)\n\n---\n\nLine one  \nline two\n")
    assert "Plan | Churn\n------------\nBasic | 4%" in text
    assert "    keep   this   spacing" in text
    assert "[Image: A chart of churn]" in text
    assert "* * *" in text
    assert "Line one\nline two" in text


def test_wrap_keeps_short_lines_and_folds_blank_runs() -> None:
    assert wrap_text("a\n\n\n\nb") == "a\n\nb\n"
    wrapped = wrap_text("- " + "word " * 30)
    assert all(len(line) <= 78 for line in wrapped.splitlines())
    assert wrapped.splitlines()[1].startswith("  word")


# Documents of every kind the fast reader handles, and of the kinds it leaves to HTMLParser.
TRICKY = [
    '<p>Plain &amp; simple &ldquo;quotes&rdquo;&#8212;and &amp</p>',
    '<P CLASS=\'x\'>Upper case</P><br/><br /><hr><hr />',
    '<ol start="3"><li>three</li><li><p>four</p><ul><li>nested</li></ul></li></ol>',
    '<a href="https://example.org/a?b=1&amp;c=2">a link</a> <a href="#top">top</a> <a href=\'mailto:a@b.org\'>a@b.org</a>',
    '<blockquote><p>quoted</p><blockquote><p>deeper</p></blockquote></blockquote>',
    '<pre><code>  keep   spacing\n\n  twice  </code></pre>',
    '<table><tr><th>A</th><th>B</th></tr><tr><td>1<br>2</td><td>3</td></tr></table>',
    '<img src="a.png" alt="A &amp; B"><img alt><img src="b.png" alt="">',
    '<h1>One</h1><h2 id="x">Two</h2><h3>Three</h3><dl><dt>term</dt><dd>definition</dd></dl>',
    '<!-- a comment with <p> inside --><p>after</p><!-- a -- > b --><!---->',
    '<script>var x = "<p>not text</p>";</script><p>after a script</p>',
    '<STYLE>p { }</STYLE><style/><p>after style</p>',
    '<!doctype html><p>after a declaration</p><?pi?>',
    '<p>a < b and 1<2 and a lone <</p>',
    '<p\u00a0class="a">odd space</p><div\tclass="d">tab</div ></ div>',
    '<a href="x"title="y">glued</a><a href=="x">doubled</a><input disabled/><a href=x>bare</a>',
    '<title>T</title><p>Q: a question?</p><p>- a dash</p><sup id="fnref:1"><a class="footnote-ref" href="#fn:1">1</a></sup>',
    '<p>unclosed <!-- comment',
    '<p>text at the end &amp',
]


def read_by_htmlparser(html: str) -> str:
    """The reference: HTMLParser's own events, given to the same writer."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    writer.flush()
    return "\n".join(writer.lines).strip("\n")


def test_fast_reading_gives_what_htmlparser_gives() -> None:
    documents = [*TRICKY, convert(make_markdown(), "# T\n\n" + "A *b* **c** `d` [e](f.md) ![g](h.png)\n\n> q\n\n1. x\n2. y\n\n    code\n")]
    rng = random.Random(7)
    documents += ["".join(rng.choice(TRICKY) for _ in range(rng.randint(2, 6))) for _ in range(300)]
    for html in documents:
        assert html_to_text(html) == read_by_htmlparser(html), html


def greedy_wrap(words: list[str], room: int) -> list[str]:
    """The reference: add words to a line while they fit, at least one."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= room:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def test_wrapping_fills_lines_greedily() -> None:
    rng = random.Random(11)
    vocabulary = ["a", "to", "word", "lengthier", "https://example.org/" + "x" * 90, "é", "x" * 20]
    for _ in range(300):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(1, 40))]
        # The first line's prefix, and the one wrapped lines hang under.
        for first, rest in (("", ""), ("> ", "> "), ("1. ", "   "), ("> - ", ">   "), ("> " * 40, "> " * 40)):
            lines = greedy_wrap(words, max(WIDTH - len(first), 1))
            assert wrap_text(first + " ".join(words)).splitlines() == [first + lines[0], *(rest + line for line in lines[1:])]


def test_no_break_spaces_and_dashes_stay_as_the_html_has_them() -> None:
    html = "<p>Il dit &laquo;&#8239;oui&#8239;&raquo;&#8239;! Deux&nbsp;mots &mdash; et&hellip;</p>"
    assert html_to_text(html) == "Il dit «\u202foui\u202f»\u202f! Deux\u00a0mots — et…"
    # A line is broken at a space, never at a no-break space.
    long = " ".join(["mot"] * 30) + " «\u202fpourquoi\u202f»\u202f?"
    lines = wrap_text(long, 40).splitlines()
    assert lines[-1].endswith("«\u202fpourquoi\u202f»\u202f?") and all(len(line) <= 40 for line in lines)
