"""Crawl the built example site from `/` and check every page a reader can reach."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from .conftest import EXAMPLE_LESSON

pytestmark = pytest.mark.browser


def test_crawl_reaches_every_page_the_site_links(example_crawl) -> None:
    paths = {example_crawl.path(url) for url in example_crawl.pages}
    assert {"/", "/archive/", "/tags/", "/retention/", "/relationships/", "/retention/why-customers-leave/"} <= paths
    assert len(paths) > 20


@pytest.mark.parametrize(
    "check",
    ["link_problems", "head_problems", "overflow_problems", "axe_problems"],
    ids=["loads-cleanly-and-links-resolve", "head-metadata", "no-overflow-at-390px", "no-serious-axe-violations"],
)
def test_every_page_passes(example_crawl, check: str) -> None:
    problems = getattr(example_crawl, check)()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("path", ["", "retention/", EXAMPLE_LESSON, "archive/"])
def test_dark_mode_has_no_serious_axe_violations(
    page: Page, example_url: str, axe: Callable[[Page], list[dict]], path: str
) -> None:
    page.emulate_media(color_scheme="dark")
    page.goto(example_url + path)
    violations = axe(page)
    assert violations == [], violations


@pytest.mark.parametrize("width", [390, 1280], ids=["phone", "desktop"])
@pytest.mark.parametrize(("name", "path"), [("home", ""), ("lesson", EXAMPLE_LESSON)])
def test_page_fits_the_screen_and_is_captured(page: Page, example_url: str, artifacts, name: str, path: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(example_url + path)
    page.screenshot(path=artifacts / f"{name}-{width}px.png", full_page=True)
    heading = page.locator("h1").bounding_box()
    assert heading and heading["x"] >= 0 and heading["x"] + heading["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
