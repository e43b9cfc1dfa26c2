"""`lessonpress endpoint` under waitress, over HTTP: one-click unsubscribe, the button page, the subscribe form and its
confirmation, each carried to the list by a real relay, a real Maildir and a real `lessonpress inbox` pass, then `send`."""

from __future__ import annotations

import mailbox
import re
import time
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from conftest import build_into
from lessonpress.cli import main
from lessonpress.mail.handoff import Handoff, handoff_text
from lessonpress.send.personal import unsubscribe_link
from lessonpress.send.roster import Roster
from test_endpoint_support import LIST_ADDRESS, PUBLIC, SECRET, ListRelay, endpoint_site, lessonpress, run_endpoint
from test_inbox_pass import mail, status_of
from test_send_support import LESSON, free_port, smtp_server

NEXT_LESSON = "retention/the-first-ninety-days"


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[ListRelay, int]]:
    handler = ListRelay()
    handler.maildir = tmp_path / "list-maildir"
    mailbox.Maildir(handler.maildir).close()
    with smtp_server(handler) as settings:
        yield handler, settings.port


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = endpoint_site(tmp_path)
    roster = Roster.open(root)
    for address in ("ann@example.com", "ben@example.com"):
        roster.add(address)
    roster.close()
    return root


def inbox_pass(root: Path, relay: ListRelay, port: int) -> str:
    passed = lessonpress(root, port, "inbox", str(relay.maildir))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    return passed.stdout


def send(root: Path, port: int, lesson: str) -> str:
    sent = lessonpress(root, port, "send", lesson)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    return sent.stdout


def unsubscribe_url(relay: ListRelay, address: str) -> str:
    """The https URL of List-Unsubscribe in the lesson `address` received, checked as a mail provider reads it (RFC 8058)."""
    [message] = relay.to(address)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    urls = re.findall(r"<(https://[^>]+)>", str(message["List-Unsubscribe"]))
    assert len(urls) == 1 and urls[0].startswith(f"{PUBLIC}/unsubscribe?email=ann%40example.com&token="), message["List-Unsubscribe"]
    return urls[0]


def form_of(answer_body: str) -> lxml.html.HtmlElement:
    [form] = lxml.html.fromstring(answer_body).xpath("//main//form")
    assert form.get("method") == "post"
    return form


def test_a_one_click_post_reaches_the_list_and_the_next_send_skips_the_reader(site: Path, relay: tuple[ListRelay, int]) -> None:
    handler, port = relay
    assert "sent 2" in send(site, port, LESSON)
    url = unsubscribe_url(handler, "ann@example.com")
    with run_endpoint(site, port) as endpoint:
        answer = endpoint.request("POST", url, "List-Unsubscribe=One-Click", {"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status == 200 and "You are unsubscribed" in answer.body
    # The endpoint changed no list: the hand-off waits in the list's mailbox for the inbox pass.
    assert handler.handoffs() == 1 and status_of(site, "ann@example.com") == "active"
    passed = inbox_pass(site, handler, port)
    assert "unsubscribed ann@example.com (on the web)" in passed and "1 unsubscribed" in passed
    assert status_of(site, "ann@example.com") == "unsubscribed"
    roster = Roster.open(site, read_only=True)
    record = roster.show("ann@example.com")
    roster.close()
    assert record is not None and (record.history[-1].status, record.history[-1].how) == ("unsubscribed", "form")

    before = len(handler.messages)
    assert "sent 1" in send(site, port, NEXT_LESSON)
    newly = [recipients for recipients, _ in handler.messages[before:]]
    assert newly == [("ben@example.com",)]


def test_a_mail_provider_posting_multipart_form_data_unsubscribes_too(site: Path, relay: tuple[ListRelay, int]) -> None:
    handler, port = relay
    send(site, port, LESSON)
    url = unsubscribe_url(handler, "ann@example.com")
    body = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n"
    with run_endpoint(site, port) as endpoint:
        answer = endpoint.request("POST", url, body, {"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert answer.status == 200 and handler.handoffs() == 1
    inbox_pass(site, handler, port)
    assert status_of(site, "ann@example.com") == "unsubscribed"


def test_opening_the_link_shows_one_button_and_only_the_button_unsubscribes(site: Path, relay: tuple[ListRelay, int]) -> None:
    handler, port = relay
    send(site, port, LESSON)
    url = unsubscribe_url(handler, "ann@example.com")
    with run_endpoint(site, port) as endpoint:
        for _ in range(3):  # a reader, then two mail scanners that open every link
            page = endpoint.request("GET", url)
            assert page.status == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
        head = endpoint.request("HEAD", url)
        assert head.status == 200 and head.body == ""
        assert handler.handoffs() == 0
        form = form_of(page.body)
        assert form.get("action") == url
        fields = dict(form.form_values())
        assert fields == {"List-Unsubscribe": "One-Click"}
        assert "ann@example.com" in form.xpath("string(.//button)")
        document = lxml.html.fromstring(page.body)
        assert document.get("lang") == "en" and document.xpath("//link[@rel='stylesheet']/@href") == ["https://retention.example.org/static/style.css"]
        assert not document.xpath("//script")
        done = endpoint.post_form(form.get("action"), fields)
    assert done.status == 200 and handler.handoffs() == 1
    assert "unsubscribed ann@example.com (on the web)" in inbox_pass(site, handler, port)


def test_subscribe_confirm_by_link_and_the_next_send_includes_the_reader(site: Path, relay: tuple[ListRelay, int]) -> None:
    handler, port = relay
    with run_endpoint(site, port) as endpoint:
        form = form_of(endpoint.request("GET", f"{PUBLIC}/subscribe").body)
        assert form.get("action") == f"{PUBLIC}/subscribe"
        answer = endpoint.post_form(form.get("action"), {"email": "Cleo@Example.com"})
        assert answer.status == 200 and "Check your inbox" in answer.body and "Cleo@Example.com" in answer.body
        [confirmation] = handler.to("Cleo@Example.com")
        assert confirmation["Subject"] == "Confirm your subscription to The Retention Letter" and confirmation["Reply-To"] is None
        text = confirmation.get_body(("plain",)).get_content()
        [link] = re.findall(rf"{re.escape(PUBLIC)}/confirm\?\S+", text)
        assert link in confirmation.get_body(("html",)).get_content().replace("&amp;", "&")
        page = endpoint.request("GET", link)
        assert page.status == 200 and "Confirm your subscription" in page.body
        assert handler.handoffs() == 0  # opening the link confirms nothing
        button = form_of(page.body)
        assert endpoint.post_form(button.get("action"), dict(button.form_values())).status == 200
    assert handler.handoffs() == 1
    assert status_of(site, "cleo@example.com") == "absent"
    passed = inbox_pass(site, handler, port)
    assert "confirmed Cleo@Example.com on the web: now active" in passed
    assert status_of(site, "cleo@example.com") == "active"
    assert "sent 3" in send(site, port, LESSON)
    assert len(handler.to("Cleo@Example.com")) == 2


def test_the_health_check_answers_the_proxy(site: Path, relay: tuple[ListRelay, int]) -> None:
    _, port = relay
    with run_endpoint(site, port) as endpoint:
        answer = endpoint.request("GET", "/healthz")
        assert (answer.status, answer.body) == (200, "ok\n")
        assert endpoint.request("HEAD", "/list/healthz").status == 200


def test_the_site_subscribe_box_posts_to_the_endpoint_and_keeps_the_mailto(site: Path) -> None:
    build_into(site)
    page = lxml.html.parse(str(site / "output" / "index.html")).getroot()
    [form] = page.xpath("//section[@id='subscribe']//form")
    assert (form.get("method"), form.get("action")) == ("post", f"{PUBLIC}/subscribe")
    [field] = form.xpath(".//input[@name='email']")
    assert field.get("type") == "email" and field.get("id") in page.xpath("//label/@for")
    assert page.xpath(f"//section[@id='subscribe']//a[@href='mailto:{LIST_ADDRESS}?subject=Subscribe']")


def test_the_inbox_pass_refuses_a_forged_hand_off_and_one_signed_with_another_secret(site: Path, relay: tuple[ListRelay, int], tmp_path: Path) -> None:
    handler, port = relay
    now = int(time.time())
    real = handoff_text(SECRET, Handoff("unsubscribe", "ann@example.com", now))
    foreign = handoff_text("another-sites-secret", Handoff("unsubscribe", "ben@example.com", now))
    altered = real.replace("ann@example.com", "ben@example.com")
    box = mailbox.Maildir(handler.maildir)
    cut_short = real[: real.index("stamp: ")]
    for body in (foreign, altered, cut_short):
        box.add(mail("mallory@evil.example", LIST_ADDRESS, "lessonpress endpoint: unsubscribe", body))
    box.close()
    passed = inbox_pass(site, handler, port)
    assert passed.count("that does not verify") == 2 and passed.count("refused: a hand-off from the endpoint that is not whole") == 1, passed
    assert "3 refused" in passed
    assert status_of(site, "ann@example.com") == status_of(site, "ben@example.com") == "active"


def test_without_its_settings_the_endpoint_names_every_missing_one(tmp_path: Path) -> None:
    root = endpoint_site(tmp_path)
    (root / "lessonpress.toml").write_text((root / "lessonpress.toml").read_text().replace(f'endpoint = "{PUBLIC}"\n', ""))
    result = CliRunner(env={"LESSONPRESS_SECRET": "", "LESSONPRESS_SMTP_URL": ""}).invoke(main, ["-C", str(root), "endpoint"])
    assert result.exit_code == 1
    assert "lessonpress.toml: [list] endpoint is not set" in result.stderr
    assert "LESSONPRESS_SECRET: is not set" in result.stderr and "LESSONPRESS_SMTP_URL: is not set" in result.stderr
    assert result.stderr.strip().endswith("endpoint not started: fix the problems above and start it again")
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("url", "problem"), [
    ("https://letters.example.org/list?x=1", "[list] endpoint must be a base URL without '?' or '#'"),
    ("http://letters.example.org/list", "[list] endpoint must be an https URL (readers' addresses travel in its links and forms)"),
    ("javascript:alert(1)", "[list] endpoint must be an absolute http(s) URL"),
])
def test_an_endpoint_url_that_cannot_serve_readers_is_refused_with_its_line(tmp_path: Path, url: str, problem: str) -> None:
    root = endpoint_site(tmp_path, url)
    line = next(number for number, text in enumerate((root / "lessonpress.toml").read_text().splitlines(), 1) if text.startswith("endpoint ="))
    result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 1 and f"lessonpress.toml:{line}: {problem}" in result.stderr


def test_a_confirmation_on_the_web_never_brings_back_a_reader_who_left(site: Path, relay: tuple[ListRelay, int]) -> None:
    handler, port = relay
    roster = Roster.open(site)
    roster.set_status("ann@example.com", "unsubscribed", how="command", source="test")
    roster.close()
    box = mailbox.Maildir(handler.maildir)
    box.add(mail("letters@retention.example.org", LIST_ADDRESS, "lessonpress endpoint: subscribe", handoff_text(SECRET, Handoff("subscribe", "ann@example.com", int(time.time())))))
    box.close()
    passed = inbox_pass(site, handler, port)
    assert "refused: a confirmed subscription from the endpoint: ann@example.com is unsubscribed: only 'lessonpress list add' brings them back" in passed
    assert status_of(site, "ann@example.com") == "unsubscribed"




def test_while_the_relay_is_down_a_post_answers_503_and_the_same_click_works_once_it_is_back(site: Path, tmp_path: Path) -> None:
    handler = ListRelay()
    handler.maildir = tmp_path / "list-maildir"
    mailbox.Maildir(handler.maildir).close()
    port = free_port()
    relay = Controller(handler, hostname="127.0.0.1", port=port)
    relay.start()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with run_endpoint(site, port) as endpoint:
        assert endpoint.request("POST", unsubscribe_link(f"{PUBLIC}/unsubscribe", SECRET, "ann@example.com"), "List-Unsubscribe=One-Click", form).status == 200
        relay.stop()
        ben = unsubscribe_link(f"{PUBLIC}/unsubscribe", SECRET, "ben@example.com")
        down = endpoint.request("POST", ben, "List-Unsubscribe=One-Click", form)
        assert down.status == 503 and int(down.headers["Retry-After"]) > 0 and "Nothing changed" in down.body
        relay = Controller(handler, hostname="127.0.0.1", port=port)
        relay.start()
        try:
            assert endpoint.request("POST", ben, "List-Unsubscribe=One-Click", form).status == 200
        finally:
            relay.stop()
    assert handler.handoffs() == 2
    assert "2 unsubscribed" in inbox_pass(site, handler, port)
