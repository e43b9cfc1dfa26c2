"""Hostile requests to `lessonpress endpoint` under waitress: each a clear 4xx, no mail that should not go, nothing reflected
unescaped, and the endpoint still up afterwards."""

from __future__ import annotations

import http.client
import mailbox
import socket
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest

from lessonpress.stamps import make_stamp
from lessonpress.tokens import url_token
from test_endpoint_support import PUBLIC, SECRET, Answer, Endpoint, ListRelay, endpoint_site, run_endpoint
from test_send_support import smtp_server

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass
class Running:
    endpoint: Endpoint
    relay: ListRelay

    def sent(self) -> int:
        return len(self.relay.messages)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One endpoint for the whole module; each test comes from clients of its own (X-Forwarded-For from the trusted proxy)."""
    tmp_path = tmp_path_factory.mktemp("hostile-endpoint")
    relay = ListRelay()
    relay.maildir = tmp_path / "list-maildir"
    mailbox.Maildir(relay.maildir).close()
    with smtp_server(relay) as settings, run_endpoint(endpoint_site(tmp_path), settings.port) as endpoint:
        yield Running(endpoint, relay)
        assert endpoint.process.poll() is None, "the endpoint went down"
        assert endpoint.request("GET", "/healthz").status == 200


def unsubscribe(address: str = "ann@example.com", **changes: str) -> str:
    query = {"email": address, "token": url_token(SECRET, address), **changes}
    return f"{PUBLIC}/unsubscribe?{urlencode(query)}"


def confirm(address: str = "cleo@example.com", at: int | None = None, secret: str = SECRET, **changes: str) -> str:
    moment = int(time.time()) if at is None else at
    query = {"email": address, "at": str(moment), "token": make_stamp(secret, "subscribe", address, moment), **changes}
    return f"{PUBLIC}/confirm?{urlencode(query)}"


def problem(answer: Answer, status: int, title: str) -> None:
    """A refusal a person can read: the status, a page in the site's look saying what happened."""
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert f"<h1>{title}</h1>" in answer.body and 'class="masthead"' in answer.body


GOOD = unsubscribe()
TOKEN = url_token(SECRET, "ann@example.com")
BAD_UNSUBSCRIBES = {
    "forged": (unsubscribe(token=TOKEN[:-1] + ("0" if TOKEN[-1] != "0" else "1")), 403, "This link is not valid"),
    "truncated": (unsubscribe(token=TOKEN[:40]), 400, "This link is incomplete"),
    "another site's secret": (unsubscribe(token=url_token("another-sites-secret", "ann@example.com")), 403, "This link is not valid"),
    "another reader's token": (unsubscribe(token=url_token(SECRET, "ben@example.com")), 403, "This link is not valid"),
    "no token": (f"{PUBLIC}/unsubscribe?email=ann%40example.com", 400, "This link is incomplete"),
    "no address": (f"{PUBLIC}/unsubscribe?token={TOKEN}", 400, "This link is incomplete"),
    "a header in the address": (unsubscribe("ann@example.com\r\nBcc: all@evil.example", token=TOKEN), 400, "This link is incomplete"),
    "the token twice": (f"{GOOD}&token={TOKEN}", 400, "Bad request"),
}


@pytest.mark.parametrize("case", sorted(BAD_UNSUBSCRIBES))
def test_a_bad_unsubscribe_link_is_refused_and_hands_off_nothing(running: Running, case: str) -> None:
    url, status, title = BAD_UNSUBSCRIBES[case]
    before = running.sent()
    problem(running.endpoint.request("GET", url), status, title)
    problem(running.endpoint.request("POST", url, ONE_CLICK, FORM), status, title)
    assert running.sent() == before


def test_a_replayed_one_click_post_hands_off_once(running: Running) -> None:
    address = "replay@example.com"
    before = running.sent()
    for _ in range(5):
        assert running.endpoint.request("POST", unsubscribe(address), ONE_CLICK, FORM).status == 200
    assert running.sent() == before + 1


def test_a_one_click_post_needs_the_rfc_8058_body(running: Running) -> None:
    before = running.sent()
    problem(running.endpoint.request("POST", GOOD, "List-Unsubscribe=Yes", FORM), 400, "Bad request")
    problem(running.endpoint.request("POST", GOOD, "", FORM), 400, "Bad request")
    assert running.sent() == before


NOW = int(time.time())
STAMP = make_stamp(SECRET, "subscribe", "cleo@example.com", NOW)
BAD_CONFIRMS = {
    "forged": (confirm(at=NOW, token="0" * 32), 403, "This link is not valid"),
    "truncated": (confirm(at=NOW, token=STAMP[:20]), 403, "This link is not valid"),
    "no time": (f"{PUBLIC}/confirm?email=cleo%40example.com&token={STAMP}", 400, "This link is incomplete"),
    "another site's secret": (confirm(at=NOW, secret="another-sites-secret"), 403, "This link is not valid"),
    "another address": (confirm(at=NOW, email="mallory@example.com", token=STAMP), 403, "This link is not valid"),
    "time moved": (confirm(at=NOW, token=STAMP).replace(f"at={NOW}", f"at={NOW + 60}"), 403, "This link is not valid"),
    "a time in superscript digits": (confirm(at=NOW, token=STAMP).replace(f"at={NOW}", "at=%C2%B2"), 400, "This link is incomplete"),
    "expired": (confirm(at=NOW - 8 * 24 * 3600), 410, "This link has expired"),
    "from the future": (confirm(at=NOW + 24 * 3600), 403, "This link is not valid"),
    "an unsubscribe token": (confirm(at=NOW, token=url_token(SECRET, "cleo@example.com")), 403, "This link is not valid"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIRMS))
def test_a_bad_confirmation_link_is_refused_and_hands_off_nothing(running: Running, case: str) -> None:
    url, status, title = BAD_CONFIRMS[case]
    before = running.sent()
    problem(running.endpoint.request("GET", url), status, title)
    problem(running.endpoint.request("POST", url, "confirm=yes", FORM), status, title)
    assert running.sent() == before


def test_a_replayed_confirmation_hands_off_once(running: Running) -> None:
    before = running.sent()
    url = confirm("twice@example.com")
    for _ in range(3):
        assert running.endpoint.request("POST", url, "confirm=yes", FORM).status == 200
    assert running.sent() == before + 1


@pytest.mark.parametrize("address", [
    "ann@example.com\r\nBcc: everyone@evil.example",
    "ann@example.com\nSubject: free money",
    "Ann <ann@example.com>",
    "ann@example.com, bob@example.com",
    "a" * 300 + "@example.com",
    "",
])
def test_an_address_that_is_not_one_sends_nothing_and_is_shown_escaped(running: Running, address: str) -> None:
    before = running.sent()
    answer = running.endpoint.post_form(f"{PUBLIC}/subscribe", {"email": address}, {"X-Forwarded-For": "198.51.100.20"})
    assert answer.status == 400 and "Please enter an email address" in answer.body
    assert "<ann@example.com>" not in answer.body and "\r\nBcc" not in answer.body
    assert running.sent() == before


def test_markup_sent_by_a_client_is_never_reflected_unescaped(running: Running) -> None:
    script = '"><script>alert(1)</script>'
    answer = running.endpoint.post_form(f"{PUBLIC}/subscribe", {"email": script}, {"X-Forwarded-For": "198.51.100.21"})
    assert answer.status == 400 and "<script>" not in answer.body and "&lt;script&gt;" in answer.body
    for target in (f"/{script}", f"{PUBLIC}/unsubscribe?email={script}&token=x", f"{PUBLIC}/confirm?email={script}&at=1&token=x"):
        answer = running.endpoint.request("GET", target.replace(" ", "%20").replace('"', "%22").replace("<", "%3C").replace(">", "%3E"))
        assert 400 <= answer.status < 500 and "<script>" not in answer.body and "alert(1)" not in answer.body


def test_ten_thousand_subscribe_posts_from_one_client_send_ten_mails_and_the_endpoint_stays_up(running: Running) -> None:
    before = running.sent()
    statuses: Counter[int] = Counter()
    connection = http.client.HTTPConnection("127.0.0.1", running.endpoint.port, timeout=60)
    try:
        for number in range(10_000):
            answer = running.endpoint.post_form(f"{PUBLIC}/subscribe", {"email": f"flood{number}@example.com"}, {"X-Forwarded-For": "203.0.113.7"}, connection)
            statuses[answer.status] += 1
            if answer.status == 429:
                assert int(answer.headers["Retry-After"]) > 0
    finally:
        connection.close()
    assert statuses == Counter({200: 10, 429: 9_990})
    assert running.sent() == before + 10
    assert running.endpoint.request("GET", "/healthz").status == 200
    # Another client is still served.
    assert running.endpoint.post_form(f"{PUBLIC}/subscribe", {"email": "someone@example.com"}, {"X-Forwarded-For": "203.0.113.8"}).status == 200


def test_one_address_gets_at_most_two_confirmations_a_day_whoever_asks(running: Running) -> None:
    statuses = [
        running.endpoint.post_form(f"{PUBLIC}/subscribe", {"email": "victim@example.com"}, {"X-Forwarded-For": f"192.0.2.{number}"}).status
        for number in range(1, 6)
    ]
    assert statuses == [200, 200, 429, 429, 429]
    assert len(running.relay.to("victim@example.com")) == 2


def status_of_a_claimed_body(port: int, length: int) -> int:
    """Announce a body of `length` bytes, send the first kilobyte, and read the answer: the server need not wait for the rest."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        head = f"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
        connection.sendall(head.encode() + b"email=" + b"a" * 1024)
        return int(connection.makefile("rb").readline().split()[1])


def test_oversized_bodies_are_refused(running: Running) -> None:
    before = running.sent()
    # Past the endpoint's 8 KB, sent whole; then bodies waitress refuses as soon as it reads their length.
    answer = running.endpoint.request("POST", f"{PUBLIC}/subscribe", "email=" + "a" * 9 * 1024, FORM)
    assert answer.status == 413 and "at most 8192 bytes" in answer.body
    for size in (100 * 1024, 2 * 1024 * 1024 * 1024):
        assert status_of_a_claimed_body(running.endpoint.port, size) == 413
    assert running.sent() == before
    assert running.endpoint.request("GET", "/healthz").status == 200


@pytest.mark.parametrize(("method", "target", "allowed"), [
    ("PUT", "/subscribe", "GET, HEAD, POST"),
    ("DELETE", GOOD, "GET, HEAD, POST"),
    ("PATCH", "/confirm", "GET, HEAD, POST"),
    ("POST", "/healthz", "GET, HEAD"),
    ("OPTIONS", "/list/subscribe", "GET, HEAD, POST"),
])
def test_a_wrong_method_is_405_with_the_allowed_ones(running: Running, method: str, target: str, allowed: str) -> None:
    answer = running.endpoint.request(method, target, "x=1", FORM)
    assert answer.status == 405 and answer.headers["Allow"] == allowed


def test_an_unknown_page_is_404(running: Running) -> None:
    problem(running.endpoint.request("GET", "/admin"), 404, "Page not found")
    problem(running.endpoint.request("GET", "/list/../etc/passwd"), 404, "Page not found")


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "", "application/x-www-form-urlencodedX"])
def test_a_body_that_is_not_a_form_is_415(running: Running, content_type: str) -> None:
    before = running.sent()
    headers = {"Content-Type": content_type} if content_type else {}
    for target in (f"{PUBLIC}/subscribe", GOOD):
        body = '{"email": "ann@example.com"}' if "json" in content_type else "email=ann@example.com&List-Unsubscribe=One-Click"
        problem(running.endpoint.request("POST", target, body, {**headers, "X-Forwarded-For": "198.51.100.30"}), 415, "Unsupported content type")
    assert running.sent() == before


def test_a_form_that_cannot_be_read_is_400(running: Running) -> None:
    headers = {**FORM, "X-Forwarded-For": "198.51.100.31"}
    problem(running.endpoint.request("POST", f"{PUBLIC}/subscribe", b"email=\xff\xfe@example.com", headers), 400, "Bad request")
    problem(running.endpoint.request("POST", f"{PUBLIC}/subscribe", "email=a@example.com&email=b@example.com", headers), 400, "Bad request")
    multipart = {"Content-Type": "multipart/form-data; boundary=XyZ", "X-Forwarded-For": "198.51.100.31"}
    problem(running.endpoint.request("POST", GOOD, "--XyZ\r\nno headers here", multipart), 400, "Bad request")


def test_plus_tags_share_their_mailbox_s_two_confirmations_a_day(running: Running) -> None:
    statuses = [
        running.endpoint.post_form(f"{PUBLIC}/subscribe", {"email": email}, {"X-Forwarded-For": f"198.51.100.{number}"}).status
        for number, email in enumerate(["tagged+1@example.com", "Tagged+2@example.com", "tagged@example.com", "tagged+3@example.com"], start=1)
    ]
    assert statuses == [200, 200, 429, 429]


def test_an_ipv6_client_cannot_step_around_its_limit_within_its_64(running: Running) -> None:
    statuses = [
        running.endpoint.post_form(f"{PUBLIC}/subscribe", {"email": f"v6-{number}@example.com"}, {"X-Forwarded-For": f"2001:db8:0:7::{number:x}"}).status
        for number in range(1, 13)
    ]
    assert statuses.count(200) == 10 and statuses[-1] == 429  # ten an hour for the whole /64, as for one IPv4 address
