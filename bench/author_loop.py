"""Time what the dev server does after an author saves one lesson: edit → the new Site is in place.

    python bench/author_loop.py SITE [--runs 5]    prints the median in ms on the last line
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from lessonpress.serve.server import LiveSite
from lessonpress.serve.watch import Change


def timed_edits(site: Path, runs: int, step: Callable[[str], None]) -> list[float]:
    """Run `step` once to warm up (as a running server has), then time it after single-lesson edits."""
    lessons = sorted((site / "lessons").glob("*/0*.md"))
    lesson = lessons[len(lessons) // 2]
    source = lesson.relative_to(site).as_posix()
    original = lesson.read_bytes()
    step(source)
    timings = []
    try:
        for n in range(runs):
            lesson.write_bytes(original + f"\n\nSaved again by the author, pass {n}.\n".encode())
            started = time.perf_counter()
            step(source)
            timings.append(time.perf_counter() - started)
    finally:
        lesson.write_bytes(original)
    return timings


def main() -> None:
    """Time the server's rebuild after one saved lesson."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("site", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    live = LiveSite(args.site)
    served = timed_edits(args.site, args.runs, lambda source: live.rebuild(Change(frozenset({"lesson"}), (source,))))
    assert not live.snapshot.errors, live.snapshot.errors
    page = f"{live.snapshot.site.issues[len(live.snapshot.site.issues) // 2].path}index.html"
    started = time.perf_counter()
    live.snapshot.files[page]
    print(f"first request of one lesson page after a rebuild: {(time.perf_counter() - started) * 1000:.1f} ms")
    print(f"dev server rebuild, edit -> new Site in place: median {statistics.median(served) * 1000:.0f} ms")
    print(f"{statistics.median(served) * 1000:.0f}")


if __name__ == "__main__":
    main()
