"""Shared fixtures: copies of the sites under tests/projects/, built with a fixed clock."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from copy import deepcopy
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest

from lessonpress.build import BuildResult, build
from lessonpress.site.model import BuildOptions

PROJECTS = Path(__file__).parent / "projects"
# After every published lesson of tests/projects/basic, long before the scheduled one (2099).
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


_STEP = re.compile(r'([a-z0-9]*)(?:\.([\w-]+))?(?:#([\w-]+))?(?:\[(\w+)="?([^"\]]*)"?\])?')


def select(root: lxml.html.HtmlElement, selector: str) -> list[lxml.html.HtmlElement]:
    """Return the elements under `root` matching a small CSS subset: `tag.class#id[attr=value]`, descendant and `>`."""
    xpath, axis = ".", "//"
    for step in selector.split():
        if step == ">":
            axis = "/"
            continue
        match = _STEP.fullmatch(step)
        assert match and step, f"unsupported selector step {step!r}"
        tag, class_name, ident, attribute, value = match.groups()
        conditions = []
        if class_name:
            conditions.append(f"contains(concat(' ', normalize-space(@class), ' '), ' {class_name} ')")
        if ident:
            conditions.append(f"@id='{ident}'")
        if attribute:
            conditions.append(f"@{attribute}='{value}'")
        xpath += axis + (tag or "*") + "".join(f"[{condition}]" for condition in conditions)
        axis = "//"
    return root.xpath(xpath)


def only(root: lxml.html.HtmlElement, selector: str) -> lxml.html.HtmlElement:
    """Return the single element matching `selector`."""
    found = select(root, selector)
    assert len(found) == 1, f"{selector}: {len(found)} matches"
    return found[0]


def text(element: lxml.html.HtmlElement) -> str:
    """Return the element's text with whitespace collapsed and line breaks as spaces, as a reader sees it."""
    copy = deepcopy(element)
    for br in copy.iter("br"):
        br.tail = " " + (br.tail or "")
    return " ".join(copy.text_content().split())


# How tests/browser/conftest.py words its skip when Chromium or axe-core is missing, and the one command that fixes it.
BROWSER_SKIP = "browser tests need"
BROWSER_SETUP = "bash scripts/setup-browser.sh"


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Say loudly, after everything else, that the browser group did not run and how to make it run: one `-ra` line is easy to miss."""
    terminalreporter = config.pluginmanager.get_plugin("terminalreporter")
    if terminalreporter is None:
        return
    reasons = [_skip_reason(report) for report in terminalreporter.stats.get("skipped", [])]
    missing = [reason for reason in reasons if BROWSER_SKIP in reason]
    if not missing:
        return
    terminalreporter.write_sep("!", "THE BROWSER TESTS DID NOT RUN", red=True, bold=True)
    terminalreporter.write_line(f"{len(missing)} browser test{'s were' if len(missing) != 1 else ' was'} skipped: {missing[0].removeprefix('Skipped: ')}.")
    terminalreporter.write_line(f"Install what they need once with:  {BROWSER_SETUP}   (then run the tests again)", bold=True)
    terminalreporter.write_sep("!", red=True, bold=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true",
        help="Rewrite tests/projects/invalid/*/expected.txt from the actual messages (review the diff!).",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def copy_example_lessons(root: Path) -> None:
    """Copy the repository's example config and lessons into `root`, without data/ and so without `covers:` lines.

    A lesson that covers a backlog topic stops the build when there is no backlog, as the README says.
    """
    shutil.copy(PROJECTS.parents[1] / "lessonpress.toml", root / "lessonpress.toml")
    shutil.copytree(PROJECTS.parents[1] / "lessons", root / "lessons")
    for lesson in (root / "lessons").rglob("*.md"):
        text = lesson.read_text(encoding="utf-8")
        lesson.write_text("".join(line for line in text.splitlines(keepends=True) if not line.startswith("covers:")), encoding="utf-8")


THEMES = Path(__file__).resolve().parent.parent / "themes"  # the repository's own themes: the worked example of theming


def use_theme(root: Path, name: str) -> Path:
    """Give the site in `root` the repository's theme `name` (`default` is the built-in one) and select it in its config."""
    if name != "default":
        shutil.copytree(THEMES / name, root / "themes" / name)
    config = root / "lessonpress.toml"
    text = config.read_text(encoding="utf-8")
    chosen = re.sub(r'(?m)^theme = ".*"$', f'theme = "{name}"', text)
    if chosen == text and f'theme = "{name}"' not in text:
        chosen = text.replace("[site]\n", f'[site]\ntheme = "{name}"\n', 1)
    config.write_text(chosen, encoding="utf-8")
    return root


def copy_project(name: str, destination: Path) -> Path:
    """Copy tests/projects/<name> to `destination` and return it."""
    shutil.copytree(PROJECTS / name, destination)
    return destination


def build_into(root: Path, **options: bool) -> BuildResult:
    """Build `root` into `root/output` with the fixed clock."""
    return build(root, BuildOptions(now=NOW, **options), output=root / "output")


@pytest.fixture
def project(tmp_path: Path) -> Callable[[str], Path]:
    """Return a function that copies a project into tmp_path."""
    return lambda name: copy_project(name, tmp_path / name)


@pytest.fixture
def basic(project: Callable[[str], Path]) -> Path:
    """A fresh, writable copy of tests/projects/basic."""
    return project("basic")


@pytest.fixture(scope="session")
def basic_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output/ folder of one default build of tests/projects/basic, shared read-only."""
    root = copy_project("basic", tmp_path_factory.mktemp("shared") / "basic")
    build_into(root)
    return root / "output"


def read_page(output: Path, name: str, base: str = "/letters/") -> lxml.html.HtmlElement:
    """Parse an output page with its links resolved as a browser at `base` (the basic site's path) resolves them.

    Pages link relatively; asserting where a link leads, not how it is spelt, keeps the tests about what a reader follows.
    """
    root = lxml.html.fromstring((output / name).read_bytes())
    root.make_links_absolute(base + name.rpartition("/")[0] + ("/" if "/" in name else ""), resolve_base_href=False)
    return root


@pytest.fixture(scope="session")
def page(basic_output: Path) -> Callable[[str], lxml.html.HtmlElement]:
    """Return a function that parses a page of the shared basic build, e.g. page('retention/'), its links resolved."""
    def parse(site_path: str) -> lxml.html.HtmlElement:
        name = site_path + "index.html" if site_path.endswith("/") or not site_path else site_path
        return read_page(basic_output, name)

    return parse
