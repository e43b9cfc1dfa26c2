"""Measure the time from saving a lesson to the dev server's reload event.

    python bench/serve_latency.py                  # the repository's example site
    python bench/serve_latency.py --lessons 2000   # a generated site (bench/generator.py, seeded)
    python bench/serve_latency.py --site SITE      # an existing site, edited in place and restored after

Each round appends a line to one lesson (an atomic save, as Vim and Helix do), then waits
for the reload event on the server-sent event stream; the event is sent only once the new
build is being served. Prints the first (cold) build and per-round figures.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from lessonpress.serve.server import DevServer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def make_site(target: Path, lessons: int, seed: int) -> Path:
    """Copy the example site, or generate a seeded one with `lessons` lessons."""
    if lessons:
        from generator import generate, write_lessonpress  # bench/generator.py

        write_lessonpress(generate(lessons, seed), target)
    else:
        target.mkdir(parents=True)
        shutil.copy(REPO / "lessonpress.toml", target / "lessonpress.toml")
        shutil.copytree(REPO / "lessons", target / "lessons")
    return target


def wait_for_reload(response: http.client.HTTPResponse) -> None:
    """Read the event stream until a reload event arrives."""
    while True:
        line = response.fp.readline()
        if not line:
            raise RuntimeError("the event stream closed")
        if line.startswith(b"event: reload"):
            response.fp.readline()  # its data line
            return


def save_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.swp-bench")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def measure(root: Path, rounds: int, poll: bool) -> None:
    started = time.perf_counter()
    server = DevServer(root, port=0, poll=poll)
    first = time.perf_counter() - started
    if server.live.snapshot.errors:
        raise SystemExit("\n".join(str(error) for error in server.live.snapshot.errors))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    lesson = sorted((root / "lessons").glob("*/[0-9]*.md"))[0]
    original = lesson.read_bytes()
    host, port = server.httpd.server_address[:2]
    latencies, builds = [], []
    try:
        for round_number in range(rounds):
            snapshot = server.live.snapshot
            connection = http.client.HTTPConnection(host, port, timeout=120)
            connection.request("GET", f"/__lessonpress/events?build={snapshot.number}&server={server.live.server_id}")
            response = connection.getresponse()
            response.fp.readline()  # "retry:" line: the stream is open
            text = lesson.read_text(encoding="utf-8") + f"\nEdited in round {round_number}.\n"
            saved = time.perf_counter()
            save_atomically(lesson, text)
            wait_for_reload(response)
            latencies.append(time.perf_counter() - saved)
            builds.append(server.live.snapshot.seconds)
            connection.close()
            time.sleep(0.3)  # let the watcher settle between rounds
    finally:
        server.stop()
        thread.join(timeout=10)
        lesson.write_bytes(original)
    pages = sum(1 for path in server.live.snapshot.files if path.endswith(".html") and not path.startswith("email/"))
    lessons = len(list((root / "lessons").glob("*/[0-9]*.md")))
    print(f"site: {lessons} lessons, {pages} pages, {len(server.live.snapshot.files)} files; observer: {'polling' if poll else 'native'}")
    print(f"first build (server start): {first:.2f} s")
    print(f"save -> reload event over {rounds} rounds: median {statistics.median(latencies) * 1000:.0f} ms, "
          f"min {min(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    print(f"  of which the rebuild: median {statistics.median(builds) * 1000:.0f} ms (the rest is the debounce and delivery)")


def main() -> None:
    """Parse options, make the site in a temporary folder and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=0, help="generate a site with this many lessons (0: the example site)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--poll", action="store_true", help="use the polling observer")
    parser.add_argument("--site", type=Path, help="measure this site instead (its first lesson is edited, then restored)")
    args = parser.parse_args()
    if args.site:
        measure(args.site, args.rounds, args.poll)
        return
    with tempfile.TemporaryDirectory(prefix="lessonpress-serve-bench-") as folder:
        measure(make_site(Path(folder) / "site", args.lessons, args.seed), args.rounds, args.poll)


if __name__ == "__main__":
    main()
