"""`lessonpress serve` in a real browser: saved edits reload the open page; feeds come back as XML."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import EXAMPLE_LESSON as LESSON
from .conftest import EXAMPLE_SOURCE as LESSON_SOURCE

pytestmark = pytest.mark.browser

RELOAD_TIMEOUT_MS = 20_000  # an upper bound only: the page reloads as soon as the rebuild is in place


@pytest.fixture(scope="module")
def dev_server(new_site) -> Iterator[tuple[Path, str]]:
    """Run `lessonpress serve` on a free port over a copy of the example site; yield its folder and URL."""
    root = new_site()
    server = subprocess.Popen(
        [sys.executable, "-m", "lessonpress", "-C", str(root), "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        # The first build's report comes first, then "Serving <site> at <url> (…)"; EOF means it died.
        banner = next((line for line in server.stdout if line.startswith("Serving ")), "")
        assert banner, f"lessonpress serve exited with {server.wait()} before serving"
        yield root, banner.split(" at ", 1)[1].split()[0]
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


def test_saving_a_lesson_reloads_the_open_page_with_the_new_text(page: Page, dev_server: tuple[Path, str]) -> None:
    root, url = dev_server
    page.goto(url + LESSON)
    body = page.locator(".lesson-body")
    expect(body).to_contain_text("Good news first")
    page.evaluate("window.beforeTheEdit = true")  # a full reload forgets it

    source = root / LESSON_SOURCE
    source.write_text(source.read_text(encoding="utf-8").replace("Good news first", "Better news first", 1), encoding="utf-8")

    expect(body).to_contain_text("Better news first", timeout=RELOAD_TIMEOUT_MS)
    assert page.evaluate("window.beforeTheEdit") is None


@pytest.mark.parametrize("path", ["", "retention/", LESSON])
def test_feed_links_return_xml_with_an_xml_content_type(page: Page, dev_server: tuple[Path, str], path: str) -> None:
    _, url = dev_server
    page.goto(url + path)
    feeds = page.eval_on_selector_all(
        "link[rel=alternate][type$='+xml'], a[href$='.xml']", "links => [...new Set(links.map(link => link.href))]"
    )
    assert len(feeds) >= 2
    for feed in feeds:
        response = page.request.get(feed)
        assert response.status == 200, feed
        assert "xml" in response.headers["content-type"], (feed, response.headers["content-type"])
        assert ElementTree.fromstring(response.body()).tag in {"rss", "{http://www.w3.org/2005/Atom}feed"}, feed
