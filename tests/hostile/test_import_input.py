"""Bad archives for `lessonpress import`: clear errors or reported skips, no traceback, nothing half-written under lessons/."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from test_import import SAMPLES, make_site, zipped

from .conftest import run_cli, snapshot


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path)


def test_a_truncated_zip_is_refused_and_nothing_is_written(site: Path, tmp_path: Path) -> None:
    whole = zipped(SAMPLES / "substack", tmp_path / "export.zip").read_bytes()
    cut = tmp_path / "export-cut.zip"
    cut.write_bytes(whole[: len(whole) // 2])
    done = run_cli(site, "import", str(cut), "--series", "quiet")
    assert done.status == 1
    assert "export-cut.zip: is not a complete zip archive (it may be truncated: download the export again)" in done.stderr
    assert "import stopped: nothing was written under lessons/" in done.stderr
    assert snapshot(site / "lessons") == {}


def test_a_zip_cut_inside_a_member_skips_that_post_only(site: Path, tmp_path: Path) -> None:
    """The zip's directory is intact but one member's bytes are damaged: that post is reported, the rest imported whole."""
    archive = zipped(SAMPLES / "substack", tmp_path / "export.zip")
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as opened:
        member = opened.getinfo("posts/185120.three-warning-signs.html")
    start = member.header_offset + 30 + len(member.filename) + 10
    data[start : start + 40] = b"\x00" * 40
    archive.write_bytes(bytes(data))
    done = run_cli(site, "import", str(archive), "--series", "quiet")
    assert "185120.three-warning-signs.html" in done.said
    lessons = snapshot(site / "lessons")
    assert "quiet/02-three-warning-signs.md" not in lessons
    for name in lessons:
        if name.endswith(".md") and not name.endswith("_index.md"):
            assert (site / "lessons" / name).read_text(encoding="utf-8").rstrip().count("---") >= 2


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"<!doctype html><html><body><p>Our archive<br></body></html>", "feed.xml", "feed.xml:1: is not well-formed XML"),
    (b"Subscribe to our newsletter!\n", "feed.rss", "feed.rss:1: is not a feed (RSS, Atom, JSON Feed), a WordPress export, a zip, an mbox, a Maildir or a folder of issues"),
    (b'{"items": "none"}', "feed.json", "feed.json:1: is JSON but not a JSON Feed"),
    (b"", "empty.xml", "empty.xml:1: is not a feed"),
    (b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><rss><channel><title>&b;</title></channel></rss>', "laughs.xml", "laughs.xml: declares XML entities or external references"),
    (b'<?xml version="1.0"?><opml version="2.0"><body/></opml>', "subscriptions.xml", "subscriptions.xml: is XML but neither an RSS 2.0 nor an Atom feed nor a WordPress export (its root is <opml>)"),
])
def test_a_feed_that_is_not_a_feed_is_a_clear_error(site: Path, tmp_path: Path, content: bytes, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    done = run_cli(site, "import", str(path), "--series", "quiet")
    assert done.status == 1
    assert message in done.stderr
    assert snapshot(site / "lessons") == {}


def test_unknown_wordpress_post_types_are_reported_and_posts_still_imported(site: Path, tmp_path: Path) -> None:
    text = (SAMPLES / "wordpress" / "quietclients.wordpress.2009-02-20.xml").read_text(encoding="utf-8")
    shop = """  <item>
    <title>Client workbook</title>
    <wp:post_id>300</wp:post_id>
    <wp:post_date_gmt><![CDATA[2009-02-01 10:00:00]]></wp:post_date_gmt>
    <wp:status><![CDATA[publish]]></wp:status>
    <wp:post_type><![CDATA[product]]></wp:post_type>
    <content:encoded><![CDATA[<p>Buy the workbook.</p>]]></content:encoded>
  </item>
  <item>
    <title>Retention summit</title>
    <wp:post_id>301</wp:post_id>
    <wp:status><![CDATA[publish]]></wp:status>
    <wp:post_type><![CDATA[tribe_events]]></wp:post_type>
  </item>
</channel>"""
    export = tmp_path / "export.xml"
    export.write_text(text.replace("</channel>", shop), encoding="utf-8")
    done = run_cli(site, "import", str(export), "--series", "quiet")
    assert done.status == 0
    assert "export.xml: item 8 (Client workbook): skipped: of type 'product', which is not a post" in done.stderr
    assert "export.xml: item 9 (Retention summit): skipped: of type 'tribe_events', which is not a post" in done.stderr
    assert sorted(name for name in snapshot(site / "lessons") if name.endswith(".md")) == [
        "quiet/01-why-quiet-clients-leave.md", "quiet/02-three-warning-signs.md", "quiet/03-a-win-back-letter.md", "quiet/_index.md",
    ]
    assert "Buy the workbook" not in "".join(path.read_text(encoding="utf-8") for path in (site / "lessons").rglob("*.md"))


def test_a_mailbox_of_only_other_mail_imports_nothing(site: Path, tmp_path: Path) -> None:
    box = tmp_path / "inbox.mbox"
    box.write_text(
        "From tom@example.net Thu Feb  5 09:00:00 2009\nFrom: Tom <tom@example.net>\nSubject: Re: Why Quiet Clients Leave\nIn-Reply-To: <issue-1.2009@quietclients.example.org>\n\nThanks!\n\n"
        "From MAILER-DAEMON Fri Feb  6 09:00:00 2009\nFrom: Mail Delivery System <MAILER-DAEMON@example.org>\nSubject: Undeliverable: Three Warning Signs\n"
        "Auto-Submitted: auto-replied\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nGone.\n--b--\n",
        encoding="utf-8",
    )
    done = run_cli(site, "import", str(box), "--series", "quiet")
    assert done.status == 0
    assert "inbox.mbox#1 (Re: Why Quiet Clients Leave): skipped: a reply or a forward" in done.stderr
    assert "inbox.mbox#2 (Undeliverable: Three Warning Signs): skipped: sent automatically" in done.stderr
    assert "Imported 0 issues from the mailbox into lessons/quiet/ (2 skipped)" in done.stderr
    assert snapshot(site / "lessons") == {}


def test_a_50_mb_html_file_is_skipped_and_the_rest_imported(site: Path, tmp_path: Path) -> None:
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "2009-02-04-short.txt").write_text("A Short Lesson\n\nOne idea, one week.\n", encoding="utf-8")
    with (folder / "2009-02-11-huge.html").open("wb") as handle:
        handle.write(b"<html><body>")
        paragraph = b"<p>" + b"All work and no play. " * 40 + b"</p>\n"
        for _ in range(50 * 1024 * 1024 // len(paragraph) + 1):
            handle.write(paragraph)
        handle.write(b"</body></html>")
    assert (folder / "2009-02-11-huge.html").stat().st_size >= 50 * 1024 * 1024
    done = run_cli(site, "import", str(folder), "--series", "quiet")
    assert done.status == 0
    assert "letters/2009-02-11-huge.html: skipped: is 50.0 MB, more than the 5 MB an import reads; a newsletter issue is far smaller" in done.stderr
    assert sorted(snapshot(site / "lessons")) == ["quiet/01-a-short-lesson.md", "quiet/_index.md"]
    single = run_cli(site, "import", str(folder / "2009-02-11-huge.html"), "--series", "other")
    assert single.status == 1
    assert "2009-02-11-huge.html: is one issue file: put the issues in a folder and import the folder" in single.stderr


def test_a_zip_cannot_lead_the_import_out_of_its_folder(site: Path, tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("2009-02-04-letter.html", '<h1>A Letter</h1><p>See <img src="../../../../etc/passwd" alt="x"> and <img src="/etc/hostname" alt="y"></p>')
        handle.writestr("../../outside.html", "<h1>Outside</h1><p>Never read.</p>")
    done = run_cli(site, "import", str(archive), "--series", "quiet")
    assert done.status == 0, done.said
    files = snapshot(site / "lessons")
    assert sorted(files) == ["quiet/01-a-letter.md", "quiet/_index.md"]
    assert not list(tmp_path.glob("outside*")) and not (site / "outside.html").exists()


@pytest.mark.parametrize("series", ["../escape", "tags", "Quiet Letters", "/tmp/x"])
def test_a_series_name_is_a_slug_and_never_a_path(site: Path, series: str) -> None:
    done = run_cli(site, "import", str(SAMPLES / "feed.rss"), "--series", series)
    assert done.status == 1
    assert "cannot be a series folder: use lowercase letters, digits and hyphens" in done.stderr
    assert snapshot(site / "lessons") == {}


def test_a_failed_write_removes_what_the_import_had_written(site: Path) -> None:
    """files/ is taken by a plain file, so copying the mail's image fails after the lessons were written: they go again."""
    (site / "lessons" / "quiet").mkdir()
    (site / "lessons" / "quiet" / "files").write_text("in the way\n", encoding="utf-8")
    done = run_cli(site, "import", str(SAMPLES / "sent.mbox"), "--series", "quiet")
    assert done.status == 1
    assert "the files this import had written were removed" in done.stderr
    assert snapshot(site / "lessons") == {"quiet/files": snapshot(site / "lessons")["quiet/files"]}
    assert not [name for name in os.listdir(site / "lessons" / "quiet") if name.startswith(".import-")]


def test_lessons_linked_out_of_the_site_are_refused(site: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (site / "lessons").rmdir()
    (site / "lessons").symlink_to(elsewhere)
    done = run_cli(site, "import", str(SAMPLES / "feed.rss"), "--series", "quiet")
    assert done.status == 1
    assert "lessons: is a link or not a folder" in done.stderr
    assert list(elsewhere.iterdir()) == []


def test_markup_nested_deeper_than_python_recurses_keeps_its_text(site: Path, tmp_path: Path) -> None:
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "2009-02-04-deep.html").write_text("<title>Deep</title>" + "<div>" * 50000 + "<p>Still here.</p>" + "</div>" * 50000, encoding="utf-8")
    done = run_cli(site, "import", str(folder), "--series", "quiet")
    assert done.status == 0, done.said
    assert "Still here." in (site / "lessons" / "quiet" / "01-deep.md").read_text(encoding="utf-8")


def test_a_message_in_an_unknown_charset_is_skipped(site: Path, tmp_path: Path) -> None:
    box = tmp_path / "sent.mbox"
    box.write_bytes(
        b"From clara@example.org Wed Feb  4 07:30:00 2009\nFrom: Clara <clara@example.org>\nSubject: Odd\nDate: Wed, 04 Feb 2009 07:30:00 +0000\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\n\nBytes \xff\xfe.\n\n"
        b"From clara@example.org Wed Feb 11 07:30:00 2009\nFrom: Clara <clara@example.org>\nSubject: Fine\nDate: Wed, 11 Feb 2009 07:30:00 +0000\n"
        b"Content-Type: text/plain; charset=utf-8\n\nA fine lesson.\n"
    )
    done = run_cli(site, "import", str(box), "--series", "quiet")
    assert done.status == 0, done.said
    assert "sent.mbox#1 (Odd): skipped: its text cannot be decoded" in done.stderr
    assert sorted(snapshot(site / "lessons")) == ["quiet/01-fine.md", "quiet/_index.md"]


def test_control_characters_from_an_archive_never_reach_the_terminal_or_a_lesson(site: Path, tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    feed.write_text('{"version": "https://jsonfeed.org/version/1.1", "title": "Letters", "items": ['
                    '{"id": "1", "title": "Red \\u001b[31m alert", "content_text": "Body.", "date_published": "2009-02-04T07:30:00Z"},'
                    '{"id": "2", "title": "Undated \\u001b]0;owned\\u0007", "content_text": "Body."}]}', encoding="utf-8")
    done = run_cli(site, "import", str(feed), "--series", "quiet")
    assert done.status == 0, done.said
    assert "\x1b" not in done.said and "\x07" not in done.said
    assert "Undated \\x1b]0;owned\\x07" in done.stderr  # the skipped, undated issue, named with its escapes shown
    lesson = (site / "lessons" / "quiet" / "01-red-31m-alert.md").read_text(encoding="utf-8")
    assert 'title: "Red [31m alert"' in lesson and "\x1b" not in lesson


@pytest.mark.parametrize("name", ["page.html", "logo.svg", "app.js", "lesson.md", "noextension", "style.css"])
def test_an_archive_file_that_a_browser_would_run_is_never_published_as_it_is(name: str) -> None:
    """Files under lessons/<series>/files/ are published on the site's own origin: a stranger's archive must not add pages or scripts."""
    from lessonpress.importing.links import file_name

    assert file_name(name, b"<script>alert(1)</script>", {}).endswith(".bin")
    assert file_name("chart.png", b"\x89PNG", {}) == "files/chart.png"


def test_an_archive_past_the_total_an_import_reads_is_refused_file_by_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each file under its own limit, but together past the total: a zip of many compressed members must not fill memory."""
    from lessonpress.importing import container

    monkeypatch.setattr(container, "MAX_TOTAL_BYTES", 3000)
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as writing:
        for number in range(5):
            writing.writestr(f"issue-{number}.txt", "a" * 1000)
    files = container.open_zip(archive, "many.zip")
    assert [len(files.read(name)) for name in files.names[:3]] == [1000, 1000, 1000]
    with pytest.raises(container.TooLarge, match="import the archive in parts"):
        files.read(files.names[3])
