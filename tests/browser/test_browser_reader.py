"""What a reader relies on in a lesson page: the keyboard path, prev/next, poll and reply links."""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from playwright.sync_api import Page

from .conftest import EXAMPLE_LESSON as LESSON
from .conftest import EXAMPLE_SOURCE as LESSON_SOURCE

pytestmark = pytest.mark.browser

FOCUSED = """() => {
  const el = document.activeElement, style = getComputedStyle(el), box = el.getBoundingClientRect();
  return {
    rel: el.getAttribute('rel') || '', href: el.getAttribute('href') || '',
    text: el.textContent.trim().slice(0, 80), inMain: !!el.closest('main'), inPoll: !!el.closest('.poll'),
    ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    inView: box.width > 0 && box.bottom > 0 && box.top < innerHeight && box.left >= 0 && box.right <= innerWidth,
  };
}"""


def mailto_parts(href: str) -> tuple[str, dict[str, str]]:
    """Split a mailto URL into its address and its decoded fields, `+` kept literal as RFC 6068 says."""
    parts = urlsplit(href)
    assert parts.scheme == "mailto", href
    fields = dict(item.split("=", 1) for item in parts.query.split("&") if item)
    return unquote(parts.path), {name: unquote(value) for name, value in fields.items()}


def course(page: Page, series_url: str) -> list[str]:
    """Return the URLs of a series' published lessons as its page lists them, in course order."""
    page.goto(series_url)
    return page.eval_on_selector_all("ol.course li a", "links => links.map(a => a.href)")


def walk(page: Page, start: str, rel: str) -> list[str]:
    """Follow `rel` links from `start` by clicking them; return every URL visited."""
    page.goto(start)
    visited = [page.url]
    while page.locator(f"a[rel={rel}]").count() and len(visited) < 100:  # a loop of links must not hang the run
        with page.expect_navigation():
            page.click(f"a[rel={rel}]")
        visited.append(page.url)
    return visited


@pytest.fixture(scope="module")
def config(example_root: Path) -> dict:
    """The example site's lessonpress.toml, as the author wrote it."""
    return tomllib.loads((example_root / "lessonpress.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=["mailto-poll", "web-form-poll"])
def poll_site(request: pytest.FixtureRequest, example_url: str, new_site, build_and_serve) -> tuple[str, str, int]:
    """A served site whose poll answers by email links or, with `[polls] endpoint`, by forms: (kind, URL, poll controls)."""
    if request.param == "mailto-poll":
        return request.param, example_url, 5  # four topics and the write-in link
    root = new_site()
    toml = root / "lessonpress.toml"
    endpoint = 'endpoint = "https://retention.example.org/vote/{poll}/{choice}"\n'
    toml.write_text(toml.read_text(encoding="utf-8").replace("[polls]\n", "[polls]\n" + endpoint), encoding="utf-8")
    return request.param, build_and_serve(root), 6  # four topic buttons, the write-in text field and its button


@pytest.mark.parametrize("series", ["retention", "relationships"])
def test_prev_and_next_walk_the_series_in_course_order(page: Page, example_url: str, series: str) -> None:
    lessons = course(page, f"{example_url}{series}/")
    assert len(lessons) >= 3
    assert walk(page, lessons[0], "next") == lessons
    assert walk(page, lessons[-1], "prev") == lessons[::-1]


def test_poll_choices_open_a_vote_mail_to_the_poll_address(page: Page, example_url: str, example_root: Path, config: dict) -> None:
    front_matter = (example_root / LESSON_SOURCE).read_text(encoding="utf-8").split("---")[1]
    options = yaml.safe_load(front_matter)["poll"]["options"]
    page.goto(example_url + LESSON)
    choices = page.locator("a.poll-choice:not(.poll-write-in)")
    assert choices.count() == len(options)
    for number, option in enumerate(options, start=1):
        choice = choices.nth(number - 1)
        assert option in choice.inner_text()
        address, fields = mailto_parts(choice.get_attribute("href"))
        assert address == config["polls"]["address"]
        assert fields["subject"].startswith("Vote: ") and fields["subject"].endswith(f" #{number} {option}")
    address, fields = mailto_parts(page.locator("a.poll-write-in").get_attribute("href"))
    assert address == config["polls"]["address"]
    assert fields["subject"].startswith("Vote: ") and fields["body"]


@pytest.mark.parametrize("series", ["retention", "relationships"])
def test_reply_link_subject_is_re_title(page: Page, example_url: str, config: dict, series: str) -> None:
    for lesson in course(page, f"{example_url}{series}/"):
        page.goto(lesson)
        title = page.inner_text("h1")
        address, fields = mailto_parts(page.locator(".reply-prompt a[href^='mailto:']").get_attribute("href"))
        assert fields["subject"] == f"Re: {title}"
        assert address == config["email"]["reply_to"].replace("{slug}", urlsplit(lesson).path.strip("/").split("/")[-1])


def test_keyboard_reaches_skip_link_pager_poll_and_reply_with_visible_focus(
    page: Page, poll_site: tuple[str, str, int], artifacts: Path
) -> None:
    kind, url, poll_controls = poll_site
    page.goto(url + LESSON)
    page.keyboard.press("Tab")
    skip = page.evaluate(FOCUSED)
    assert skip["text"] == "Skip to content" and skip["inView"] and skip["ring"], skip
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    stops = []
    for _ in range(80):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if stops[-1]["inPoll"] and not any(stop["inPoll"] for stop in stops[:-1]):
            page.screenshot(path=artifacts / f"lesson-keyboard-{kind}.png")
        if stops[-1]["rel"] == "next":
            break
    assert stops[0]["inMain"], "the first Tab after the skip link should stay in the main content"
    wanted = {
        "poll choices": [stop for stop in stops if stop["inPoll"]],
        "reply link": [stop for stop in stops if stop["href"].startswith("mailto:lessons+")],
        "previous lesson": [stop for stop in stops if stop["rel"] == "prev"],
        "next lesson": [stop for stop in stops if stop["rel"] == "next"],
    }
    assert len(wanted["poll choices"]) == poll_controls
    for name, found in wanted.items():
        assert found, f"Tab never reached the {name}"
        hidden = [stop["text"] for stop in found if not (stop["ring"] and stop["inView"])]
        assert not hidden, f"{name} focused without a visible focus ring: {hidden}"


def test_both_kinds_of_poll_have_no_serious_axe_violations(page: Page, poll_site: tuple[str, str, int], axe) -> None:
    page.goto(poll_site[1] + LESSON)
    violations = axe(page)
    assert violations == [], violations
