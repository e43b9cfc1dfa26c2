"""A plain (non-editable) install carries the default theme as package data and builds a site from any folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import copy_project

REPO = Path(__file__).parent.parent
RUN_CLI = "import sys, lessonpress; from lessonpress.cli import main; print(lessonpress.__file__, file=sys.stderr); main()"


def test_installed_package_ships_the_theme_and_builds(tmp_path: Path) -> None:
    # setuptools' build_py applies the package-data rules a wheel uses, without needing the `wheel` package;
    # it runs on a copy so the shared tree gets no build/ litter.
    source, installed = tmp_path / "source", tmp_path / "installed"
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".*"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "--build-lib", str(installed)], cwd=source, check=True, capture_output=True)
    theme = REPO / "src" / "lessonpress" / "themes" / "default"
    wanted = sorted(path.relative_to(theme).as_posix() for path in theme.rglob("*") if path.is_file() and not path.name.startswith("."))
    shipped = installed / "lessonpress" / "themes" / "default"
    assert {"lesson.html", "partials/recap.html", "static/style.css"} <= set(wanted)
    assert [name for name in wanted if not (shipped / name).is_file()] == []

    site = copy_project("minimal", tmp_path / "site")
    result = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "--site", str(site), "build"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(installed)}, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(str(installed / "lessonpress" / "__init__.py"))
    assert (site / "output" / "static" / "style.css").read_bytes() == (theme / "static" / "style.css").read_bytes()
