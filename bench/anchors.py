"""The shared anchor corpus (`../shared/bench/` beside the repository): its generator and the Pelican and Hugo settings every comparison uses.

Every speed figure compared across tools is measured on the corpus `gen_corpus.py` writes, built by
each tool with the settings in `configs/`, so the ratios compare the same pages, feeds and lessons.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ANCHORS = Path("shared") / "bench"  # beside the repository; `--anchors DIR` or LESSONPRESS_BENCH_ANCHORS names another
ENVIRONMENT = "LESSONPRESS_BENCH_ANCHORS"
GENERATOR = "gen_corpus.py"
FORMATS = ("lessonpress", "pelican", "hugo")


def _default() -> Path:
    """`shared/bench` beside this checkout, else beside the main checkout when this is a `git worktree` elsewhere."""
    common = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--path-format=absolute", "--git-common-dir"], capture_output=True, text=True, check=False).stdout.strip()
    candidates = [REPO.parent / ANCHORS] + ([Path(common).parent.parent / ANCHORS] if common else [])
    return next((folder for folder in candidates if (folder / GENERATOR).exists()), candidates[0])


def anchors_dir(given: Path | None) -> Path:
    """The anchor folder asked for (option, then environment, then the default); stop with what to do if it lacks the generator."""
    folder = given or Path(os.environ.get(ENVIRONMENT) or _default())
    missing = [path for path in (folder / GENERATOR, folder / "configs" / "pelican" / "pelicanconf.py", folder / "configs" / "hugo") if not path.exists()]
    if missing:
        raise SystemExit(
            f"{folder}: the shared anchor corpus is not there (missing {', '.join(str(path) for path in missing)}); "
            f"pass --anchors DIR or set {ENVIRONMENT} to the folder holding {GENERATOR} and configs/"
        )
    return folder.resolve()


def write_corpus(anchors: Path, lessons: int, target: Path, form: str) -> Path:
    """Write `lessons` anchor lessons in one tool's layout under `target`, with that tool's settings; return `target`."""
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run([sys.executable, str(anchors / GENERATOR), str(lessons), str(target), "--format", form], check=True, capture_output=True)
    if form == "pelican":
        shutil.copy(anchors / "configs" / "pelican" / "pelicanconf.py", target / "pelicanconf.py")
    elif form == "hugo":
        shutil.copytree(anchors / "configs" / "hugo", target, dirs_exist_ok=True)
    return target
