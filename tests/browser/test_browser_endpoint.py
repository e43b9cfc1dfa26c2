"""The endpoint's pages in Chromium at phone width: the site's subscribe form, the confirmation page, the unsubscribe page.

The site is served from one port and `lessonpress endpoint` (waitress, in a process of its own) from another, as a
site on a static host and the endpoint behind a proxy would be; the confirmation comes through a real SMTP server.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from lessonpress.send.personal import unsubscribe_link
from test_endpoint_support import SECRET, Endpoint, ListRelay, run_endpoint
from test_send_support import free_port, smtp_server

from .conftest import AXE_JS, MOBILE, build_site, copy_site, serious_violations

pytestmark = pytest.mark.browser

LIST = """
[list]
address = "letters@retention.example.org"
endpoint = "{endpoint}"
"""


@dataclass
class Live:
    site: str
    endpoint: Endpoint
    relay: ListRelay


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, serve: Callable[[Path], str]) -> Iterator[Live]:
    """The example site built for its own local address, with [list] endpoint pointing at a local endpoint."""
    tmp_path = tmp_path_factory.mktemp("endpoint-browser")
    root = copy_site(tmp_path / "site")
    (root / "output").mkdir()
    site_url = serve(root / "output")
    port = free_port()
    config = root / "lessonpress.toml"
    text = config.read_text(encoding="utf-8").replace('url = "https://retention.example.org"', f'url = "{site_url.rstrip("/")}"', 1)
    config.write_text(text + LIST.format(endpoint=f"http://127.0.0.1:{port}"), encoding="utf-8")
    build_site(root)
    relay = ListRelay()
    relay.maildir = tmp_path / "list-maildir"
    mailbox.Maildir(relay.maildir).close()
    with smtp_server(relay) as settings, run_endpoint(root, settings.port, port) as endpoint:
        yield Live(site_url, endpoint, relay)


@dataclass
class Visit:
    """A phone-sized tab that records what went wrong in it: console errors (a refused stylesheet too), failed requests."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def check(self, heading: str) -> None:
        """The page shows `heading`, fits the phone, has a language, and axe finds nothing serious."""
        assert self.page.locator("main h1").inner_text() == heading
        assert self.page.evaluate("document.documentElement.lang") == "en"
        assert self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0, f"{heading}: wider than the phone"
        assert self.page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgba(0, 0, 0, 0)", "the site's stylesheet did not load"
        assert self.errors == [], self.errors
        assert serious_violations(self.page) == [], heading
        # axe-core fetches the stylesheet itself, which the pages' policy (no connect-src) refuses: its own doing, not the page's.
        self.errors.clear()


@pytest.fixture
def visit(browser: Browser) -> Iterator[Visit]:
    context = browser.new_context(viewport=MOBILE, java_script_enabled=True)
    context.add_init_script(path=str(AXE_JS))
    page = context.new_page()
    found = Visit(page)
    page.on("console", lambda message: message.type == "error" and found.errors.append(message.text))
    page.on("requestfailed", lambda request: found.errors.append(f"request failed: {request.url}"))
    yield found
    context.close()


def test_subscribe_from_the_site_then_confirm_on_the_endpoints_page(live: Live, visit: Visit) -> None:
    page = visit.page
    page.goto(live.site)
    form = page.locator("#subscribe form")
    form.get_by_label("Your email address").fill("phone.reader@example.com")
    with page.expect_navigation():
        form.get_by_role("button", name="Subscribe").click()
    assert page.url.startswith(live.endpoint.base)
    visit.check("Check your inbox")

    [confirmation] = live.relay.to("phone.reader@example.com")
    [link] = re.findall(r"http://127\.0\.0\.1:\d+/confirm\?\S+", confirmation.get_body(("plain",)).get_content())
    page.goto(link)
    visit.check("Confirm your subscription")
    assert live.relay.handoffs() == 0
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, send me the lessons").click()
    visit.check("You are subscribed")
    assert live.relay.handoffs() == 1


def test_the_unsubscribe_page_has_one_button_that_works_at_phone_width(live: Live, visit: Visit) -> None:
    page = visit.page
    page.goto(unsubscribe_link(f"{live.endpoint.base}/unsubscribe", SECRET, "leaving.reader.with.a.long.address@example.com"))
    visit.check("Unsubscribe")
    before = live.relay.handoffs()
    buttons = page.locator("main button")
    assert buttons.count() == 1
    with page.expect_navigation():
        buttons.click()
    visit.check("You are unsubscribed")
    assert live.relay.handoffs() == before + 1


def test_the_subscribe_page_and_a_refusal_read_well_too(live: Live, visit: Visit) -> None:
    page = visit.page
    page.goto(f"{live.endpoint.base}/subscribe")
    visit.check("Subscribe")
    response = page.goto(f"{live.endpoint.base}/confirm?email=someone%40example.com&at=1&token=00")
    assert response is not None and response.status == 403
    visit.errors.clear()  # the browser reports the 403 itself as a console error
    visit.check("This link is not valid")
