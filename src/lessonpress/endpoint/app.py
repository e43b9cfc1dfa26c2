"""`lessonpress endpoint` as a WSGI application: one-click unsubscribe, the subscribe form, confirmation, a health check.

It keeps no list. A verified action is mailed to `[list] address` as a signed hand-off
(`mail/handoff.py`) and the next `lessonpress inbox` applies it to the one list `send` reads.
GET never changes anything: a mail scanner that opens every link unsubscribes no one.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from ..addresses import ADDR_SPEC, is_address
from ..mail.handoff import Handoff
from ..render.confirmation import CONFIRM_DAYS
from ..stamps import EXPIRED, stamp_problem
from ..tokens import verify_url_token
from ..translations import N_
from ..untrusted import ascii_number, one_line
from .forms import Fields, RequestProblem, form_fields, query_fields
from .limits import HandedOff, SlidingLimit, address_key, client_key
from .outbox import SUBSCRIBE_STAMP, Outbox
from .pages import Pages
from .settings import BODY_LIMIT, EndpointSettings

StartResponse = Callable[[str, list[tuple[str, str]]], object]
REASONS = {
    200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 410: "Gone",
    413: "Content Too Large", 415: "Unsupported Media Type", 429: "Too Many Requests", 503: "Service Unavailable",
}
READ = ("GET", "HEAD")
ROUTES: dict[str, tuple[str, ...]] = {"healthz": READ, "unsubscribe": (*READ, "POST"), "subscribe": (*READ, "POST"), "confirm": (*READ, "POST")}
URL_TOKEN = re.compile(r"[0-9a-fA-F]{64}")
ONE_CLICK = ("List-Unsubscribe", "One-Click")  # RFC 8058: the body of the POST a mail provider makes
RETRY_SECONDS = 300


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/html; charset=utf-8"


@dataclass
class Tally:
    """What the endpoint did since it started, for the closing summary; counts only, never an address."""

    requests: int = 0
    unsubscribes: int = 0
    confirmations: int = 0
    subscriptions: int = 0
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


def _address(value: str) -> str:
    """The address a link or form names, checked as `send` checks whom it sends to: nothing odd reaches a header."""
    address = value.strip()
    return address if is_address(address) and ADDR_SPEC.match(address) else ""


class EndpointApp:
    """The WSGI callable; one instance per process, its limits held in memory (see `limits.py`)."""

    def __init__(self, settings: EndpointSettings, *, outbox: Outbox | None = None, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.pages = Pages(settings.site)
        self.outbox = outbox or Outbox(settings)
        self.clock = clock
        limits = settings.limits
        self.per_address = SlidingLimit(limits.per_address)
        self.per_client = SlidingLimit(limits.per_client)
        self.overall = SlidingLimit(limits.overall)
        self.handed = HandedOff(limits.repeat_seconds)
        self.tally = Tally()
        site_url = urlsplit(settings.site.config.url)
        origin = f"{site_url.scheme}://{site_url.netloc}"
        # The pages take their stylesheet and icon from the site; nothing else loads, and no script runs.
        self._policy = f"default-src 'none'; style-src {origin}; img-src {origin}; form-action 'self' {origin}; frame-ancestors 'none'; base-uri 'none'"

    # -- WSGI ------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        self.tally.add("requests")
        try:
            response = self._respond(environ, method)
        except RequestProblem as problem:
            self.tally.add("refused")
            body = self.pages.render("problem", status=problem.status, problem=problem, subscribe_url=self._url("subscribe"))
            response = Response(problem.status, body, problem.headers)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            # The links carry an address and a token: the site's pages must not learn them from a Referer.
            ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", self._policy),
            *response.headers,
        ]
        start_response(f"{response.status} {REASONS[response.status]}", headers)
        return [b"" if method == "HEAD" else response.body]

    def _route(self, path: str) -> str:
        base = self.settings.base_path
        # Behind a proxy the public path may arrive whole (/list/subscribe) or with the prefix taken off (/subscribe).
        if base and (path == base or path.startswith(base + "/")):
            path = path[len(base) :]
        return path.strip("/")

    def _respond(self, environ: dict[str, Any], method: str) -> Response:
        route = self._route(str(environ.get("PATH_INFO", "")))
        allowed = ROUTES.get(route)
        if allowed is None:
            raise RequestProblem(404, N_("Page not found"), N_("There is no page at this address."))
        if method not in allowed:
            raise RequestProblem(405, N_("Method not allowed"), N_("This page answers %(methods)s."), (("Allow", ", ".join(allowed)),), params={"methods": ", ".join(allowed)})
        if route == "healthz":
            return Response(200, b"ok\n", content_type="text/plain; charset=utf-8")
        query = query_fields(str(environ.get("QUERY_STRING", "")))
        if method != "POST":
            return getattr(self, f"_{route}_page")(query)
        form = form_fields(environ, BODY_LIMIT)
        return getattr(self, f"_{route}")(query, form, environ)

    def _url(self, route: str, **query: object) -> str:
        url = self.settings.site.config.mailing.endpoint_url(route)
        return url + "?" + urlencode(query) if query else url

    def _page(self, name: str, **context: object) -> Response:
        return Response(200, self.pages.render(name, **context))

    # -- unsubscribe -------------------------------------------------------------

    def _reader(self, query: Fields) -> str:
        """The address an unsubscribe link names, once its token proves this site made it."""
        address, token = _address(query.get("email")), query.get("token").strip()
        if not address or not URL_TOKEN.fullmatch(token):
            raise RequestProblem(400, N_("This link is incomplete"), N_("The unsubscribe link was cut short or altered. Open it again from the newest email, or reply to that email asking to unsubscribe."))
        if not verify_url_token(self.settings.secret, address, token):
            raise RequestProblem(403, N_("This link is not valid"), N_("This unsubscribe link was not made by this newsletter. Open it again from the newest email, or reply to that email asking to unsubscribe."))
        return address

    def _unsubscribe_page(self, query: Fields) -> Response:
        address = self._reader(query)
        return self._page("unsubscribe", address=address, action=self._url("unsubscribe", email=address, token=query.get("token").strip().lower()))

    def _unsubscribe(self, query: Fields, form: Fields, environ: dict[str, Any]) -> Response:
        address = self._reader(query)
        if form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
            raise RequestProblem(400, N_("Bad request"), N_("An unsubscribe is a POST of List-Unsubscribe=One-Click (RFC 8058), as the page's button sends."))
        self._hand_off("unsubscribe", address, "unsubscribes")
        return self._page("unsubscribed", address=address)

    def _hand_off(self, action: str, address: str, counter: str) -> None:
        """Mail the action to the list once; a repeat within the day (a replayed link, a second click) sends nothing more."""
        now = self.clock()
        if not self.handed.claim(address, action, now):
            return
        problem = self.outbox.hand_off(Handoff(action, address, int(now)))
        if problem:
            self.handed.release(address)
            raise RequestProblem(503, N_("Please try again later"), N_("Your request could not be passed on just now. Nothing changed; please try again in a few minutes."), (("Retry-After", str(RETRY_SECONDS)),))
        self.tally.add(counter)

    # -- subscribe -----------------------------------------------------------------

    def _subscribe_page(self, query: Fields) -> Response:
        return self._page("subscribe", value="", error="")

    def _subscribe(self, query: Fields, form: Fields, environ: dict[str, Any]) -> Response:
        now = self.clock()
        wait = self.per_client.take(client_key(str(environ.get("REMOTE_ADDR", ""))), now)
        if wait:
            raise self._too_many(wait, N_("Too many sign-ups came from your network just now."))
        value = form.get("email")
        address = _address(value)
        if not address:
            # Shown back in the field, escaped by the theme and on one line, so the reader can correct it.
            body = self.pages.render("subscribe", value=one_line(value[:254]), error=self.pages.gettext("Please enter an email address such as name@example.org."))
            return Response(400, body)
        key = address_key(address)
        wait = self.per_address.take(key, now)
        if wait:
            raise self._too_many(wait, N_("A confirmation went to this address a short while ago: look for it in your inbox, and in your spam folder."))
        wait = self.overall.take("all", now)
        if wait:
            self.per_address.give_back(key)
            raise self._too_many(wait, N_("Many people are signing up just now."))
        problem = self.outbox.send_confirmation(address)
        if problem:
            self.per_address.give_back(key)
            self.overall.give_back("all")
            raise RequestProblem(503, N_("Please try again later"), N_("The confirmation email could not be sent just now. Please try again in a few minutes."), (("Retry-After", str(RETRY_SECONDS)),))
        self.tally.add("confirmations")
        return self._page("check_inbox", address=address, days=CONFIRM_DAYS)

    @staticmethod
    def _too_many(wait: float, why: str) -> RequestProblem:
        minutes = max(1, round(wait / 60))
        return RequestProblem(429, N_("Please wait a little"), why, (("Retry-After", str(max(1, round(wait)))),), retry_minutes=minutes)

    # -- confirm ---------------------------------------------------------------------

    def _subscriber(self, query: Fields) -> str:
        """The address a confirmation link names, once its stamp proves this site made it in the last `CONFIRM_DAYS` days."""
        address, at, token = _address(query.get("email")), query.get("at").strip(), query.get("token").strip()
        seconds = ascii_number(at)
        if not address or seconds is None or not token:
            raise RequestProblem(400, N_("This link is incomplete"), N_("The confirmation link was cut short or altered. Open it again from the email, or sign up again."))
        problem = stamp_problem(self.settings.secret, SUBSCRIBE_STAMP, address, seconds, token, now=int(self.clock()), max_age=CONFIRM_DAYS * 24 * 3600)
        if problem == EXPIRED:
            raise RequestProblem(410, N_("This link has expired"), N_("A confirmation link works for %(days)s days. Please sign up again for a new one."), params={"days": CONFIRM_DAYS})
        if problem:
            raise RequestProblem(403, N_("This link is not valid"), N_("This confirmation link was not made by this newsletter. Please sign up again."))
        return address

    def _confirm_page(self, query: Fields) -> Response:
        address = self._subscriber(query)
        action = self._url("confirm", email=address, at=query.get("at").strip(), token=query.get("token").strip().lower())
        return self._page("confirm", address=address, action=action)

    def _confirm(self, query: Fields, form: Fields, environ: dict[str, Any]) -> Response:
        address = self._subscriber(query)
        self._hand_off("subscribe", address, "subscriptions")
        return self._page("confirmed", address=address)
