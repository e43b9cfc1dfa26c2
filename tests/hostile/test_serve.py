"""Hostile requests and broken lessons against `lessonpress serve`, run for real on a free port."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lessonpress.serve import server as serve
from lessonpress.serve.server import DevServer

from .conftest import TIME_BOUND, run_cli

LESSON = "lessons/retention/02-first-days.md"
PAGE = "/letters/retention/first-days/"


@contextmanager
def serving(root: Path, **options: object) -> Iterator[DevServer]:
    """Run a dev server over `root` in a thread for the `with` block; it must stop when asked."""
    running = DevServer(root, port=0, **options)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.fixture
def server(basic: Path) -> Iterator[DevServer]:
    with serving(basic) as running:
        yield running


def request(server: DevServer, target: str, *, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send one request exactly as given (Host included when named); return status, headers and body."""
    connection = http.client.HTTPConnection(*server.httpd.server_address[:2], timeout=10)
    try:
        given = headers or {}
        connection.putrequest(method, target, skip_host="Host" in given, skip_accept_encoding=True)
        for name, value in given.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()


def raw(server: DevServer, data: bytes) -> bytes:
    """Send raw bytes on a fresh connection and return what comes back before the server closes it."""
    with socket.create_connection(server.httpd.server_address[:2], timeout=10) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def eventually(check: Callable[[], bool], what: str) -> None:
    """Poll `check` until it holds; fail with `what` after the harness's time bound."""
    deadline = time.monotonic() + TIME_BOUND
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.05)


def still_serving(server: DevServer) -> bool:
    started = time.monotonic()
    status, _, body = request(server, PAGE)
    return status == 200 and b"The First Days" in body and time.monotonic() - started < 5


# --- DNS rebinding: only this machine's names -------------------------------------------------

FOREIGN_HOSTS = [
    "evil.example:{port}",  # a rebinding page: its own name, resolved to 127.0.0.1
    "evil.example",
    "localhost.evil.example:{port}",
    "127.0.0.1.nip.io:{port}",
    "LOCALHOST:{port}x",  # a malformed port
    "[::1:{port}",  # an unclosed bracket
    "",
]


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
@pytest.mark.parametrize("path", [PAGE, "/letters/feed.xml", "/__lessonpress/events?build=0&server=x"])
def test_a_foreign_host_name_is_refused_for_pages_feeds_and_the_reload_stream(server: DevServer, host: str, path: str) -> None:
    port = server.httpd.server_address[1]
    status, headers, body = request(server, path, headers={"Host": host.format(port=port)})
    assert status == 403 and headers["Content-Type"].startswith("text/plain")
    assert b"--allow-host" in body and b"First Days" not in body and b"event:" not in body


def test_an_absolute_url_naming_a_foreign_host_is_refused(server: DevServer) -> None:
    port = server.httpd.server_address[1]
    status, _, body = request(server, f"http://evil.example:{port}{PAGE}", headers={"Host": f"localhost:{port}"})
    assert status == 403 and b"First Days" not in body


def test_two_host_headers_are_refused(server: DevServer) -> None:
    port = server.httpd.server_address[1]
    answer = raw(server, f"GET {PAGE} HTTP/1.1\r\nHost: localhost:{port}\r\nHost: evil.example\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 400") and b"First Days" not in answer


@pytest.mark.parametrize("host", ["localhost:{port}", "LocalHost:{port}", "localhost.:{port}", "127.0.0.1:{port}", "[::1]:{port}", "192.168.1.20:{port}", "127.0.0.1"])
def test_own_names_and_ip_addresses_are_served(server: DevServer, host: str) -> None:
    status, _, body = request(server, PAGE, headers={"Host": host.format(port=server.httpd.server_address[1])})
    assert status == 200 and b"The First Days" in body


def test_allow_host_adds_a_name(basic: Path) -> None:
    with serving(basic, allow_hosts=["mybox.local"]) as running:
        port = running.httpd.server_address[1]
        assert request(running, PAGE, headers={"Host": f"mybox.local:{port}"})[0] == 200
        assert request(running, PAGE, headers={"Host": f"MyBox.Local:{port}"})[0] == 200
        assert request(running, PAGE, headers={"Host": f"other.local:{port}"})[0] == 403


@pytest.mark.parametrize("name", ["http://mybox.local", "mybox.local:8000", "my box", "mybox.local/", "-x"])
def test_allow_host_refuses_what_is_not_a_host_name(basic: Path, name: str) -> None:
    run = run_cli(basic, "serve", "--port", "0", "--allow-host", name)
    assert run.status == 2 and "is not a host name" in run.stderr and "without scheme, port or path" in run.stderr


def test_help_explains_allow_host() -> None:
    run = run_cli(Path.cwd(), "serve", "--help")
    assert run.status == 0 and "--allow-host NAME" in run.stdout and "DNS rebinding" in run.stdout


# --- A broken build: overlay for pages, an error status for everything else --------------------

def break_at_render(site: Path) -> None:
    """A lesson whose body holds an escape character: feeds cannot hold it (issue 19's reproduction)."""
    lesson = site / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8") + "Colours \x1b[31mred\x1b[0m.\n", encoding="utf-8")


def fix(site: Path) -> None:
    lesson = site / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("Colours \x1b[31mred\x1b[0m.\n", "Colours fixed.\n"), encoding="utf-8")


def test_a_broken_lesson_gives_500_for_feeds_and_files_and_the_overlay_for_pages(basic: Path) -> None:
    break_at_render(basic)
    with serving(basic) as running:
        for path in ("/letters/feed.xml", "/letters/atom.xml", "/letters/email/retention/first-days.eml", "/letters/sitemap.xml"):
            status, headers, body = request(running, path)
            assert status == 500 and headers["Content-Type"].startswith("text/plain"), path
            assert body.startswith(b"Build failed: ") and b"control character" in body and b"<html" not in body, path
        status, headers, body = request(running, PAGE)
        assert status == 500 and headers["Content-Type"].startswith("text/html")
        assert b"Build failed" in body and b"data-lessonpress-reload" in body
        fix(basic)
        eventually(lambda: request(running, "/letters/feed.xml")[0] == 200, "the fixed lesson's feed is served")
        assert b"Colours fixed." in request(running, PAGE)[2]


def test_a_template_that_fails_when_a_page_is_rendered_fails_the_build_and_names_the_page(basic: Path) -> None:
    theme = basic / "themes/default"
    theme.mkdir(parents=True)
    template = (Path(serve.__file__).parent.parent / "themes/default/lesson.html").read_text(encoding="utf-8")
    (theme / "lesson.html").write_text("{{ 1 // 0 }}" + template, encoding="utf-8")
    with serving(basic) as running:
        status, _, body = request(running, PAGE)
        assert status == 500 and b"retention/first-days/index.html: cannot be rendered (ZeroDivisionError" in body
        # Once known, the failure is the build's: feeds say so too.
        status, _, body = request(running, "/letters/feed.xml")
        assert status == 500 and b"ZeroDivisionError" in body


def test_the_terminal_prints_each_error_once_and_says_when_the_site_builds_again(basic: Path) -> None:
    break_at_render(basic)
    process = subprocess.Popen(
        [sys.executable, "-m", "lessonpress", "-C", str(basic), "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        banner = next((line for line in process.stdout if line.startswith("Serving ")), "")
        url = re.search(r"at http://([\d.]+):(\d+)/", banner)
        assert url, banner
        host, port = url.group(1), int(url.group(2))

        def get(path: str) -> int:
            connection = http.client.HTTPConnection(host, port, timeout=10)
            connection.request("GET", path)
            status = connection.getresponse().status
            connection.close()
            return status

        assert [get("/letters/feed.xml"), get("/letters/feed.xml"), get("/letters/atom.xml"), get(PAGE)] == [500] * 4
        fix(basic)
        eventually(lambda: get("/letters/feed.xml") == 200, "the fixed lesson's feed is served")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=TIME_BOUND)
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in err
    problems = [line for line in err.splitlines() if line and not re.match(r"\d\d:\d\d:\d\d ", line)]
    assert problems and all(count == 1 for count in Counter(problems).values()), err
    assert re.search(r"(feed\.xml|02-first-days\.md)(:\d+)?: ", err)
    assert len(re.findall(r"build #\d+ failed", err)) == 1
    assert "the site builds again" in out


# --- Hostile requests: no file outside the site, no traceback, no stall --------------------------

TRAVERSALS = [
    "/letters/../lessonpress.toml",
    "/%2e%2e/lessonpress.toml",
    "/letters/%2E%2E/%2e%2e/lessonpress.toml",
    "/letters/..%2f..%2flessonpress.toml",
    "/letters/..%5c..%5clessonpress.toml",
    "/letters/..\\..\\lessonpress.toml",
    "/letters/%252e%252e/lessonpress.toml",
    "/letters/%c0%ae%c0%ae/lessonpress.toml",
    "/letters/..;/lessonpress.toml",
    "/letters/feed.xml%00.html",
    "/letters/%00",
    "//etc/passwd",
    "/letters/../../../../etc/passwd",
    "/letters/%ff%fe",
    "letters/feed.xml",
    "http://localhost/../lessonpress.toml",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_path_tricks_never_reach_a_file_outside_the_output(server: DevServer, target: str) -> None:
    status, _, body = request(server, target, headers={"Host": "localhost"})
    assert status in (400, 404)
    assert b"[site]" not in body and b"root:" not in body


def test_oversized_requests_are_refused_and_the_server_goes_on(server: DevServer) -> None:
    assert request(server, "/letters/" + "a" * 70_000)[0] == 414
    assert request(server, PAGE, headers={"X-Big": "b" * 70_000})[0] == 431
    assert request(server, PAGE, headers={f"X-{n}": "c" for n in range(200)})[0] == 431
    assert raw(server, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n").find(b"400") >= 0
    assert still_serving(server)


def test_head_and_other_methods(server: DevServer) -> None:
    status, headers, body = request(server, PAGE, method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) == len(request(server, PAGE)[2])
    for method in ("POST", "PUT", "DELETE", "OPTIONS", "TRACE", "BREW"):
        assert request(server, PAGE, method=method)[0] == 501, method
    assert still_serving(server)


def test_a_folder_without_its_slash_redirects_within_the_site(server: DevServer) -> None:
    status, headers, _ = request(server, "/letters/retention?utm=1")
    assert status == 301 and headers["Location"] == "/letters/retention/"
    # Nothing redirects off the site: a path that looks like a host is only a path.
    status, headers, _ = request(server, "//evil.example/letters/retention")
    assert status == 404 and "Location" not in headers


def test_slow_and_vanishing_clients_do_not_stop_the_others(basic: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(serve, "REQUEST_TIMEOUT_SECONDS", 1.0)
    with serving(basic) as running:
        address = running.httpd.server_address[:2]
        # Slowloris: half a request line each, then silence.
        stalled = [socket.create_connection(address, timeout=10) for _ in range(20)]
        for connection in stalled:
            connection.sendall(b"GET /lett")
        assert still_serving(running)
        # Each silent client is dropped after the timeout rather than holding its thread for ever.
        for connection in stalled:
            assert connection.recv(100) == b""
            connection.close()
        # Clients that hang up mid-answer (a reset) are routine, not a traceback in the terminal.
        for _ in range(20):
            connection = socket.create_connection(address, timeout=10)
            connection.sendall(f"GET {PAGE} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            connection.close()
        assert still_serving(running)
    assert "Traceback" not in capfd.readouterr().err


def test_requests_during_lesson_edits_get_whole_pages(server: DevServer, basic: Path) -> None:
    lesson = basic / LESSON
    original = lesson.read_text(encoding="utf-8")
    answers: list[tuple[int, bytes]] = []
    done = threading.Event()

    def hammer() -> None:
        while not done.is_set():
            status, _, body = request(server, PAGE)
            answers.append((status, body))

    workers = [threading.Thread(target=hammer) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        for edit in range(8):
            lesson.write_text(original.replace("The first days matter most.", f"Edit {edit} matters."), encoding="utf-8")
            time.sleep(0.1)
        eventually(lambda: b"Edit 7 matters." in request(server, PAGE)[2], "the last edit is served")
    finally:
        done.set()
        for worker in workers:
            worker.join(timeout=10)
    assert answers and all(status == 200 and body.rstrip().endswith(b"</html>") for status, body in answers)


def test_a_fifo_or_a_link_out_added_while_serving_is_reported_and_rebuilds_go_on(basic: Path, tmp_path: Path) -> None:
    """A FIFO named like a lesson froze the server's rebuilds (issue 19); now it is an error like any other."""
    outside = tmp_path / "passwd"
    outside.write_text("root:x:0:0\n")
    with serving(basic) as running:
        assert still_serving(running)
        fifo = basic / "lessons/retention/09-pipe.md"
        os.mkfifo(fifo)
        (basic / "lessons/retention/passwd.txt").symlink_to(outside)
        eventually(lambda: request(running, PAGE)[0] == 500, "the build fails while the FIFO is there")
        body = request(running, PAGE)[2]
        assert b"lessons/retention/09-pipe.md: is a FIFO (named pipe), not a plain file" in body
        assert b"lessons/retention/passwd.txt: is a link to" in body and b"root:x" not in body
        fifo.unlink()
        (basic / "lessons/retention/passwd.txt").unlink()
        eventually(lambda: still_serving(running), "the site is served again once the FIFO and the link are gone")
