"""Our typography pass gives byte for byte the HTML of Python-Markdown's `smarty`, which it replaces."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from markdown import Markdown

from lessonpress.content.frontmatter import decode_source, split_front_matter
from lessonpress.content.markdown import LessonExtension, convert, make_markdown

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
