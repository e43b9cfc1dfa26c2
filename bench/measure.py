"""Time a command and sample the memory of it and every process it starts."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.005
# PSS comes from smaps_rollup, for which the kernel walks the process's page tables: read every
# 5 ms for three processes it took most of a core from the build being measured.
PSS_EVERY = 20


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_total_mb: float  # largest sum of proportional set size (PSS) over the process tree, sampled
    peak_rss_mb: float  # largest sum of resident set size: counts a page a forked worker shares with its parent twice
    peak_single_mb: float  # the kernel's peak for the child; on Linux it starts from this benchmark's own size at fork
    cpu_seconds: float  # user + system time of the process and its workers: steadier than wall time on a busy machine


@dataclass(frozen=True)
class Figure:
    name: str
    runs: tuple[Run, ...]

    @property
    def seconds(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(run.cpu_seconds for run in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(run.peak_total_mb for run in self.runs)

    @property
    def peak_rss_mb(self) -> float:
        return max(run.peak_rss_mb for run in self.runs)


def _memory_kb(pid: int, with_pss: bool) -> tuple[int, int]:
    """RSS and (when asked, else 0) PSS of one process: PSS splits each page among the processes sharing it, so sums over a tree count it once."""
    if not with_pss:
        status = Path(f"/proc/{pid}/status").read_text()
        return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0), 0
    rss = pss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def _tree_memory_kb(pid: int, with_pss: bool) -> tuple[int, int]:
    """Sum RSS and PSS over `pid` and its descendants (Linux /proc); processes that end meanwhile count 0."""
    total_rss = total_pss = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            rss, pss = _memory_kb(current, with_pss)
            total_rss, total_pss = total_rss + rss, total_pss + pss
            for task in os.listdir(f"/proc/{current}/task"):
                pending.extend(int(child) for child in Path(f"/proc/{current}/task/{task}/children").read_text().split())
        except (OSError, ValueError):
            continue
    return total_rss, total_pss


def run_measured(command: list[str]) -> Run:
    """Run `command` to completion, stopping the benchmark if it fails; return its time and memory."""
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        peak = [0, 0]  # RSS, PSS
        done = threading.Event()

        def sample() -> None:
            count = 0
            while not done.is_set():
                rss, pss = _tree_memory_kb(process.pid, with_pss=count % PSS_EVERY == 0)
                peak[:] = max(peak[0], rss), max(peak[1], pss)
                count += 1
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4, not Popen.wait: it also returns the kernel's exact peak resident size.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
        if process.returncode != 0:
            log.seek(0)
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{log.read().decode(errors='replace')}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds=seconds, peak_total_mb=peak[1] / 1024, peak_rss_mb=peak[0] / 1024, peak_single_mb=usage.ru_maxrss / 1024, cpu_seconds=cpu)


def repeat(name: str, runs: int, prepare: Callable[[int], None], command: list[str]) -> Figure:
    """Run `command` `runs` times, calling `prepare(n)` untimed before each run; print and return the figure."""
    results = []
    for n in range(runs):
        prepare(n)
        results.append(run_measured(command))
    figure = Figure(name, tuple(results))
    print(f"  {name:<36} {figure.seconds * 1000:9.0f} ms wall {figure.cpu_seconds * 1000:9.0f} ms CPU   peak {figure.peak_mb:6.0f} MB PSS ({figure.peak_rss_mb:.0f} MB RSS)", flush=True)
    return figure
