"""Pages link relatively, so a site works under any path; `--offline` makes it work opened from disk; feeds and email stay absolute."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
from click.testing import CliRunner

from conftest import NOW, build_into, copy_project, read_page, use_theme
from lessonpress import build as build_module
from lessonpress.build import build
from lessonpress.cli import main
from lessonpress.render.relative import relative_html, relative_url
from lessonpress.serve.server import LiveSite, render_file
from lessonpress.site.model import BuildOptions

LINK = re.compile(r'\b(?:href|src|action)="([^"]*)"')


@pytest.mark.parametrize(
    ("target", "page", "expected"),
    [
        ("", "index.html", "./"),
        ("archive/", "index.html", "archive/"),
        ("", "retention/why/index.html", "../../"),
        ("retention/", "retention/why/index.html", "../"),
        ("retention/first/", "retention/why/index.html", "../first/"),
        ("static/style.css", "retention/why/index.html", "../../static/style.css"),
        ("tags/churn/", "tags/index.html", "churn/"),
        ("#subscribe", "archive/index.html", "../#subscribe"),
        ("search/?q=churn", "retention/index.html", "../search/?q=churn"),
        ("retention", "retention/why/index.html", "../../retention"),
        ("static/style.css", "404.html", "static/style.css"),
    ],
)
def test_a_link_is_written_from_the_page_it_is_on(target: str, page: str, expected: str) -> None:
    assert relative_url(target, page) == expected
    # Followed from the page, it leads where the root-relative link led, wherever the site is put.
    for base in ("http://host/", "http://host/letters/"):
        assert urljoin(base + page, expected) == base + target


@pytest.mark.parametrize(
    ("target", "page", "expected"),
    [
        ("", "index.html", "index.html"),
        ("", "retention/why/index.html", "../../index.html"),
        ("#subscribe", "archive/index.html", "../index.html#subscribe"),
        ("retention/first/", "retention/why/index.html", "../first/index.html"),
        ("static/style.css", "retention/why/index.html", "../../static/style.css"),
    ],
)
def test_offline_links_name_the_page_not_the_folder(target: str, page: str, expected: str) -> None:
    assert relative_url(target, page, offline=True) == expected


def test_only_links_under_the_sites_path_are_rewritten() -> None:
    html = (
        '<a href="/letters/archive/">a</a> <img src="/letters/retention/chart.png"> <form action="/letters/search/"></form>'
        ' <a href="/elsewhere/">e</a> <a href="//cdn.example/x.js">c</a> <a href="https://example.org/letters/">x</a>'
        ' <a href="mailto:a@example.org">m</a> <a href="#top">t</a> <a href="notes/">n</a>'
    )
    assert relative_html(html, "retention/why/index.html", "/letters/") == (
        '<a href="../../archive/">a</a> <img src="../chart.png"> <form action="../../search/"></form>'
        ' <a href="/elsewhere/">e</a> <a href="//cdn.example/x.js">c</a> <a href="https://example.org/letters/">x</a>'
        ' <a href="mailto:a@example.org">m</a> <a href="#top">t</a> <a href="notes/">n</a>'
    )


# The basic site's one link out of the site: a root-relative link its author wrote to the host's /guide/.
OUTSIDE = "/guide/"


def internal_links(output: Path, name: str) -> list[str]:
    """Every href, src and action of an output page into the site: not another site's, a mail address or a bare fragment."""
    links = LINK.findall((output / name).read_text(encoding="utf-8"))
    return [link for link in links if not urlsplit(link).scheme and not link.startswith("#") and link != OUTSIDE]


def web_pages(output: Path) -> list[str]:
    return sorted(path.relative_to(output).as_posix() for path in output.rglob("*.html") if not path.relative_to(output).as_posix().startswith(("email/", "pagefind/")))


@pytest.fixture
def linked_site(tmp_path: Path) -> Path:
    """The basic site (served at /letters/) with a lesson that links another lesson root-relatively, as an author may write it."""
    root = copy_project("basic", tmp_path / "basic")
    lesson = root / "lessons" / "retention" / "01-why-they-leave.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nRead [the first days](/letters/retention/first-days/) next.\n", encoding="utf-8")
    return root


def test_every_page_links_relatively_and_every_link_leads_to_a_built_file(linked_site: Path) -> None:
    output = build_into(linked_site).site.config.root / "output"
    for name in web_pages(output):
        links = internal_links(output, name)
        if name == "404.html":
            # Served for a missing page at any depth: its links are from `[site] url`'s path instead.
            assert links and all(link.startswith("/letters/") for link in links), links
            continue
        assert links and not [link for link in links if link.startswith("/")], name
        for link in links:
            target = urlsplit(urljoin(f"http://host/{name}", link)).path.lstrip("/")
            found = output / target / "index.html" if target.endswith("/") or not target else output / target
            assert found.is_file(), f"{name}: {link}"
    body_link = read_page(output, "retention/why-they-leave/index.html").xpath('//div[@class="lesson-body"]//a[text()="the first days"]')[0]
    assert body_link.get("href") == "/letters/retention/first-days/"  # resolved as a browser at /letters/ does
    assert 'href="../first-days/"' in (output / "retention/why-they-leave/index.html").read_text(encoding="utf-8")


def test_feeds_sitemap_and_emails_keep_absolute_urls(linked_site: Path) -> None:
    output = build_into(linked_site).site.config.root / "output"
    for feed in ("feed.xml", "atom.xml", "retention/feed.xml"):
        content = " ".join(element.text or "" for element in ET.parse(output / feed).getroot().iter())
        links = LINK.findall(content)
        assert links and all(urlsplit(link).scheme for link in links), (feed, [link for link in links if not urlsplit(link).scheme])
        assert "https://example.org/letters/retention/first-days/" in links
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    assert all(loc.text.startswith("https://example.org/letters/") for loc in ET.parse(output / "sitemap.xml").getroot().iter(f"{namespace}loc"))
    email = (output / "email/retention/why-they-leave.html").read_text(encoding="utf-8")
    assert all(urlsplit(link).scheme for link in LINK.findall(email))
    assert 'href="https://example.org/letters/retention/first-days/"' in email


def test_offline_build_links_every_folder_by_its_index_html(tmp_path: Path) -> None:
    root = copy_project("basic", tmp_path / "basic")
    build(root, BuildOptions(now=NOW, offline=True))
    output = root / "output"
    for name in web_pages(output):
        if name == "404.html":
            continue
        for link in internal_links(output, name):
            path = urlsplit(link).path
            assert path.endswith((".html", ".css", ".svg", ".xml", ".json")), f"{name}: {link} opens a folder listing from disk"
            assert (output / name).parent.joinpath(path).resolve().is_file(), f"{name}: {link}"


def test_offline_is_a_setting_too(tmp_path: Path) -> None:
    root = copy_project("basic", tmp_path / "basic")
    config = root / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[site]\n", "[site]\noffline = true\n"), encoding="utf-8")
    build_into(root)
    assert 'href="archive/index.html"' in (root / "output" / "index.html").read_text(encoding="utf-8")


def test_build_offline_flag(tmp_path: Path) -> None:
    root = copy_project("basic", tmp_path / "basic")
    result = CliRunner().invoke(main, ["-C", str(root), "build", "--offline"])
    assert result.exit_code == 0, result.output
    home = lxml.html.fromstring((root / "output" / "index.html").read_bytes())
    assert home.xpath('//link[@rel="stylesheet"]/@href') == ["static/style.css"]
    assert "archive/index.html" in home.xpath("//nav//a/@href")


def test_search_index_is_built_from_the_lessons_only(tmp_path: Path) -> None:
    root = copy_project("basic", tmp_path / "basic")
    result = build_into(root)
    output = root / "output"
    assert (output / "pagefind" / "pagefind.js").is_file()
    assert any(name.startswith("pagefind/") and name.endswith(".pf_meta") for name in result.files)
    assert not (output / "pagefind" / "pagefind-ui.js").exists()
    lesson = lxml.html.fromstring((output / "retention/why-they-leave/index.html").read_bytes())
    (body,) = lesson.xpath("//*[@data-pagefind-body]")
    assert body.tag == "article"  # the masthead, footer and subscribe box are not indexed
    search = lxml.html.fromstring((output / "search/index.html").read_bytes())
    (field,) = search.xpath('//input[@id="search-query"]')
    assert search.xpath('//label[@for="search-query"]') and search.xpath('//*[@role="status"][@aria-live="polite"]')
    assert field.get("name") == "q"
    # Built again with nothing changed, the index is kept as it was; the files a build no longer makes are removed.
    assert build_into(root).written.written == 0


def test_without_the_search_extra_the_build_says_so_and_the_site_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_project("basic", tmp_path / "basic")
    build_into(root)
    monkeypatch.setattr(build_module, "search_available", lambda: False)
    result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 0, result.output
    assert "search: warning: no search index was built: the search extra is not installed; pip install 'lessonpress[search]'" in result.stderr
    assert not (root / "output" / "pagefind").exists()  # the earlier build's index went with the extra
    page = (root / "output" / "search" / "index.html").read_text(encoding="utf-8")
    assert "pip install &#39;lessonpress[search]&#39;" in page or "pip install 'lessonpress[search]'" in page


def test_search_switched_off_leaves_no_page_box_index_or_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_project("basic", tmp_path / "basic")
    build_into(root)
    config = root / "lessonpress.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[site]\n", "[site]\nsearch = false\n", 1), encoding="utf-8")
    monkeypatch.setattr(build_module, "search_available", lambda: False)
    result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 0, result.output
    assert "search" not in result.stderr  # switched off on purpose: nothing to warn about
    output = root / "output"
    assert not (output / "search").exists() and not (output / "pagefind").exists()  # the earlier build's search went too
    home = lxml.html.fromstring((output / "index.html").read_bytes())
    assert not home.xpath('//form[@role="search"]')
    assert "search/" not in (output / "sitemap.xml").read_text(encoding="utf-8")


def test_second_theme_is_selected_by_name_and_extends_the_default(tmp_path: Path) -> None:
    root = use_theme(copy_project("basic", tmp_path / "basic"), "broadsheet")
    build_into(root)
    output = root / "output"
    lesson = lxml.html.fromstring((output / "retention/why-they-leave/index.html").read_bytes())
    assert lesson.xpath('//link[@rel="stylesheet"]/@href') == ["../../static/style.css", "../../static/broadsheet.css"]
    assert lesson.xpath('//header[contains(@class, "broadsheet-masthead")]//nav[@aria-label="Main"]')
    assert lesson.xpath('//form[@role="search"]') and lesson.xpath("//*[@data-pagefind-body]")
    assert (output / "static" / "broadsheet.css").is_file() and b"B</text>" in (output / "static" / "favicon.svg").read_bytes()
    assert "border-top: 6px solid #1d1b16" in (output / "email/retention/why-they-leave.html").read_text(encoding="utf-8")


def test_the_dev_server_shows_the_search_page_but_never_indexes(tmp_path: Path) -> None:
    """Indexing costs seconds on a big site: a save's reload must not wait for it, so only `build` runs Pagefind."""
    live = LiveSite(copy_project("basic", tmp_path / "basic"))
    try:
        snapshot = live.rebuild()
        assert not snapshot.errors
        assert "search/index.html" in snapshot.files and not [name for name in snapshot.files if name.startswith("pagefind/")]
        page = render_file(snapshot, "search/index.html")
        assert page is not None and b"does not make it, so that reloading after a save stays quick" in page
    finally:
        live.close()


def test_a_site_with_no_published_lesson_builds_without_an_index(tmp_path: Path) -> None:
    root = copy_project("basic", tmp_path / "basic")
    for lesson in (root / "lessons").rglob("0*.md"):
        text = re.sub(r"(?m)^draft: .*\n", "", lesson.read_text(encoding="utf-8"))
        lesson.write_text(text.replace("---\n", "---\ndraft: true\n", 1), encoding="utf-8")
    result = build_into(root)
    assert not result.site.issues and (root / "output" / "search" / "index.html").is_file()
    assert not (root / "output" / "pagefind").exists()
