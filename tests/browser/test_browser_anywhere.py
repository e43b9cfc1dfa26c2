"""The site wherever it is put: under a sub-path, opened from disk, searched in the browser, and in the repository's second theme."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from conftest import use_theme
from lessonpress.build import build
from lessonpress.site.model import BuildOptions

from .conftest import BUILD_NOW, EXAMPLE_LESSON, MOBILE, QuietHandler, SiteReport, build_site

pytestmark = pytest.mark.browser

PREFIX = "/letters/"
# A word in the body of one lesson only (lesson 2 of the retention series).
WORD = "handshake"
WORD_LESSON = "The First Ninety Days"
FACTS = """() => ({
  links: [...document.querySelectorAll('a[href], link[href], img[src], form[action]')].map(e => e.href || e.src || e.action),
  background: getComputedStyle(document.body).backgroundColor,
  // The theme's rules took hold: the body's margin is the stylesheet's, not the browser's 8px (rules cannot be read from file://).
  styled: getComputedStyle(document.body).marginTop === '0px' && getComputedStyle(document.body).backgroundColor !== 'rgba(0, 0, 0, 0)',
})"""


class SubPathHandler(QuietHandler):
    """Serve a folder under /letters/ only, and its 404.html for anything missing, as a static host does."""

    def translate_path(self, path: str) -> str:
        location = urlsplit(path).path
        if not location.startswith(PREFIX):
            return str(Path(self.directory) / ".outside-the-site")  # never there: answered with the 404 page
        return super().translate_path("/" + location[len(PREFIX):])

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@pytest.fixture(scope="module")
def serve_under_prefix(serve: Callable[..., str]) -> Callable[[Path], str]:
    """Serve output folders under /letters/ on 127.0.0.1; return each one's host URL (`http://127.0.0.1:PORT/`)."""
    return lambda directory: serve(directory, SubPathHandler)


@pytest.fixture(scope="module")
def under_prefix(example_root: Path, serve_under_prefix: Callable[[Path], str]) -> str:
    """The example site, built as it is (its [site] url has no path), served under /letters/."""
    return serve_under_prefix(example_root / "output")


@pytest.fixture(scope="module")
def prefix_crawl(crawl_site: Callable[..., SiteReport], under_prefix: str) -> SiteReport:
    # The crawl's base is the host, its scope /letters/: a link that climbs out of /letters/ is fetched, answered 404, and reported.
    return crawl_site(under_prefix, PREFIX.lstrip("/"))


def test_served_under_a_sub_path_every_link_leads_to_a_page(prefix_crawl: SiteReport) -> None:
    paths = {prefix_crawl.path(url) for url in prefix_crawl.pages}
    assert {"/letters/", "/letters/archive/", "/letters/search/", "/letters/tags/", "/letters/retention/", f"/letters/{EXAMPLE_LESSON}"} <= paths
    assert len(paths) > 20
    assert all(url.startswith(prefix_crawl.base + PREFIX.lstrip("/")) for url in prefix_crawl.referrers), "a link leaves /letters/"
    problems = prefix_crawl.link_problems()  # includes every stylesheet, icon and script request that failed
    assert problems == [], "\n".join(problems)


def test_under_a_sub_path_pages_are_styled(browser: Browser, under_prefix: str) -> None:
    page = browser.new_page(viewport=MOBILE)
    for path in ("", "archive/", EXAMPLE_LESSON, "tags/churn/"):
        assert page.goto(under_prefix + PREFIX.lstrip("/") + path).status == 200
        facts = page.evaluate(FACTS)
        assert facts["styled"] and facts["background"] == "rgb(253, 252, 249)", path
    page.close()


def test_not_found_page_under_a_sub_path_is_styled_and_leads_home(new_site: Callable[[], Path], serve_under_prefix: Callable[[Path], str], browser: Browser) -> None:
    """404.html is served at any depth: with [site] url naming the path, its links and stylesheet hold from everywhere."""
    root = new_site()
    config = root / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('url = "https://retention.example.org"', 'url = "https://retention.example.org/letters/"'), encoding="utf-8")
    host = serve_under_prefix(build_site(root))
    page = browser.new_page(viewport=MOBILE)
    for missing in ("letters/no-such-page/", "letters/retention/no/such/lesson/"):
        response = page.goto(host + missing)
        assert response is not None and response.status == 404
        assert page.locator("h1").inner_text() == "Page not found"
        facts = page.evaluate(FACTS)
        assert facts["styled"], missing
        for link in facts["links"]:
            if link.startswith(host) and "#" not in link:
                assert page.request.get(link).status == 200, f"{missing}: {link}"
    page.close()


def test_search_finds_a_word_from_one_lesson_with_the_keyboard(page: Page, example_url: str, axe: Callable[[Page], list[dict]]) -> None:
    page.goto(example_url)
    box = page.get_by_role("searchbox", name="Search the lessons")
    box.focus()
    page.keyboard.type(WORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=handshake$"))
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile(r"^1 lesson found for “handshake”"))
    results = page.get_by_role("list", name="Search results").get_by_role("link")
    expect(results).to_have_count(1)
    expect(results).to_have_text(WORD_LESSON)
    assert page.locator(".search-results mark").first.inner_text().lower() == WORD
    assert axe(page) == []
    # The search page's own field: a new query from the keyboard answers in the same live region.
    page.get_by_role("searchbox", name="Search the lessons").fill("zzzunheardof")
    page.keyboard.press("Enter")
    expect(status).to_have_text("No lesson mentions “zzzunheardof”.")
    page.get_by_role("searchbox", name="Search the lessons").fill(WORD)
    page.keyboard.press("Enter")
    expect(status).to_have_text(re.compile(r"^1 lesson found"))  # the results are in before the keyboard moves on
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the button, to the first result
    page.keyboard.press("Enter")
    page.wait_for_url(example_url + EXAMPLE_LESSON)


def test_search_results_lead_to_the_lesson_under_a_sub_path(page: Page, under_prefix: str) -> None:
    page.goto(under_prefix + "letters/search/?q=" + WORD)
    link = page.get_by_role("list", name="Search results").get_by_role("link")
    expect(link).to_have_count(1)
    link.click()
    page.wait_for_url(under_prefix + "letters/" + EXAMPLE_LESSON)


def test_without_an_index_the_search_page_says_why(page: Page, new_site: Callable[[], Path], build_and_serve: Callable[[Path], str]) -> None:
    root = new_site()
    url = build_and_serve(root)
    (root / "output" / "pagefind" / "pagefind.js").unlink()  # as a build without the search extra leaves it
    page.goto(url + "search/?q=" + WORD)
    expect(page.get_by_role("status")).to_have_text("Search is not available here; the archive lists every lesson.")
    expect(page.get_by_text("pip install 'lessonpress[search]'")).to_be_visible()
    expect(page.get_by_role("link", name="the archive")).to_be_visible()


@pytest.fixture(scope="module")
def offline_output(new_site: Callable[[], Path]) -> Path:
    root = new_site()
    build(root, BuildOptions(now=BUILD_NOW, offline=True))
    return root / "output"


def test_opened_from_disk_every_link_leads_to_a_styled_page(browser: Browser, offline_output: Path) -> None:
    """What the README tells a newcomer: open output/index.html (built with --offline) and follow every link."""
    page = browser.new_page(viewport=MOBILE)
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    # Failed requests are not listened for: the icon's is aborted when the next page is opened at once. Every file linked is checked on disk below.
    start = (offline_output / "index.html").as_uri()
    root = offline_output.as_uri() + "/"
    queue, seen, problems = [start], set(), []
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        errors.clear()
        page.goto(url)
        facts = page.evaluate(FACTS)
        if not facts["styled"]:
            problems.append(f"{url}: not styled")
        for link in facts["links"]:
            target = urldefrag(link)[0].split("?")[0]
            if not target.startswith(root):
                continue
            file = Path(urlsplit(target).path)
            if not file.is_file():
                problems.append(f"{url} -> {link}: {'a folder listing' if file.is_dir() else 'nothing there'}")
            elif file.suffix == ".html":
                queue.append(target)
        problems.extend(f"{url}: {error}" for error in errors)
    page.close()
    assert len(seen) > 20
    assert problems == [], "\n".join(problems)


def test_opened_from_disk_the_search_page_says_to_serve_the_folder(page: Page, offline_output: Path) -> None:
    page.goto((offline_output / "search" / "index.html").as_uri() + "?q=" + WORD)
    expect(page.get_by_text("Opened from disk, a browser does not let the page read its search index")).to_be_visible()
    expect(page.get_by_role("link", name="the archive")).to_have_attribute("href", "../archive/index.html")


@pytest.fixture(scope="module")
def broadsheet_crawl(new_site: Callable[[], Path], build_and_serve: Callable[[Path], str], crawl_site: Callable[..., SiteReport]) -> tuple[str, SiteReport]:
    """The example site in the repository's second theme, served and crawled."""
    url = build_and_serve(use_theme(new_site(), "broadsheet"))
    return url, crawl_site(url)


@pytest.mark.parametrize(
    "check",
    ["link_problems", "head_problems", "overflow_problems", "axe_problems"],
    ids=["loads-cleanly-and-links-resolve", "head-metadata", "no-overflow-at-390px", "no-serious-axe-violations"],
)
def test_second_theme_passes_every_page_check(broadsheet_crawl: tuple[str, SiteReport], check: str) -> None:
    _, report = broadsheet_crawl
    assert len(report.pages) > 20
    problems = getattr(report, check)()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("path", ["", EXAMPLE_LESSON, "search/?q=" + WORD])
def test_second_theme_in_dark_mode_and_captured(
    page: Page, broadsheet_crawl: tuple[str, SiteReport], axe: Callable[[Page], list[dict]], artifacts: Path, path: str
) -> None:
    url, _ = broadsheet_crawl
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.goto(url + path)
        page.wait_for_load_state("networkidle")
        name = path.split("?")[0].strip("/").replace("/", "-") or "home"
        page.screenshot(path=artifacts / f"broadsheet-{name}-{scheme}.png", full_page=True)
        assert axe(page) == [], (path, scheme)
    assert page.evaluate("getComputedStyle(document.querySelector('.masthead')).borderTopWidth") == "6px"

