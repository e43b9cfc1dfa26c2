"""A right-to-left site (Arabic): its pages pass the crawl at phone width and its email reads right to left at 600 and 375 px."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from .conftest import EXAMPLE_LESSON, SiteReport
from .test_browser_email import inbox  # noqa: F401 - the email group's window, here on the Arabic site

pytestmark = pytest.mark.browser

# Where the text of each element starts and ends, and which way it runs.
LAYOUT = """selector => [...document.querySelectorAll(selector)].map(el => {
  const box = el.getBoundingClientRect();
  return {left: box.left, right: box.right, direction: getComputedStyle(el).direction, align: getComputedStyle(el).textAlign};
})"""


def in_arabic(root: Path) -> Path:
    config = root / "lessonpress.toml"
    config.write_text(re.sub(r'(?m)^language = "[^"]*"', 'language = "ar"', config.read_text(encoding="utf-8")), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def rtl_site(new_site: Callable[[], Path], build_and_serve: Callable[[Path], str]) -> tuple[Path, str]:
    root = in_arabic(new_site())
    return root, build_and_serve(root)


@pytest.fixture(scope="module")
def rtl_crawl(crawl_site: Callable[..., SiteReport], rtl_site: tuple[Path, str]) -> SiteReport:
    return crawl_site(rtl_site[1])


def test_rtl_pages_pass_axe_and_fit_a_phone(rtl_crawl: SiteReport) -> None:
    assert len(rtl_crawl.pages) > 20
    assert rtl_crawl.axe_problems() == []
    assert rtl_crawl.overflow_problems() == []
    assert rtl_crawl.link_problems() == []
    assert {page.lang for page in rtl_crawl.pages.values() if page.status == 200} == {"ar"}


def test_rtl_lesson_page_reads_right_to_left(browser: Browser, rtl_site: tuple[Path, str]) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = ctx.new_page()
        page.goto(rtl_site[1] + EXAMPLE_LESSON)
        assert page.evaluate("getComputedStyle(document.documentElement).direction") == "rtl"
        # The recap's accent bar is on the right, where an Arabic line starts.
        bar = page.evaluate("(() => { const s = getComputedStyle(document.querySelector('.recap')); return [s.borderRightWidth, s.borderLeftWidth]; })()")
        assert bar == ["4px", "0px"]
        kicker = page.evaluate(LAYOUT, ".kicker")[0]
        heading = page.evaluate(LAYOUT, "h1")[0]
        assert kicker["direction"] == "rtl" and abs(kicker["right"] - heading["right"]) < 1
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def email_site(rtl_site: tuple[Path, str]) -> tuple[Path, str]:
    """The email group's `inbox` (600 and 375 px) opens this site's email."""
    return rtl_site


def test_rtl_email_reads_right_to_left(inbox: Page, artifacts: Path) -> None:
    width = inbox.viewport_size["width"]
    inbox.screenshot(path=artifacts / f"email-rtl-{width}px.png", full_page=True)
    assert inbox.evaluate("document.documentElement.scrollWidth") <= width
    container = inbox.evaluate(LAYOUT, "table.container")[0]
    for selector in (".title", ".kicker", ".lesson-body p", ".aside"):
        for box in inbox.evaluate(LAYOUT, selector):
            # Every line starts at the right: the text runs right to left, aligned to the container's right edge.
            assert box["direction"] == "rtl" and box["align"] in ("right", "start"), (selector, box)
            assert container["right"] - box["right"] < 40, (selector, box, container)
    buttons = inbox.evaluate(LAYOUT, "a.button")
    assert buttons and all(container["right"] - button["right"] < 60 for button in buttons)
    assert "الدرس" in inbox.inner_text(".kicker")
