"""Front matter read with libyaml gives the values, lines and messages of PyYAML's pure-Python loader."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import lessonpress.content.frontmatter
from lessonpress.content.frontmatter import (
    FrontMatter,
    FrontMatterError,
    decode_source,
    split_front_matter,
)

ROOT = Path(__file__).parents[1]


def read(text: str) -> FrontMatter | tuple[int, str]:
    """The front matter, or the line and message of its error."""
    try:
        return split_front_matter(text, required=False)
    except FrontMatterError as error:
        return error.line, error.message


def read_pure(text: str, monkeypatch: pytest.MonkeyPatch) -> FrontMatter | tuple[int, str]:
    with monkeypatch.context() as patch:
        patch.setattr(lessonpress.content.frontmatter, "FAST_LOADER", yaml.SafeLoader)
        return read(text)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_libyaml_is_used() -> None:
    assert lessonpress.content.frontmatter.FAST_LOADER is yaml.CSafeLoader


def test_example_and_test_sites_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = sorted((ROOT / "lessons").rglob("*.md")) + sorted((ROOT / "tests" / "projects").rglob("*.md"))
    texts = []
    for path in paths:
        try:
            texts.append(decode_source(path.read_bytes()))
        except UnicodeDecodeError:
            continue
    assert len(texts) > 20
    for text in texts:
        assert read(text) == read_pure(text, monkeypatch)


@pytest.mark.parametrize(
    "text",
    [
        # libyaml would accept these three, which PyYAML refuses.
        "---\ntitle:\t\"Tabbed\"\n---\n",
        "---\npoll:\n  options: [Why?, Why not?]\n---\n",
        "---\npoll:\n  options: [\n    Why?,\n    No\n  ]\n---\n",
        # libyaml would read this as '' rather than None.
        "---\ngreeting: !\n---\n",
        # libyaml words these errors differently.
        "---\ntitle: T\n  date: 2026-01-01\n---\n",
        "---\ntitle: \"open\ndate: 2026-01-01\n---\n",
        "---\ntitle: [a, b\n---\n",
        "---\ndate: 2026-02-30\n---\n",
        # Accepted by both.
        "---\ntitle: \"Why? Because\"\ntags: [a, b]\npoll:\n  question: Which?\n  options:\n    - One\n    - Two\n---\nBody\n",
    ],
)
def test_where_libyaml_differs_pyyaml_decides(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert read(text) == read_pure(text, monkeypatch)
