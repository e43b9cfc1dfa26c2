"""Incremental builds: only what changed is rendered and written, and the output is always what a clean build gives."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import lxml.html
import pytest

import lessonpress.incremental.run
from conftest import NOW, build_into, only, read_page, select, text
from lessonpress.build import BuildResult, build
from lessonpress.incremental.manifest import DATABASE
from lessonpress.site.model import BuildOptions
from lessonpress.store import CACHE_DIR

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
from generator import generate, write_lessonpress

OLDEST = Path("lessons/good-habits/01-small-steps.md")  # the oldest published lesson; its next one is the-last-habit
FIRST = Path("lessons/retention/01-why-they-leave.md")  # followed by retention/first-days
LESSON_PAGES = ("good-habits/small-steps/", "good-habits/the-last-habit/", "retention/why-they-leave/", "retention/first-days/")
SUMMARY = re.compile(r"\((\d+) of (\d+) rendered, (\d+) files written\)")
# `python -m lessonpress`, with a note on stderr when the build renders in forked workers.
WATCH_FORK = """
import runpy, sys
import lessonpress.incremental.run

fan_out = lessonpress.incremental.run.fan_out

def watched(count, work, workers):
    print(f"forked: {count} jobs over {workers} workers", file=sys.stderr, flush=True)
    return fan_out(count, work, workers)

lessonpress.incremental.run.fan_out = watched
sys.argv = ["lessonpress", *sys.argv[1:]]
runpy.run_module("lessonpress", run_name="__main__", alter_sys=True)
"""


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def identities(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` with its inode and mtime in ns: what rsync and browser caches see."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            status = path.stat()
            found[path.relative_to(folder).as_posix()] = (status.st_ino, status.st_mtime_ns)
    return found


def parse(root: Path, site_path: str) -> lxml.html.HtmlElement:
    """Parse a page of root/output, e.g. 'retention/' or 'index.html', its links resolved."""
    return read_page(root / "output", site_path + "index.html" if site_path.endswith("/") or not site_path else site_path)


def output_text(root: Path, path: str) -> str:
    return (root / "output" / path).read_text(encoding="utf-8")


def append(path: Path, addition: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + addition, encoding="utf-8")


def substitute(path: Path, old: str, new: str) -> None:
    """Replace `old` (which must be there) with `new` in a text file."""
    content = path.read_text(encoding="utf-8")
    assert old in content, f"{old!r} not in {path}"
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


def use_theme(root: Path, name: str, templates: dict[str, str]) -> None:
    """Create themes/<name>/ with these files and switch the site to it."""
    for template, content in templates.items():
        target = root / "themes" / name / template
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    substitute(root / "lessonpress.toml", "[site]\n", f'[site]\ntheme = "{name}"\n')


def cli(root: Path, *arguments: str, watch_fork: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `python -m lessonpress --site root build …` in a fresh process."""
    command = [sys.executable, "-c", WATCH_FORK] if watch_fork else [sys.executable, "-m", "lessonpress"]
    return subprocess.run([*command, "--site", str(root), "build", *arguments], capture_output=True, text=True, timeout=120, check=False)


def counts(summary: str) -> tuple[int, int, int]:
    """(rendered, outputs, files written) from a build's summary line."""
    match = SUMMARY.search(summary)
    assert match, f"no summary in {summary!r}"
    rendered, outputs, written = map(int, match.groups())
    return rendered, outputs, written


def build_at(root: Path, now: datetime) -> BuildResult:
    return build(root, BuildOptions(now=now), output=root / "output")


def test_unchanged_site_rebuilt_in_a_new_process_renders_and_writes_nothing(basic: Path) -> None:
    """Building again in another process with nothing changed touches no output file."""
    first = build_into(basic)
    assert first.rendered == first.outputs > 20
    before = identities(basic / "output")
    finished = cli(basic)
    assert finished.returncode == 0, finished.stderr
    assert counts(finished.stdout) == (0, first.outputs, 0)
    assert identities(basic / "output") == before


def test_editing_one_body_rerenders_only_its_neighbourhood(basic: Path) -> None:
    """A new paragraph shows in the lesson's page, emails and the feed; unrelated pages are not rewritten."""
    build_into(basic)
    paragraph, unrelated = "Zebra notes grow daily.", "retention/first-days/index.html"
    before = identities(basic / "output")
    assert paragraph not in output_text(basic, "feed.xml")
    append(basic / OLDEST, f"\n{paragraph}\n")
    result = build_into(basic)
    assert 0 < result.rendered <= 15 < result.outputs  # the site and series feeds in three formats, and the search index
    for path in ("good-habits/small-steps/index.html", "email/good-habits/small-steps.html", "email/good-habits/small-steps.txt", "feed.xml"):
        assert paragraph in output_text(basic, path), path
    assert identities(basic / "output")[unrelated] == before[unrelated]


def test_editing_a_title_updates_the_series_page_and_the_next_lesson(basic: Path) -> None:
    """A renamed lesson is shown by its new name in its series' list and in the next lesson's "previous" link."""
    build_into(basic)
    substitute(basic / FIRST, 'title: "Why They Leave"', 'title: "Why Customers Drift Away"')
    build_into(basic)
    course = [text(link) for link in select(parse(basic, "retention/"), "ol.course li a")]
    assert "Why Customers Drift Away" in course and "Why They Leave" not in course
    assert text(only(parse(basic, "retention/first-days/"), "a.pager-prev")) == "← Previous: Why Customers Drift Away"


def test_pages_showing_another_lessons_body_follow_its_edits(basic: Path) -> None:
    """A theme that shows the oldest lesson on every page shows its edited text on every page, then settles."""
    oldest = '<aside class="oldest">{{ site.issues[-1].body_html|safe }}</aside>'
    use_theme(basic, "peek", {
        "lesson.html": f'{{% extends "default/lesson.html" %}}\n{{% block main %}}{{{{ super() }}}}{oldest}{{% endblock %}}\n',
        "home.html": f'{{% extends "default/home.html" %}}\n{{% block main %}}{{{{ super() }}}}{oldest}{{% endblock %}}\n',
    })
    build_into(basic)
    pages = ("", *LESSON_PAGES)
    assert all(text(only(parse(basic, page), "aside.oldest")) == "Start small." for page in pages)
    append(basic / OLDEST, "\nThen a little more.\n")
    build_into(basic)
    for page in pages:
        assert text(only(parse(basic, page), "aside.oldest")) == "Start small. Then a little more.", page or "home"
    assert build_into(basic).rendered == 0


def test_editing_a_theme_template_rerenders_its_pages_and_reverting_restores_the_bytes(basic: Path) -> None:
    """An edited site template shows on every page that uses it; undoing the edit gives back the same files."""
    original = '{% extends "default/lesson.html" %}\n{% block title %}{{ issue.lesson.title }} · house{% endblock %}\n'
    use_theme(basic, "house", {"lesson.html": original})
    build_into(basic)
    first = tree(basic / "output")
    template = basic / "themes" / "house" / "lesson.html"
    substitute(template, "· house", "· edited")
    result = build_into(basic)
    assert result.rendered >= len(LESSON_PAGES)
    for page in LESSON_PAGES:
        assert only(parse(basic, page), "title").text.endswith(" · edited"), page
    template.write_text(original, encoding="utf-8")
    build_into(basic)
    assert tree(basic / "output") == first


def test_hand_edited_deleted_and_stray_output_files_are_put_right(basic: Path) -> None:
    """The next build undoes hand edits (same size or not), brings back a deleted file and removes files it never made."""
    build_into(basic)
    good = tree(basic / "output")
    output = basic / "output"
    same_size = output / "retention" / "index.html"
    recorded = same_size.stat().st_mtime_ns
    same_size.write_bytes(same_size.read_bytes().replace(b"Keeping Customers", b"Keeping Customerz"))
    assert same_size.stat().st_size == len(good["retention/index.html"]) and same_size.stat().st_mtime_ns != recorded
    (output / "archive" / "index.html").write_bytes(b"<p>edited by hand</p>")
    (output / "email" / "retention" / "first-days.txt").unlink()
    (output / "stray.html").write_bytes(b"left by hand")
    (output / "notes").mkdir()
    (output / "notes" / "todo.txt").write_bytes(b"left by hand too")
    result = build_into(basic)
    assert tree(output) == good
    assert (result.rendered, result.written.written, result.written.removed) == (3, 3, 2)
    assert not (output / "notes").exists()


@pytest.mark.parametrize("damage", ["garbage", "deleted"])
def test_a_lost_manifest_costs_a_full_render_not_correctness(basic: Path, basic_output: Path, damage: str) -> None:
    """With the build records overwritten or gone, the build succeeds and gives a clean build's files, rewriting none."""
    build_into(basic)
    before = identities(basic / "output")
    manifest = basic / CACHE_DIR / DATABASE
    assert manifest.is_file()
    if damage == "garbage":
        manifest.write_bytes(b"not a database, just what a full disk left behind\n" * 200)
    else:
        manifest.unlink()
    result = build_into(basic)
    assert result.rendered == result.outputs
    assert tree(basic / "output") == tree(basic_output)
    assert result.written.written == 0 and identities(basic / "output") == before
    assert build_into(basic).rendered == 0, "the records are written again"


def test_two_output_folders_keep_separate_records(basic: Path, tmp_path: Path) -> None:
    """Building into B between two builds into A does not make A's second build render anything."""
    first, second = tmp_path / "a", tmp_path / "b"
    options = BuildOptions(now=NOW)
    assert build(basic, options, output=first).rendered > 0
    into_second = build(basic, options, output=second)
    assert into_second.rendered == into_second.outputs
    assert build(basic, options, output=first).rendered == 0
    assert tree(first) == tree(second)


@pytest.fixture(scope="module")
def large_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated site with enough lessons that a full build renders in forked workers; shared by the two tests below."""
    root = tmp_path_factory.mktemp("large") / "site"
    write_lessonpress(generate(80), root)
    return root


def fork_or_skip() -> None:
    if lessonpress.incremental.run.usable_cpus() < 2:
        pytest.skip("forked rendering needs at least 2 usable CPUs")


def no_fork(*arguments: object) -> NoReturn:
    raise AssertionError("this build was to render in this process")


def test_forked_build_gives_the_bytes_of_an_in_process_build(large_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering in worker processes writes exactly the files one process writes."""
    fork_or_skip()
    forked = cli(large_site, watch_fork=True)
    assert forked.returncode == 0, forked.stderr
    assert "forked:" in forked.stderr
    rendered, outputs, _ = counts(forked.stdout)
    assert rendered == outputs >= lessonpress.incremental.run.MIN_FORK_JOBS
    monkeypatch.setattr(lessonpress.incremental.run, "MIN_FORK_JOBS", 10**9)
    monkeypatch.setattr(lessonpress.incremental.run, "fan_out", no_fork)
    alone = build(large_site, BuildOptions(now=datetime.now(UTC)), output=tmp_path / "alone")
    assert alone.rendered == alone.outputs == outputs
    assert tree(tmp_path / "alone") == tree(large_site / "output")


def test_template_error_in_forked_workers_fails_cleanly(large_site: Path) -> None:
    """A template failing in a worker stops the build with a message, leaving the last output and no staging folder."""
    fork_or_skip()
    output, config = large_site / "output", large_site / "lessonpress.toml"
    if not output.is_dir():
        assert cli(large_site).returncode == 0
    before, files, settings = identities(output), tree(output), config.read_bytes()
    use_theme(large_site, "broken", {"lesson.html": '{% extends "default/lesson.html" %}\n{% block title %}{{ issue.no_such_field }}{% endblock %}\n'})
    try:
        failed = cli(large_site, watch_fork=True)
    finally:
        config.write_bytes(settings)
    assert failed.returncode == 1
    assert "forked:" in failed.stderr
    assert "template error" in failed.stderr and "no_such_field" in failed.stderr
    assert "Traceback" not in failed.stderr + failed.stdout
    assert identities(output) == before and tree(output) == files
    assert not list(output.parent.glob(f".{output.name}.new-*"))


def test_a_scheduled_lesson_appears_once_its_date_has_come(basic: Path) -> None:
    """Building again after the scheduled date publishes the lesson everywhere, though no file changed."""
    page, url = basic / "output" / "retention" / "renewals" / "index.html", "/letters/retention/renewals/"
    before = build_into(basic)
    assert not page.exists() and url.encode() not in before.files["feed.xml"]
    published = build_at(basic, datetime(2099, 2, 1, tzinfo=UTC))
    assert page.is_file() and "Renewal is earned all year." in page.read_text(encoding="utf-8")
    for listing in ("", "retention/"):
        assert url in [link.get("href") for link in select(parse(basic, listing), "a")], listing or "home"
    assert b"https://example.org/letters/retention/renewals/" in published.files["feed.xml"]
    build_into(basic)
    assert not page.exists(), "and disappears again when built with the earlier clock"


@pytest.mark.parametrize("expression", ['site.issues[-1].lesson.__dict__["body_html"]|safe', "site.issues[-1]"])
def test_a_body_reached_indirectly_is_noticed_too(basic: Path, expression: str) -> None:
    """A template that reaches another lesson's body by its `__dict__` or prints the lesson whole follows its edits."""
    theme = basic / "themes" / "indirect"
    theme.mkdir(parents=True)
    (theme / "lesson.html").write_text('{% extends "default/lesson.html" %}\n{% block main %}{{ super() }}<aside>{{ ' + expression + ' }}</aside>{% endblock %}\n', encoding="utf-8")
    config = basic / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("title =", 'theme = "indirect"\ntitle =', 1), encoding="utf-8")
    build_into(basic)
    oldest = basic / "lessons" / "good-habits" / "01-small-steps.md"
    oldest.write_text(oldest.read_text(encoding="utf-8") + "\nA sentence added for the indirect read.\n", encoding="utf-8")
    build_into(basic)
    assert "A sentence added for the indirect read." in (basic / "output" / "retention" / "first-days" / "index.html").read_text(encoding="utf-8")


def test_a_body_edit_stays_local_on_a_site_with_a_topic_backlog(tmp_path: Path) -> None:
    """The example site's topic board holds lessons; editing one lesson's text still re-renders only its neighbourhood."""
    repo = Path(__file__).resolve().parent.parent
    site = tmp_path / "site"
    for name in ("lessons", "data"):
        shutil.copytree(repo / name, site / name)
    shutil.copy(repo / "lessonpress.toml", site / "lessonpress.toml")
    assert (site / "data" / "topics.yml").is_file()
    first = build(site, BuildOptions(now=NOW))
    lesson = sorted((site / "lessons" / "retention").glob("0*.md"))[2]
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nOne more thought for the backlog test.\n", encoding="utf-8")
    second = build(site, BuildOptions(now=NOW))
    assert 0 < second.rendered <= 17 < first.outputs  # the feeds in three formats among them
