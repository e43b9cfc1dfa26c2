"""The search index: the lesson pages indexed by Pagefind, when the `search` extra is installed.

Pagefind writes a static index (pagefind/) that the search page loads in the reader's browser, so
search works on any static host with no server of its own. Only `build` makes it: the dev server's
reload after a save would wait for the whole index otherwise.
"""

from __future__ import annotations

import asyncio
import importlib.util
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ..errors import SourceError
from ..site.model import Site
from .pages import Renderer

INSTALL = "pip install 'lessonpress[search]'"
INDEX_FOLDER = "pagefind"
ENTRY = f"{INDEX_FOLDER}/pagefind.js"  # what the search page loads; the rest of the index is named by its contents


def search_available() -> bool:
    """Whether Pagefind and its binary are installed (the `search` extra)."""
    return importlib.util.find_spec("pagefind") is not None and (
        importlib.util.find_spec("pagefind_bin") is not None or importlib.util.find_spec("pagefind_bin_extended") is not None
    )


def not_indexed() -> SourceError:
    """The build's warning when the search extra is missing."""
    return SourceError("search", 0, f"no search index was built: the search extra is not installed; {INSTALL}, then build again (the search page tells readers search is unavailable)")


def search_files(site: Site, pages: Mapping[str, Renderer]) -> dict[str, bytes]:
    """Index every lesson page (only its `data-pagefind-body`, the lesson itself) and return the index's files by output path."""
    lessons = [(f"/{issue.path}", pages[f"{issue.path}index.html"]().decode("utf-8")) for issue in site.issues]
    with tempfile.TemporaryDirectory(prefix="lessonpress-search-") as folder:
        asyncio.run(_write_index(lessons, folder))
        written = Path(folder)
        return {f"{INDEX_FOLDER}/{path.relative_to(written).as_posix()}": path.read_bytes() for path in sorted(written.rglob("*")) if path.is_file()}


async def _write_index(lessons: list[tuple[str, str]], folder: str) -> None:
    # Imported here: the extra is optional, and only a build that indexes needs it.
    from pagefind.index import PagefindIndex

    async with PagefindIndex(config={"output_path": folder}) as index:
        for url, html in lessons:
            await index.add_html_file(content=html, url=url)
