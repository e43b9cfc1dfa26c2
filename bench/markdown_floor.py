"""The Markdown floor: convert every lesson body of a site with lessonpress's Markdown settings over all usable cores, nothing else.

    python bench/markdown_floor.py SITE

No build that must parse a corpus can be faster than this process: start-up, reading the files,
one converter per worker and the conversions, spread over the cores in chunks as they free up
(a busy core takes fewer). Nothing is written; the corpus's bytes of HTML are printed as a check.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
from pathlib import Path

from lessonpress.content.markdown import convert, make_markdown

CHUNKS_PER_WORKER = 8


def _body(text: str) -> str:
    """The text after the front matter (between the first two `---` lines)."""
    if not text.startswith("---"):
        return text
    end = text.find("\n---", 3)
    return text[text.index("\n", end + 1) + 1 :] if end >= 0 else text


def _convert_chunk(paths: list[str]) -> int:
    md = make_markdown()
    return sum(len(convert(md, _body(Path(path).read_text(encoding="utf-8")))) for path in paths)


def main() -> None:
    """Convert the site's lessons and print how many and the HTML's size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    args = parser.parse_args()
    paths = sorted(str(path) for path in (args.site / "lessons").glob("*/*.md"))
    workers = len(os.sched_getaffinity(0))
    size = max(1, -(-len(paths) // (workers * CHUNKS_PER_WORKER)))
    chunks = [paths[start : start + size] for start in range(0, len(paths), size)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        html = sum(pool.imap_unordered(_convert_chunk, chunks))
    print(f"converted {len(paths)} files on {workers} cores: {html} characters of HTML")


if __name__ == "__main__":
    main()
