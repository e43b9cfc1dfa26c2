"""The dev server, run for real on a free port and fetched over HTTP."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest

from conftest import copy_example_lessons
from lessonpress.serve.server import DevServer

LESSON = "lessons/retention/02-the-first-ninety-days.md"
PAGE = "/retention/the-first-ninety-days/"
DEADLINE = 30.0


def copy_example_site(target: Path) -> Path:
    """Copy the repository's example site (config and lessons only) into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    copy_example_lessons(target)
    return target


def fetch(url: str) -> tuple[int, dict[str, str], str]:
    """GET a URL; return status, headers and body text, 4xx/5xx included."""
    try:
        with urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8")


def eventually(check: Callable[[], bool], what: str) -> None:
    """Poll until `check()` is true, failing with `what` after a generous deadline."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    pytest.fail(f"never happened: {what}")


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_example_site(tmp_path / "site")


def start(root: Path, **options: object) -> tuple[DevServer, threading.Thread]:
    server = DevServer(root, port=0, **options)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def server(site: Path) -> Iterator[DevServer]:
    running, thread = start(site)
    yield running
    running.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_serves_pages_feeds_and_404_with_the_right_types(server: DevServer, site: Path) -> None:
    status, headers, body = fetch(server.url + PAGE.lstrip("/"))
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1" in body and "The First Ninety Days" in body
    assert body.count("data-lessonpress-reload") == 1 and body.index("data-lessonpress-reload") < body.rindex("</body>")

    status, headers, body = fetch(server.url + "feed.xml")
    assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
    assert "lessonpress-reload" not in body
    assert fetch(server.url + "atom.xml")[1]["Content-Type"].startswith("application/atom+xml")
    assert fetch(server.url + "retention/feed.json")[1]["Content-Type"] == "application/feed+json; charset=utf-8"
    assert fetch(server.url + "static/style.css")[1]["Content-Type"].startswith("text/css")

    status, _, body = fetch(server.url + "no/such/page/")
    assert status == 404 and "data-lessonpress-reload" in body
    assert fetch(server.url + "404.html")[2].split("<script")[0] in body  # the site's own 404 page

    # A folder without its slash redirects to it.
    connection = http.client.HTTPConnection(*server.httpd.server_address[:2], timeout=10)
    connection.request("GET", "/retention")
    response = connection.getresponse()
    assert response.status == 301 and response.getheader("Location") == "/retention/"
    connection.close()
    # The reload script lives only in responses: serving writes nothing into the site.
    assert not (site / "output").exists()


@pytest.mark.parametrize("path", ["/../lessonpress.toml", "/%2e%2e/lessonpress.toml", "/static/..%2f..%2flessonpress.toml", "/..%5clessonpress.toml"])
def test_refuses_path_traversal(server: DevServer, path: str) -> None:
    host, port = server.httpd.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read().decode()
    assert response.status in (400, 404)
    assert "[site]" not in body
    connection.close()


def test_edit_add_delete_and_atomic_rename_change_the_served_site(server: DevServer, site: Path) -> None:
    page = server.url + PAGE.lstrip("/")
    lesson = site / LESSON
    replace_in(lesson, "Good news first", "Breaking news first")
    eventually(lambda: "Breaking news first" in fetch(page)[2], "an edited lesson is served")

    new_lesson = site / "lessons/retention/07-after-the-renewal.md"
    new_lesson.write_text('---\ntitle: "After the Renewal"\ndate: 2026-03-01\n---\nThe work starts again.\n', encoding="utf-8")
    eventually(lambda: fetch(server.url + "retention/after-the-renewal/")[0] == 200, "a new lesson is served")
    assert "After the Renewal" in fetch(server.url + "retention/")[2]

    new_lesson.unlink()
    eventually(lambda: fetch(server.url + "retention/after-the-renewal/")[0] == 404, "a deleted lesson is gone")

    # Vim, Helix, Sublime and gedit save by writing a temporary file and renaming it over the original.
    temporary = lesson.with_name(".02-the-first-ninety-days.md.tmp")
    temporary.write_text(lesson.read_text(encoding="utf-8").replace("Breaking news first", "Saved atomically"), encoding="utf-8")
    os.replace(temporary, lesson)
    eventually(lambda: "Saved atomically" in fetch(page)[2], "an atomic save is served")


def test_a_broken_lesson_shows_the_overlay_and_fixing_it_clears_it(server: DevServer, site: Path) -> None:
    page = server.url + PAGE.lstrip("/")
    lesson = site / LESSON
    original = lesson.read_text(encoding="utf-8")
    lesson.write_text(original.replace("date: 2026-01-14T07:30:00", "date: <the fourteenth>"), encoding="utf-8")
    eventually(lambda: "Build failed" in fetch(page)[2], "the error overlay is shown")
    status, _, body = fetch(server.url)
    assert status == 500 and re.search(r"Build failed: \d+ errors?<", body)
    assert re.search(r"lessons/retention/02-the-first-ninety-days\.md:3: cannot read date &#x27;&lt;the fourteenth&gt;&#x27;", body)
    assert "data-lessonpress-reload" in body
    # Feeds and files say the build failed, in plain text, rather than pass off the last good build as current.
    for path in ("feed.xml", "static/style.css", "email/retention/the-first-ninety-days.txt"):
        status, headers, body = fetch(server.url + path)
        assert status == 500 and headers["Content-Type"].startswith("text/plain"), path
        assert "02-the-first-ninety-days.md:3: cannot read date '<the fourteenth>'" in body, path

    lesson.write_text(original.replace("Good news first", "Fixed news first"), encoding="utf-8")
    eventually(lambda: "Fixed news first" in fetch(page)[2], "fixing the lesson clears the overlay")
    assert "Build failed" not in fetch(server.url)[2]


def read_event(response: http.client.HTTPResponse) -> dict[str, str]:
    """Read one server-sent event (skipping comments) as its fields."""
    fields: dict[str, str] = {}
    while True:
        line = response.fp.readline().decode().rstrip("\n")
        if not line:
            if "event" in fields:
                return fields
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields[name] = value.strip()


def test_reload_event_arrives_after_the_new_build_is_in_place(server: DevServer, site: Path) -> None:
    page = server.url + PAGE.lstrip("/")
    number = re.search(r"build=(\d+)&amp;server=|build=(\d+)&server=", fetch(page)[2])
    assert number
    seen = int(number.group(1) or number.group(2))
    host, port = server.httpd.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=DEADLINE)
    connection.request("GET", f"/__lessonpress/events?build={seen}&server={server.live.server_id}")
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"

    replace_in(site / LESSON, "Good news first", "Reloaded news first")
    event = read_event(response)
    assert event["event"] == "reload"
    assert '"ok": true' in event["data"] and int(re.search(r'"build": (\d+)', event["data"]).group(1)) > seen
    # The event is sent only once the new build is served.
    assert "Reloaded news first" in fetch(page)[2]
    connection.close()


def test_a_page_from_an_earlier_server_run_reloads_on_reconnect(server: DevServer) -> None:
    host, port = server.httpd.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=DEADLINE)
    connection.request("GET", "/__lessonpress/events?build=99&server=earlier")
    assert read_event(connection.getresponse())["event"] == "reload"
    connection.close()


def test_drafts_and_scheduled_lessons_are_shown_and_marked(server: DevServer, site: Path) -> None:
    (site / "lessons/retention/08-a-draft.md").write_text('---\ntitle: "A Draft"\ndate: 2026-02-01\ndraft: true\n---\nNot yet.\n', encoding="utf-8")
    (site / "lessons/retention/09-far-future.md").write_text('---\ntitle: "Far Future"\ndate: 2999-01-01\n---\nLater.\n', encoding="utf-8")
    eventually(lambda: fetch(server.url + "retention/far-future/")[0] == 200, "draft and future lessons are served")
    assert re.search(r'class="badge">Draft<', fetch(server.url + "retention/a-draft/")[2])
    assert re.search(r'class="badge">Scheduled<', fetch(server.url + "retention/far-future/")[2])


def test_polling_observer_sees_changes(site: Path) -> None:
    server, thread = start(site, poll=True)
    try:
        replace_in(site / LESSON, "Good news first", "Polled news first")
        eventually(lambda: "Polled news first" in fetch(server.url + PAGE.lstrip("/"))[2], "a change seen by polling")
    finally:
        server.stop()
        thread.join(timeout=10)


def test_cli_serves_then_stops_cleanly_on_ctrl_c(site: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "from lessonpress.cli import main; main()", "-C", str(site), "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell without job control starts background jobs with Ctrl-C ignored; a terminal does not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        url = ""
        deadline = time.monotonic() + DEADLINE
        while not url and time.monotonic() < deadline:
            line = process.stdout.readline()
            match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            url = match.group(1) if match else ""
        assert url, "the server never said where it serves"
        assert fetch(url)[0] == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert re.search(r"Stopped after \d+ builds?, served for [\d.]+ s", out)
    assert "Traceback" not in err


def test_email_previews_are_rendered_when_asked_for(server: DevServer) -> None:
    status, headers, body = fetch(server.url + "email/retention/the-first-ninety-days.html")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "The First Ninety Days" in body and "style=" in body  # CSS inlined for mail clients
    status, headers, body = fetch(server.url + "email/retention/the-first-ninety-days.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain") and "THE FIRST NINETY DAYS" in body.upper()
    assert fetch(server.url + "email/retention/no-such-lesson.html")[0] == 404


def test_config_and_a_theme_folder_created_while_serving_are_watched(server: DevServer, site: Path) -> None:
    replace_in(site / "lessonpress.toml", 'title = "The Retention Letter"', 'title = "The Renamed Letter"')
    eventually(lambda: "The Renamed Letter" in fetch(server.url)[2], "a config change is served")
    static = site / "themes/default/static"
    static.mkdir(parents=True)  # themes/ did not exist when the server started
    (static / "extra.css").write_text("body { color: teal; }\n", encoding="utf-8")
    eventually(lambda: fetch(server.url + "static/extra.css")[0] == 200, "a new theme file is served")
    assert fetch(server.url + "static/extra.css")[1]["Content-Type"].startswith("text/css")


@pytest.mark.parametrize(
    ("relative", "kind"),
    [
        ("lessons/retention/02-x.md", "lesson"),
        ("lessons/retention/chart.png", "lesson"),
        ("themes/default/lesson.html", "theme"),
        ("data/polls.csv", "data"),
        ("lessonpress.toml", "config"),
        ("output/index.html", None),
        (".lessonpress/cache/parse.sqlite3", None),
        ("lessons/retention/.02-x.md.swp", None),
        ("lessons/retention/02-x.md~", None),
        ("lessons/retention/4913", None),
        ("README.md", None),
    ],
)
def test_watch_events_are_classified_by_kind(tmp_path: Path, relative: str, kind: str | None) -> None:
    from lessonpress.serve.watch import classify

    assert classify(tmp_path, str(tmp_path / relative)) == kind


def test_a_save_that_changes_nothing_sends_no_reload(server: DevServer, site: Path) -> None:
    before = server.live.snapshot.number
    lesson = site / LESSON
    lesson.write_bytes(lesson.read_bytes())  # saved without edits
    replace_in(site / "lessons/retention/01-why-customers-leave.md", "\n---\n", "\n---\n\n")  # a blank line changes no output
    eventually(lambda: server.live.snapshot.change is not None, "the saves were rebuilt")
    assert server.live.snapshot.number == before
