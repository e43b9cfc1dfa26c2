"""The dev server: serve the latest good build from memory, rebuild on change, reload open pages."""

from __future__ import annotations

import html
import ipaddress
import json
import mimetypes
import posixpath
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from urllib.parse import parse_qs, unquote, urlsplit

from jinja2 import Environment

from ..build import asset_files, prepare, renderers
from ..content.config import SiteConfig
from ..content.read import SourceReader
from ..errors import BuildFailed, SiteFailed, SourceError
from ..incremental.write import check_paths
from ..render.emails import email_paths, render_emails
from ..render.feeds import FEED_FORMATS
from ..render.pages import Renderer, theme_static
from ..render.themes import make_environment, template_error
from ..site.assemble import LinkResolver
from ..site.backlog import BacklogReader
from ..site.model import BuildOptions, Site
from ..untrusted import ascii_number
from .watch import Change, Watcher

EVENTS_PATH = "/__lessonpress/events"
KEEPALIVE_SECONDS = 15.0
# A client that sends nothing for this long is dropped: a slow or stuck one must not hold a thread for ever.
REQUEST_TIMEOUT_SECONDS = 30.0
# Host names that always mean this machine; IP addresses are accepted too (DNS rebinding needs a name).
OWN_HOSTS = frozenset({"localhost"})
PLAIN_TEXT = "text/plain; charset=utf-8"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".eml": "message/rfc822",
    ".svg": "image/svg+xml",
}
NOT_FOUND = b"<!doctype html><title>Not found</title><h1>Not found</h1>"
FEED_TYPES = {kind.file: f"{kind.media_type}; charset=utf-8" for kind in FEED_FORMATS}


class Output(Mapping[str, bytes]):
    """One build's files: copied files as bytes, pages and feeds rendered from that build's Site when first asked for."""

    def __init__(self, copied: Mapping[str, bytes], rendered: Mapping[str, Renderer]) -> None:
        self._copied = copied
        self._renderers = rendered
        # Each build has its own Output, so a page rendered once stays right until the next build replaces it.
        self._done: dict[str, bytes] = {}

    def __getitem__(self, path: str) -> bytes:
        if path in self._copied:
            return self._copied[path]
        body = self._done.get(path)
        if body is None:
            # Two requests may render the same page at once: the same bytes, so the first stored wins.
            body = self._done.setdefault(path, self._renderers[path]())
        return body

    def __contains__(self, path: object) -> bool:
        return path in self._copied or path in self._renderers

    def __iter__(self) -> Iterator[str]:
        yield from self._renderers
        yield from self._copied

    def __len__(self) -> int:
        return len(self._renderers) + len(self._copied)

    @property
    def copied(self) -> Mapping[str, bytes]:
        return self._copied


@dataclass(frozen=True)
class Snapshot:
    """What the server shows: the last good files, and the errors of the latest build if it failed."""

    number: int  # counts every build, failed ones too: a failure changes what pages show
    files: Mapping[str, bytes]  # everything but emails, which are rendered when asked for
    base_path: str
    site: Site | None = None
    errors: tuple[SourceError, ...] = ()
    warnings: tuple[SourceError, ...] = ()
    seconds: float = 0.0
    change: Change | None = None
    environment: Environment | None = field(default=None, compare=False)
    failed: tuple[str, ...] = ()  # output paths that raised when rendered: retried by the next build
    late: bool = False  # the errors grew when a file failed on request, after the build itself went through


class LiveSite:
    """Hold the current snapshot; rebuild it and wake everyone waiting for the next one."""

    def __init__(self, root: Path, report: Callable[[Snapshot], None] = lambda snapshot: None) -> None:
        self.root = root
        self.server_id = secrets.token_hex(4)  # a page from an earlier server run reloads on reconnect
        self._report = report
        self._snapshot: Snapshot = Snapshot(0, MappingProxyType({}), "/")
        self._changed = threading.Condition()
        self._closed = False
        # Rebuilds run one at a time (the watcher may fire during the first) and share what they read.
        self._building = threading.Lock()
        self._reader = SourceReader()
        self._links = LinkResolver()
        self._backlog = BacklogReader()
        self._environment: tuple[SiteConfig, Environment] | None = None

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def _environment_for(self, config: SiteConfig, change: Change | None) -> Environment:
        """Keep the environment, and the templates it compiled, until the config or a theme file changes."""
        kept = self._environment
        if kept is None or kept[0] != config or change is None or "theme" in change.kinds:
            env = make_environment(config)
            # Compile the page templates now: a syntax error is the build's error, not a later request's.
            # Email templates need the email environment's filters; emails render on request anyway.
            for name in env.list_templates(filter_func=_is_page_template):
                env.get_template(name)
            kept = self._environment = (config, env)
        return kept[1]

    def rebuild(self, change: Change | None = None) -> Snapshot:
        """Assemble the site (drafts and future lessons included) and swap it in; pages render when requested."""
        with self._building:
            return self._rebuild(change)

    def _rebuild(self, change: Change | None) -> Snapshot:
        started = time.perf_counter()
        previous = self._snapshot
        options = BuildOptions(now=datetime.now(UTC), include_drafts=True, include_future=True)
        errors: tuple[SourceError, ...]
        warnings: tuple[SourceError, ...]
        files, base, site, env, errors, warnings = previous.files, previous.base_path, previous.site, previous.environment, (), ()
        changed = frozenset(change.paths) if change else frozenset()
        try:
            new_site, new_env, found = prepare(
                self.root, options,
                read=lambda config: self._reader.read(config, changed),
                environment=lambda config: self._environment_for(config, change),
                backlog=lambda config: self._backlog.read(config, changed),
                links=self._links,
            )
            copied = {**theme_static(new_site), **asset_files(new_site)}
            rendered = renderers(new_site, new_env)
            paths = [*rendered, *copied]
            # The last good build's paths passed the check; checking thousands again costs more than the rest of a rebuild.
            path_errors = [] if paths == list(previous.files) else check_paths(paths)
            if path_errors:
                raise BuildFailed(path_errors)
            files, base, warnings = Output(MappingProxyType(copied), rendered), new_site.config.base_path, tuple(found)
            site, env = new_site, new_env
        except SiteFailed as failure:
            errors = failure.errors
        except Exception as error:  # noqa: BLE001 - the server must outlive any one bad build
            errors = (self.describe(error),)
        built = Snapshot(previous.number, files, base, site, errors, warnings, 0.0, change, env)
        # Files that failed on request are rendered again by the next good build: the terminal must hear whether the fix worked.
        built = replace(built, failed=previous.failed) if errors else self._retry(built, previous.failed)
        # A save that changes no output (a touch, an undo) keeps the build number: no reload. Every page is
        # rendered from the Site, the templates and the copied files, so equal ones render the same bytes.
        same = (
            previous.number > 0 and built.errors == previous.errors and site == previous.site and env is previous.environment
            and isinstance(files, Output) and isinstance(previous.files, Output) and files.copied == previous.files.copied
        )
        with self._changed:
            number = previous.number if same else previous.number + 1
            snapshot = self._snapshot = replace(built, number=number, seconds=time.perf_counter() - started)
            self._changed.notify_all()
        self._report(snapshot)
        return snapshot

    def _retry(self, snapshot: Snapshot, keys: tuple[str, ...]) -> Snapshot:
        """Render the given files of a new build; each that still fails becomes one of its errors."""
        for key in keys:
            try:
                render_file(snapshot, key)
            except Exception as error:  # noqa: BLE001 - a template's runtime error is the build's error
                snapshot = replace(snapshot, errors=(*snapshot.errors, self.describe(error, key)), failed=(*snapshot.failed, key))
        return snapshot

    def render_failed(self, seen: Snapshot, key: str, error: Exception) -> Snapshot:
        """Count a file that fails to render as an error of its build; report it once and reload open pages."""
        problem = self.describe(error, key)
        with self._changed:
            current = self._snapshot
            if current.files is not seen.files or key in current.failed:
                # A newer build is in place, or this failure is known: answer this request, say nothing new.
                return current if key in current.failed else replace(seen, errors=(*seen.errors, problem))
            snapshot = self._snapshot = replace(
                current, number=current.number + 1, errors=(*current.errors, problem), failed=(*current.failed, key), late=True,
            )
            self._changed.notify_all()
        self._report(snapshot)
        return snapshot

    def describe(self, error: Exception, key: str = "") -> SourceError:
        """Say what went wrong in a build, or in rendering its file `key`."""
        known = template_error(self.root, error)
        if known is not None:
            return known
        what = "cannot be rendered" if key else "the build crashed"
        return SourceError(key or "lessonpress", 0, f"{what} ({type(error).__name__}: {error}); fix the last change or report this as a bug")

    def wait_newer(self, seen: int, timeout: float) -> Snapshot | None:
        """Block until a build newer than `seen` is in place; None on timeout or close."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._snapshot.number > seen, timeout)
            return None if self._closed or self._snapshot.number <= seen else self._snapshot

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Wake and end every open event stream."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()


def _is_page_template(name: str) -> bool:
    parts = name.split("/")
    return name.endswith((".html", ".xml")) and "email" not in parts and "static" not in parts


def reload_script(snapshot: Snapshot, server_id: str) -> str:
    """The script injected into served HTML: reload once a newer build is in place."""
    url = f"{EVENTS_PATH}?build={snapshot.number}&server={server_id}"
    return (
        '<script data-lessonpress-reload>(() => { const events = new EventSource("' + url + '");'
        ' events.addEventListener("reload", () => { events.close(); location.reload(); }); })();</script>\n'
    )


def inject(page: bytes, script: str) -> bytes:
    """Insert the script before the last `</body>`, or append it."""
    at = page.lower().rfind(b"</body>")
    encoded = script.encode("utf-8")
    return page + encoded if at < 0 else page[:at] + encoded + page[at:]


def overlay_page(errors: tuple[SourceError, ...]) -> bytes:
    """The page shown instead of any HTML page while the latest build has errors."""
    count = len(errors)
    items = "\n".join(f"<li><code>{html.escape(str(error))}</code></li>" for error in errors)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Build failed — lessonpress</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#fff5f5;color:#1a1a1a}}
main{{max-width:60rem;margin:3rem auto;padding:0 1rem}}h1{{color:#a40000}}
li{{margin:.5rem 0}}code{{white-space:pre-wrap;font-size:.95rem}}</style></head>
<body><main id="lessonpress-errors"><h1>Build failed: {count} error{"s" if count != 1 else ""}</h1>
<p>Feeds and files answer with an error too until the site builds again. Fix the {"files" if count != 1 else "file"} below and save; this page reloads by itself.</p>
<ol>
{items}
</ol></main></body></html>
""".encode()


def error_text(errors: tuple[SourceError, ...]) -> bytes:
    """The plain-text answer for a feed, an email or any other file while the latest build has errors."""
    count = len(errors)
    lines = [f"Build failed: {count} error{'s' if count != 1 else ''}; fix the source and save, then ask again.", *map(str, errors)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def content_type(path: str) -> str:
    """The Content-Type for an output path; feeds as RSS and Atom."""
    name = posixpath.basename(path)
    if name in FEED_TYPES:
        return FEED_TYPES[name]
    extension = posixpath.splitext(name)[1].lower()
    return CONTENT_TYPES.get(extension) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def is_page(path: str) -> bool:
    """Whether a URL path or output key asks for HTML: a folder, a name without extension, or `.html`."""
    return posixpath.splitext(posixpath.basename(path))[1].lower() in ("", ".html", ".htm")


def split_target(target: str) -> tuple[str, str, str]:
    """The (host, path, query) of a request line's target, `/path?query` or an absolute `http://host/path?query`."""
    # Only the absolute form names a host: `//name/x` is a path, as a browser sends it for http://localhost//name/x.
    if target.startswith("/"):
        path, _, query = target.partition("#")[0].partition("?")
        return "", path, query
    parts = urlsplit(target)
    return parts.netloc, parts.path, parts.query


def host_name(header: str) -> str | None:
    """The name in a `Host` value, in lower case without port or IPv6 brackets; None when it is malformed."""
    text = header.strip().lower()
    if text.startswith("["):
        name, bracket, rest = text[1:].partition("]")
        port_ok = rest == "" or (rest.startswith(":") and rest[1:].isdigit())
        return name if bracket and port_ok else None
    name, colon, port = text.partition(":")
    return name.removesuffix(".") if name and (not colon or port.isdigit()) else None


def host_allowed(header: str, allowed: frozenset[str]) -> bool:
    """Whether a `Host` names this server: localhost, any IP address (DNS rebinding needs a name), or an allowed name."""
    name = host_name(header)
    if name is None:
        return False
    if name in OWN_HOSTS or name in allowed:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def make_handler(live: LiveSite, allowed_hosts: frozenset[str] = frozenset()) -> type[BaseHTTPRequestHandler]:
    """Return a request handler class bound to one live site, answering to its own host names and `allowed_hosts`."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "lessonpress"
        protocol_version = "HTTP/1.1"
        timeout = REQUEST_TIMEOUT_SECONDS

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
            """Keep the terminal for build reports; requests are not logged."""

        def do_HEAD(self) -> None:
            if self._host_ok(send_body=False):
                self._respond(send_body=False)

        def do_GET(self) -> None:
            if not self._host_ok(send_body=True):
                return
            if split_target(self.path)[1] == EVENTS_PATH:
                self._events()
            else:
                self._respond(send_body=True)

        def _host_ok(self, send_body: bool) -> bool:
            """Refuse a request for another host name: through DNS rebinding, any web page could read the drafts."""
            hosts = self.headers.get_all("Host") or []
            # An absolute URL in the request line names the host instead of the header (RFC 9112, 3.2.2).
            target = split_target(self.path)[0]
            named = [*hosts, *([target] if target else [])]
            if len(hosts) > 1:
                self._send(400, PLAIN_TEXT, b"more than one Host header\n", send_body)
            elif not all(host_allowed(name, allowed_hosts) for name in named):
                message = (
                    "lessonpress serve answers only to localhost, IP addresses and the names given with --allow-host;"
                    " to open the preview by this name, restart it with --allow-host NAME\n"
                )
                self._send(403, PLAIN_TEXT, message.encode(), send_body)
            else:
                return True
            return False

        def _respond(self, send_body: bool) -> None:
            snapshot = live.snapshot
            path = unquote(split_target(self.path)[1])
            if "\x00" in path or "\\" in path or ".." in path.split("/") or not path.startswith("/"):
                self._send(400, PLAIN_TEXT, b"bad path\n", send_body)
                return
            key, location = _resolve(snapshot, path)
            if location:
                self.send_response(301)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            snapshot, body = self._render(snapshot, key) if key is not None else (snapshot, None)
            snapshot, missing = self._render(snapshot, "404.html") if body is None else (snapshot, None)
            script = reload_script(snapshot, live.server_id)
            if snapshot.errors and is_page(key or path):
                self._send(500, CONTENT_TYPES[".html"], inject(overlay_page(snapshot.errors), script), send_body)
            elif snapshot.errors:
                self._send(500, PLAIN_TEXT, error_text(snapshot.errors), send_body)
            elif body is None or key is None:  # no key, no body
                self._send(404, CONTENT_TYPES[".html"], inject(missing or NOT_FOUND, script), send_body)
            else:
                self._send(200, content_type(key), inject(body, script) if is_page(key) else body, send_body)

        def _render(self, snapshot: Snapshot, key: str) -> tuple[Snapshot, bytes | None]:
            """A file of the snapshot's build, or None; a file that fails to render fails the build."""
            if snapshot.errors:
                return snapshot, None
            try:
                return snapshot, render_file(snapshot, key)
            except Exception as error:  # noqa: BLE001 - pages render on request: a template's runtime error shows here
                return live.render_failed(snapshot, key, error), None

        def _send(self, status: int, kind: str, body: bytes, send_body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def _events(self) -> None:
            query = parse_qs(split_target(self.path)[2])
            seen = ascii_number(query.get("build", ["0"])[0]) or 0
            if query.get("server", [""])[0] != live.server_id:
                seen = 0  # the page came from another server run: anything we have is newer
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                self.wfile.write(b"retry: 1000\n\n")
                self.wfile.flush()
                while not live.closed:
                    snapshot = live.wait_newer(seen, KEEPALIVE_SECONDS)
                    if snapshot is None:
                        self.wfile.write(b": keepalive\n\n")
                    else:
                        seen = snapshot.number
                        data = json.dumps({"build": seen, "ok": not snapshot.errors})
                        self.wfile.write(f"event: reload\ndata: {data}\n\n".encode())
                    self.wfile.flush()
            except OSError:
                return  # the page went away, or stopped reading for longer than the timeout

    return Handler




def _resolve(snapshot: Snapshot, path: str) -> tuple[str | None, str | None]:
    """Map a URL path to (its output key or None, a redirect location or None); nothing is rendered."""
    base = snapshot.base_path
    if not path.startswith(base):
        return (None, base) if path == "/" else (None, None)
    relative = path[len(base):]
    key = relative + "index.html" if relative == "" or relative.endswith("/") else relative
    if key not in snapshot.files and relative + "/index.html" in snapshot.files:
        return None, path + "/"
    return key, None


def render_file(snapshot: Snapshot, key: str) -> bytes | None:
    """A file of the snapshot's build, rendered if it has not been; an email is rendered each time; None if there is none."""
    if key in snapshot.files:
        return snapshot.files[key]
    if key.startswith("email/") and snapshot.site is not None:
        return email_file(snapshot.site, key)
    return None


def email_file(site: Site, key: str) -> bytes | None:
    """Render one lesson's email file on request: emails are the costliest output, and few are looked at."""
    for issue in site.issues:
        if key in email_paths(issue).values():
            # Only this lesson's emails; the email templates use the issue, not the other lessons.
            return render_emails(replace(site, issues=(issue,))).get(key)
    return None


class QuietServer(ThreadingHTTPServer):
    """A threaded server that takes a client hanging up as routine, and any other failure as one line, not a traceback."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return  # the client went away or timed out mid-answer: the others are served as before
        sys.stderr.write(f"lessonpress serve: a request from {client_address[0]} failed ({type(error).__name__}: {error}); still serving\n")


class DevServer:
    """Bind, build once, then serve and rebuild on change until stopped."""

    def __init__(self, root: Path, *, host: str = "127.0.0.1", port: int = 8000, poll: bool = False,
                 allow_hosts: Iterable[str] = (), report: Callable[[Snapshot], None] = lambda snapshot: None) -> None:
        self.live = LiveSite(root, report)
        # The name it was told to listen on is its own, whatever it is.
        allowed = frozenset(name.lower() for name in (host, *allow_hosts))
        self.httpd = QuietServer((host, port), make_handler(self.live, allowed))
        # Watch before the first build, so a save during it is not lost.
        self.watcher = Watcher(root, self.live.rebuild, poll=poll)
        self.watcher.start()
        self.live.rebuild()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        assert isinstance(host, str)  # a bound TCP server's address comes from getsockname(): text, though the stubs allow bytes
        return f"http://{host}:{port}{self.live.snapshot.base_path}"

    def run(self) -> None:
        """Serve until `stop()` (from another thread) or Ctrl-C, then release everything."""
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.live.close()
            self.watcher.stop()
            self.httpd.server_close()

    def stop(self) -> None:
        """Ask `run()` to return."""
        self.httpd.shutdown()
