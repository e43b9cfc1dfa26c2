"""The search index: the lesson pages indexed by Pagefind, when the `search` extra is installed.

Pagefind writes a static index (pagefind/) that the search page loads in the reader's browser, so
search works on any static host with no server of its own. Only `build` makes it: the dev server's
reload after a save would wait for the whole index otherwise.
"""

from __future__ import annotations

import importlib.util
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ..errors import BuildFailed, SourceError
from ..site.model import Site
from .pages import Renderer

INSTALL = "pip install 'lessonpress[search]'"
INDEX_FOLDER = "pagefind"
ENTRY = f"{INDEX_FOLDER}/pagefind.js"  # what the search page loads; the rest of the index is named by its contents
# Pagefind's own ready-made interfaces: the theme's search page is written for this site, so they are not published.
UNUSED = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.")


def search_available() -> bool:
    """Whether Pagefind's binary is installed (the `search` extra)."""
    return importlib.util.find_spec("pagefind_bin") is not None


def not_indexed() -> SourceError:
    """The build's warning when the search extra is missing."""
    return SourceError("search", 0, f"no search index was built: the search extra is not installed; {INSTALL}, then build again, or set `search = false` under [site] to leave search out (the search page tells readers search is unavailable)")


def search_files(site: Site, pages: Mapping[str, Renderer]) -> dict[str, bytes]:
    """Index every lesson page (only its `data-pagefind-body`, the lesson itself) and return the index's files by output path."""
    # Imported here: the extra is optional, and only a build that indexes needs it.
    from pagefind_bin import get_executable

    if not site.issues:
        return {}  # Pagefind refuses to index nothing; the search page then says search is unavailable
    with tempfile.TemporaryDirectory(prefix="lessonpress-search-") as folder:
        lessons, index = Path(folder, "site"), Path(folder, INDEX_FOLDER)
        for issue in site.issues:
            page = lessons / issue.path / "index.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_bytes(pages[f"{issue.path}index.html"]())
        # Pagefind's command line over the lesson pages: its Python service API took seconds where this takes a fraction.
        ran = subprocess.run(
            [str(get_executable()), "--site", str(lessons), "--output-path", str(index), "--silent"],
            capture_output=True, text=True, check=False,
        )
        if ran.returncode != 0:
            raise BuildFailed([SourceError("search", 0, f"Pagefind could not index the lessons: {(ran.stderr or ran.stdout).strip()}")])
        return {
            f"{INDEX_FOLDER}/{path.relative_to(index).as_posix()}": path.read_bytes()
            for path in sorted(index.rglob("*")) if path.is_file() and not path.name.startswith(UNUSED)
        }
