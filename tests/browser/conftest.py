"""Shared parts of the browser group: Debian's Chromium, built copies of the example site, a crawl with axe-core."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    sync_playwright,
)

from lessonpress.build import build
from lessonpress.site.model import BuildOptions

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "test-artifacts" / "browser"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
# A fixed build moment keeps the set of published lessons the same whatever day the tests run.
BUILD_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# The example lesson: lesson 2 of its series, so it has a previous and a next lesson, a poll and a P.S.
EXAMPLE_LESSON = "retention/the-first-ninety-days/"
EXAMPLE_SOURCE = "lessons/retention/02-the-first-ninety-days.md"
MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BLOCKING_IMPACTS = ("serious", "critical")
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map(n => n.target.join(' '))}));
}"""
PAGE_FACTS = """() => ({
  title: document.title.trim(),
  lang: document.documentElement.getAttribute('lang') || '',
  description: document.querySelector('meta[name="description"]')?.content.trim() || '',
  viewport: document.querySelector('meta[name="viewport"]')?.content || '',
  feeds: [...document.querySelectorAll('link[rel="alternate"]')]
    .filter(l => ['application/rss+xml', 'application/atom+xml'].includes(l.type)).map(l => l.href),
  overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  links: [...document.querySelectorAll('a[href], link[href], img[src], form[action]')].map(e => e.href || e.src || e.action),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
})"""


def require_browser_tools() -> None:
    """Skip (locally) or fail (in CI) when Chromium or axe-core is missing."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    if not AXE_JS.exists():
        missing.append(f"axe-core at {AXE_JS.relative_to(REPO)} (npm ci --prefix tests/browser)")
    if not missing:
        return
    reason = "browser tests need " + " and ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@dataclass
class PageReport:
    """What one crawled page showed the browser."""

    url: str
    status: int
    title: str = ""
    lang: str = ""
    description: str = ""
    viewport: str = ""
    feeds: list[str] = field(default_factory=list)
    overflow: int = 0
    ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # console errors, page exceptions, failed requests
    violations: list[dict] = field(default_factory=list)  # axe-core, serious or critical only


@dataclass
class SiteReport:
    """The crawl of a whole site from its home page."""

    base: str
    pages: dict[str, PageReport]
    referrers: dict[str, str]  # URL -> the first page that links to it
    broken: list[str]  # "page -> target: why" for resources and anchors that lead nowhere

    def path(self, url: str) -> str:
        """Return a crawled URL as a site path, e.g. `/retention/`."""
        return url[len(self.base) - 1 :]

    def link_problems(self) -> list[str]:
        """Every page that did not load cleanly and every link that leads nowhere."""
        found = list(self.broken)
        for page in self.pages.values():
            if page.status != 200:
                found.append(f"{self.path(self.referrers[page.url])} -> {self.path(page.url)}: HTTP {page.status}")
            else:
                found.extend(f"{self.path(page.url)}: {error}" for error in page.errors)
        return found

    def head_problems(self) -> list[str]:
        """Pages missing a title, language, description, viewport or feed autodiscovery link."""
        found = []
        for page in (page for page in self.pages.values() if page.status == 200):
            missing = [name for name in ("title", "lang", "description") if not getattr(page, name)]
            if "width=device-width" not in page.viewport:
                missing.append("viewport")
            if not page.feeds:
                missing.append("feed link")
            if missing:
                found.append(f"{self.path(page.url)}: no {', '.join(missing)}")
        return found

    def overflow_problems(self) -> list[str]:
        """Pages wider than the phone they are shown on."""
        return [f"{self.path(p.url)}: {p.overflow}px wider than the screen" for p in self.pages.values() if p.overflow > 0]

    def axe_problems(self) -> list[str]:
        """Serious and critical axe-core violations, one line per rule and page."""
        return [
            f"{self.path(p.url)}: {v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'][:3])}"
            for p in self.pages.values()
            for v in p.violations
        ]


class QuietHandler(SimpleHTTPRequestHandler):
    """Serve files without logging every request to stderr."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class names it so
        """Log nothing."""


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Start Playwright's driver once, after checking Chromium and axe-core are there."""
    require_browser_tools()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Launch Debian's Chromium headless, once for the whole group."""
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh desktop-sized browser context for one test, with axe-core loaded in every page."""
    ctx = browser.new_context(viewport=DESKTOP)
    ctx.add_init_script(path=str(AXE_JS))
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A new tab in the test's context."""
    return context.new_page()


def copy_site(destination: Path) -> Path:
    """Copy the example site (config, lessons and, when there, poll results and topics in data/) into `destination`."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "lessonpress.toml", destination / "lessonpress.toml")
    shutil.copytree(REPO / "lessons", destination / "lessons")
    if (REPO / "data").is_dir():
        shutil.copytree(REPO / "data", destination / "data")
    return destination


def build_site(root: Path) -> Path:
    """Build the site in `root` into `root/output` and return the output folder."""
    build(root, BuildOptions(now=BUILD_NOW))
    return root / "output"


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[..., str]]:
    """Serve folders over HTTP on 127.0.0.1 (with QuietHandler, or the handler given); return each one's base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(directory: Path, handler: type[SimpleHTTPRequestHandler] = QuietHandler) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def serious_violations(page: Page) -> list[dict]:
    """Run axe-core (already loaded by the context's init script) and return its serious and critical violations."""
    return [violation for violation in page.evaluate(RUN_AXE) if violation["impact"] in BLOCKING_IMPACTS]


def _is_page(url: str) -> bool:
    """Say whether an internal URL is an HTML page to crawl rather than a file to fetch."""
    return urlsplit(url).path.endswith(("/", ".html"))


def crawl(browser: Browser, base: str, scope: str = "") -> SiteReport:
    """Visit every page under `base + scope` reachable from there at phone width, check each and run axe-core in it.

    Internal links that lead out of the scope are fetched without a browser and must answer 200.
    """
    start = base + scope
    ctx = browser.new_context(viewport=MOBILE)
    ctx.add_init_script(path=str(AXE_JS))  # compiled once per context, cheaper than injecting per page
    page = ctx.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: message.type == "error" and errors.append(f"console error: {message.text} ({message.location.get('url', '')})"),
    )
    page.on("pageerror", lambda error: errors.append(f"page exception: {error}"))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url} ({request.failure})"))
    page.on("response", lambda response: response.status >= 400 and errors.append(f"HTTP {response.status} for {response.url}"))

    pages: dict[str, PageReport] = {}
    anchors: list[tuple[str, str, str]] = []  # (from page, target page, fragment)
    referrers: dict[str, str] = {start: start}
    queue = [start]
    while queue:
        url = queue.pop(0)
        if url in pages:
            continue
        errors.clear()
        response = page.goto(url, wait_until="load")
        report = PageReport(url=url, status=response.status if response else 0)
        pages[url] = report
        if report.status == 200:
            facts = page.evaluate(PAGE_FACTS)
            report.violations = serious_violations(page)
            for name in ("title", "lang", "description", "viewport", "feeds", "overflow", "ids"):
                setattr(report, name, facts[name])
            for link in facts["links"]:
                target, fragment = urldefrag(link)
                if not target.startswith(base):
                    continue
                if fragment:
                    anchors.append((url, target, fragment))
                referrers.setdefault(target, url)
                if _is_page(target) and target.startswith(start):
                    queue.append(target)
        report.errors = list(errors)

    site = SiteReport(base=base, pages=pages, referrers=referrers, broken=[])
    for target in sorted(set(referrers) - set(pages)):
        status = ctx.request.get(target).status
        if status != 200:
            site.broken.append(f"{site.path(referrers[target])} -> {site.path(target)}: HTTP {status}")
    for source, target, fragment in anchors:
        if target in pages and pages[target].status == 200 and fragment not in pages[target].ids:
            site.broken.append(f"{site.path(source)} -> {site.path(target)}#{fragment}: no such anchor")
    ctx.close()
    return site


@pytest.fixture(scope="session")
def new_site(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    """Return a factory of fresh copies of the example site (config and lessons), each in its own folder."""
    return lambda: copy_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="session")
def build_and_serve(serve: Callable[[Path], str]) -> Callable[[Path], str]:
    """Return a function that builds a site folder and serves its output; it returns the base URL."""
    return lambda root: serve(build_site(root))


@pytest.fixture(scope="session")
def crawl_site(browser: Browser) -> Callable[..., SiteReport]:
    """Return a function that crawls a served site from its base URL (and, optionally, only under a scope)."""
    return partial(crawl, browser)


@pytest.fixture(scope="session")
def example_root(new_site: Callable[[], Path]) -> Path:
    """The example site, copied and built once for the whole group."""
    root = new_site()
    build_site(root)
    return root


@pytest.fixture(scope="session")
def example_url(example_root: Path, serve: Callable[[Path], str]) -> str:
    """The built example site, served on 127.0.0.1."""
    return serve(example_root / "output")


@pytest.fixture(scope="session")
def example_crawl(crawl_site: Callable[..., SiteReport], example_url: str) -> SiteReport:
    """The crawl of the example site, shared by every test that checks it."""
    return crawl_site(example_url)


@pytest.fixture(scope="session")
def axe() -> Callable[[Page], list[dict]]:
    """Return the function that runs axe-core in a page of the `context` fixture."""
    return serious_violations


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The git-ignored folder screenshots go to."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
