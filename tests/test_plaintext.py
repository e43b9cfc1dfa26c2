"""The HTML-to-text converter behind every email's plain-text part."""

from __future__ import annotations

from lessonpress.markdown import convert, make_markdown
from lessonpress.plaintext import html_to_text, wrap_text


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
