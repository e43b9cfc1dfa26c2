"""Long stages report their progress; nothing is reported when nobody is watching a terminal."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from click.testing import CliRunner

from conftest import NOW
from lessonpress.build import build
from lessonpress.cli import main
from lessonpress.content.read import MIN_POOL_FILES
from lessonpress.site.model import BuildOptions


def test_every_rendered_file_passes_through_the_progress_reporter(basic: Path, tmp_path: Path) -> None:
    seen: dict[str, int] = {}

    def record(label: str, items: Sequence[object], size: int = 0) -> Iterator[object]:
        seen[label] = 0
        for item in items:
            seen[label] += 1
            yield item

    result = build(basic, BuildOptions(now=NOW), output=tmp_path / "out", progress=record)
    emails = sum(1 for path in result.files if path.endswith(".eml"))
    others = sum(1 for path in result.files if not path.startswith(("email/", "pagefind/")))
    others += any(path.startswith("pagefind/") for path in result.files)  # the search index is one job, whatever files Pagefind writes
    assert emails == len(result.site.issues)
    # A cold build renders every page, feed, lesson's email and copied file once.
    assert seen[f"Rendering {emails + others} pages, feeds and emails"] == result.rendered == emails + others


def test_a_cold_parse_of_many_lessons_reports_every_pool_chunk(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "lessons" / "course").mkdir(parents=True)
    (site / "lessonpress.toml").write_text('[site]\ntitle = "T"\nurl = "https://example.org"\n')
    count = MIN_POOL_FILES * 3
    for number in range(1, count + 1):
        (site / "lessons" / "course" / f"{number:03d}-l{number}.md").write_text(f"---\ntitle: L{number}\ndate: 2026-01-01\n---\nBody {number}.\n")
    sizes: dict[str, int] = {}

    def record(label: str, items: Sequence[list[object]], size: int = 0) -> Iterator[list[object]]:
        sizes[label] = size
        yield from items

    result = build(site, BuildOptions(now=NOW), output=tmp_path / "out", progress=record)
    assert len(result.site.issues) == count
    assert sizes.get(f"Parsing {count} files") == count, sizes


def test_the_build_command_draws_no_bar_into_a_pipe(basic: Path) -> None:
    outcome = CliRunner().invoke(main, ["--site", str(basic), "build"])
    assert outcome.exit_code == 0, outcome.output
    assert "Rendering" not in outcome.output and "Parsing" not in outcome.output
    assert outcome.output.strip().splitlines()[-1].startswith("Built ")
