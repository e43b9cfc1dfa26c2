"""What a social site or chat app reads from a page when it is shared: Open Graph, Twitter cards, the canonical URL."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import build_into, copy_example_lessons
from lessonpress.errors import BuildFailed

EXAMPLE_URL = "https://retention.example.org/"
BASIC_URL = "https://example.org/letters/"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


class HeadTags(HTMLParser):
    """Collect a page's <meta property/name> values and its canonical link, as a crawler reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.canonical: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("property") or values.get("name")):
            self.meta.setdefault(str(values.get("property") or values.get("name")), []).append(values.get("content") or "")
        if tag == "link" and values.get("rel") == "canonical":
            self.canonical.append(values.get("href") or "")

    def one(self, key: str) -> str:
        found = self.meta.get(key, [])
        assert len(found) == 1, f"{key}: {found}"
        return found[0]


def head_tags(path: Path) -> HeadTags:
    parser = HeadTags()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def pages(output: Path) -> list[Path]:
    """Every HTML page a reader can open (the emails are not pages)."""
    return sorted(path for path in output.rglob("*.html") if path.relative_to(output).parts[0] != "email")


def page_url(output: Path, page: Path, base: str) -> str:
    relative = page.relative_to(output).as_posix()
    return base + (relative.removesuffix("index.html") if relative.endswith("index.html") else relative)


def output_file(output: Path, url: str, base: str) -> Path:
    assert url.startswith(base), url
    return output / url.removeprefix(base)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's example site, built."""
    root = tmp_path_factory.mktemp("example")
    copy_example_lessons(root)
    build_into(root)
    return root / "output"


def test_every_page_of_the_example_site_has_complete_sharing_tags(example: Path) -> None:
    lessons = 0
    found = pages(example)
    assert len(found) > 20
    for page in found:
        tags, url = head_tags(page), page_url(example, page, EXAMPLE_URL)
        assert tags.canonical == [url], page
        assert tags.one("og:url") == url
        assert tags.one("og:title").strip() and tags.one("og:description").strip(), page
        assert tags.one("og:site_name") == "The Retention Letter"
        image = tags.one("og:image")
        assert urlsplit(image).scheme == "https" and output_file(example, image, EXAMPLE_URL).read_bytes().startswith(b"\x89PNG"), (page, image)
        assert tags.one("twitter:card") == "summary_large_image" and tags.one("twitter:image") == image
        assert tags.one("twitter:title") == tags.one("og:title")
        parts = page.relative_to(example).parts
        is_lesson = len(parts) == 3 and parts[0] in ("retention", "relationships")  # <series>/<slug>/index.html
        assert tags.one("og:type") == ("article" if is_lesson else "website"), page
        if is_lesson:
            lessons += 1
            assert RFC3339.fullmatch(tags.one("article:published_time"))
            assert tags.one("article:author")
        else:
            assert "article:published_time" not in tags.meta
    assert lessons == 5  # published by the tests' fixed clock


def test_a_lesson_page_describes_its_lesson(example: Path) -> None:
    tags = head_tags(example / "retention" / "the-first-ninety-days" / "index.html")
    assert tags.one("og:title") == "The First Ninety Days"
    assert tags.one("og:description").startswith("how to plan the first ninety days")
    assert datetime.fromisoformat(tags.one("article:published_time")) == datetime.fromisoformat("2026-01-14T07:30:00+00:00")
    assert tags.one("article:author") == "https://retention.example.org/about"  # the author's profile link
    assert "onboarding" in tags.meta["article:tag"]


def test_a_series_image_wins_over_the_site_image_on_its_pages(example: Path, tmp_path: Path) -> None:
    site_image = EXAMPLE_URL + "retention/share.png"
    series_image = EXAMPLE_URL + "relationships/share.png"
    assert head_tags(example / "index.html").one("og:image") == site_image
    assert head_tags(example / "archive" / "index.html").one("og:image") == site_image
    assert head_tags(example / "relationships" / "index.html").one("og:image") == series_image
    assert head_tags(example / "retention" / "the-first-ninety-days" / "index.html").one("og:image") == site_image
    # Its lessons too (published in September, after the tests' clock).
    copy_example_lessons(tmp_path)
    build_into(tmp_path, include_future=True)
    assert head_tags(tmp_path / "output" / "relationships" / "referral-partners" / "index.html").one("og:image") == series_image


def _set_front_matter(path: Path, line: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("---\n", f"---\n{line}\n", 1), encoding="utf-8")


def test_a_lesson_overrides_the_share_image_and_the_json_feed_carries_it(basic: Path) -> None:
    (basic / "lessons" / "retention" / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    _set_front_matter(basic / "lessons" / "retention" / "02-first-days.md", "image: cover.png")
    build_into(basic)
    output = basic / "output"
    own = head_tags(output / "retention" / "first-days" / "index.html")
    assert own.one("og:image") == BASIC_URL + "retention/cover.png"
    assert own.one("twitter:card") == "summary_large_image"
    # No site or series image is set: the other pages carry a summary card without an image.
    other = head_tags(output / "retention" / "why-they-leave" / "index.html")
    assert "og:image" not in other.meta and other.one("twitter:card") == "summary"
    assert head_tags(output / "index.html").one("og:type") == "website"
    feed = (output / "feed.json").read_text(encoding="utf-8")
    assert f'"image": "{BASIC_URL}retention/cover.png"' in feed


def test_the_site_image_can_come_from_the_theme_static_folder(basic: Path) -> None:
    static = basic / "themes" / "plain" / "static"
    static.mkdir(parents=True)
    (static / "card.jpg").write_bytes(b"\xff\xd8\xff")
    config = basic / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[site]\n", '[site]\ntheme = "plain"\nimage = "themes/plain/static/card.jpg"\n', 1), encoding="utf-8")
    build_into(basic)
    assert head_tags(basic / "output" / "tags" / "index.html").one("og:image") == BASIC_URL + "static/card.jpg"


def test_bad_image_paths_are_reported_at_their_lines_all_at_once(basic: Path) -> None:
    (basic / "lessons" / "retention" / "notes.txt").write_text("not an image", encoding="utf-8")
    _set_front_matter(basic / "lessons" / "retention" / "01-why-they-leave.md", "image: ../../../etc/passwd.png")
    _set_front_matter(basic / "lessons" / "retention" / "02-first-days.md", "image: missing.png")
    _set_front_matter(basic / "lessons" / "retention" / "_index.md", "image: notes.txt")
    _set_front_matter(basic / "lessons" / "good-habits" / "01-small-steps.md", "image: javascript:alert(1)")
    config = basic / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[site]\n", '[site]\nimage = "/srv/www/card.png"\n', 1), encoding="utf-8")
    with pytest.raises(BuildFailed) as failure:
        build_into(basic)
    messages = [str(error) for error in failure.value.errors]
    expected = [
        "lessonpress.toml:3: [site] image '/srv/www/card.png' must be a path relative to the site folder",
        "lessons/good-habits/01-small-steps.md:2: image must be an absolute http(s) URL",
        "lessons/retention/01-why-they-leave.md:2: image '../../../etc/passwd.png' leads outside the site folder",
        "lessons/retention/02-first-days.md:2: image 'missing.png' not found (no file lessons/retention/missing.png)",
        "lessons/retention/_index.md:2: image 'notes.txt' must be a PNG, JPEG, GIF or WebP file",
    ]
    for start in expected:
        assert any(message.startswith(start) for message in messages), (start, messages)
    assert not (basic / "output").exists()
