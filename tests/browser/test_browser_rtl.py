"""A right-to-left site (Arabic): its pages pass the crawl at phone width and its email reads right to left at 600 and 375 px."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route

from .conftest import EXAMPLE_LESSON, SiteReport

pytestmark = pytest.mark.browser

EMAIL = f"email/{EXAMPLE_LESSON.rstrip('/')}.html"
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


@pytest.fixture(params=[600, 375], ids=lambda width: f"{width}px")
def rtl_inbox(request: pytest.FixtureRequest, browser: Browser, rtl_site: tuple[Path, str]) -> Page:
    root, base = rtl_site
    ctx = browser.new_context(viewport={"width": request.param, "height": 900})
    request.addfinalizer(ctx.close)

    def from_output(route: Route) -> None:
        file = root / "output" / urlsplit(route.request.url).path.lstrip("/")
        route.fulfill(path=file) if file.is_file() else route.fulfill(status=404)

    ctx.route("https://retention.example.org/**", from_output)
    page = ctx.new_page()
    page.goto(base + EMAIL)
    return page


def test_rtl_email_reads_right_to_left(rtl_inbox: Page, artifacts: Path) -> None:
    width = rtl_inbox.viewport_size["width"]
    rtl_inbox.screenshot(path=artifacts / f"email-rtl-{width}px.png", full_page=True)
    assert rtl_inbox.evaluate("document.documentElement.scrollWidth") <= width
    container = rtl_inbox.evaluate(LAYOUT, "table.container")[0]
    for selector in (".title", ".kicker", ".lesson-body p", ".aside"):
        for box in rtl_inbox.evaluate(LAYOUT, selector):
            # Every line starts at the right: the text runs right to left, aligned to the container's right edge.
            assert box["direction"] == "rtl" and box["align"] in ("right", "start"), (selector, box)
            assert container["right"] - box["right"] < 40, (selector, box, container)
    buttons = rtl_inbox.evaluate(LAYOUT, "a.button")
    assert buttons and all(container["right"] - button["right"] < 60 for button in buttons)
    assert "الدرس" in rtl_inbox.inner_text(".kicker")
