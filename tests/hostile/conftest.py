"""The hostile-input harness: run the real command line in a child process with a time bound.

Every hostile test asserts what a user would notice: the exit status, a clear message naming
the file, no Python traceback, no hang, and (where it matters) that output and state files
are exactly as they were.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECTS = Path(__file__).resolve().parents[1] / "projects"
# A bound against hangs, not a performance assertion: every command here finishes in a second or two.
TIME_BOUND = 60.0


@dataclass(frozen=True)
class Run:
    """What one command did: its status and both streams."""

    status: int
    stdout: str
    stderr: str

    @property
    def said(self) -> str:
        return self.stdout + self.stderr


def run_cli(site: Path, *arguments: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = TIME_BOUND) -> Run:
    """Run `lessonpress -C site ARGUMENTS…` as a user would; fail the test on a hang or a traceback."""
    environment = {**os.environ, "COLUMNS": "200", **(env or {})}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lessonpress", "-C", str(site), *arguments],
            input=stdin, capture_output=True, text=True, timeout=timeout, env=environment, check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"lessonpress {' '.join(arguments)} hung for more than {timeout:.0f} s")
    run = Run(done.returncode, done.stdout, done.stderr)
    assert "Traceback (most recent call last)" not in run.said, run.said
    return run


def minimal_site(tmp_path: Path) -> Path:
    """A copy of tests/projects/minimal: one series, one lesson, the fewest settings."""
    root = tmp_path / "site"
    shutil.copytree(PROJECTS / "minimal", root)
    return root


def snapshot(folder: Path) -> dict[str, str]:
    """Return every file below `folder` (links not followed) with the sha256 of its bytes."""
    found: dict[str, str] = {}
    if not folder.exists():
        return found
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
