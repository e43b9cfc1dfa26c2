"""`lessonpress import`: one real-looking archive of each kind becomes lessons whose parts land in the page, the feeds and both emails."""

from __future__ import annotations

import mailbox
import shutil
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import lxml.html
import pytest

from conftest import build_into, only, select, text
from hostile.conftest import run_cli, snapshot

SAMPLES = Path(__file__).parent / "data" / "import"
SITE = """\
[site]
title = "Quiet Clients"
url = "https://example.org"

[author]
name = "Clara Whitfield"
email = "clara@quietclients.example.org"
bio = "Clara Whitfield advises agencies on keeping clients."
"""


def make_site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "lessons").mkdir(parents=True)
    (root / "lessonpress.toml").write_text(SITE, encoding="utf-8")
    return root


def zipped(folder: Path, target: Path) -> Path:
    """The folder as the export service hands it out: one zip."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


def maildir_of(mbox_path: Path, target: Path) -> Path:
    """The sent mbox as a real Maildir, the way a mail program keeps a Sent folder."""
    box = mailbox.Maildir(target, create=True)
    for message in mailbox.mbox(mbox_path):
        box.add(message)
    box.close()
    return target


def source(kind: str, tmp_path: Path) -> Path:
    """The archive of one kind, as a user would point the import at it."""
    if kind == "substack zip":
        return zipped(SAMPLES / "substack", tmp_path / "export-quietclients.zip")
    if kind == "buttondown zip":
        return zipped(SAMPLES / "buttondown", tmp_path / "buttondown-export.zip")
    if kind == "maildir":
        return maildir_of(SAMPLES / "sent.mbox", tmp_path / "Sent")
    return SAMPLES / {
        "substack folder": "substack", "buttondown folder": "buttondown", "rss": "feed.rss", "atom": "blogger.atom", "json feed": "feed.json",
        "wordpress": "wordpress/quietclients.wordpress.2009-02-20.xml", "mbox": "sent.mbox", "folder": "folder",
    }[kind]


KINDS = ["substack zip", "substack folder", "buttondown zip", "buttondown folder", "rss", "atom", "json feed", "wordpress", "mbox", "maildir", "folder"]
# Sources that keep images inside the archive (a mail's inline part, a folder's file, WordPress uploads unpacked beside the export).
IMAGES_INSIDE = {"wordpress", "mbox", "maildir", "folder"}
# Sources that know the address of each issue, so a link from one issue to another can become a link between lessons.
LINKED = {"substack zip", "substack folder", "buttondown zip", "buttondown folder", "rss", "atom", "json feed", "wordpress", "folder"}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Each kind imported into a fresh site, built, and checked: the site folder and what the import printed."""
    sites = {}
    for kind in KINDS:
        tmp_path = tmp_path_factory.mktemp(kind.replace(" ", "-"))
        root = make_site(tmp_path)
        done = run_cli(root, "import", str(source(kind, tmp_path)), "--series", "quiet")
        assert done.status == 0, done.said
        build_into(root)
        checked = run_cli(root, "check")
        assert checked.status == 0, checked.said
        sites[kind] = (root, done.said)
    return sites


def page(root: Path, slug: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((root / "output" / "quiet" / slug / "index.html").read_bytes())


@pytest.mark.parametrize("kind", KINDS)
def test_first_issue_parts_land_on_the_page(imported: dict[str, tuple[Path, str]], kind: str) -> None:
    root, said = imported[kind]
    lesson = page(root, "why-quiet-clients-leave")
    assert text(only(lesson, "p.kicker")).endswith("Lesson 1 of 3")
    assert text(only(lesson, "p.greeting")) == "Good morning!"
    poll = only(lesson, "section.poll")
    assert text(only(poll, "h2")) == "Which of these should a future lesson cover?"
    assert [text(choice) for choice in select(poll, "a.poll-choice")] == [
        "Vote for “Check-in calls that clients welcome”", "Vote for “Reading silence in the support queue”", "Vote for “Win-back letters that work”", "Suggest your own topic",
    ]
    assert [text(question) for question in select(lesson, "p.question")] == [
        "Q: What was the last thing a quiet client asked you for?", "Q: Who on your team would notice the silence first?",
    ]
    assert "We never complained. We just stopped expecting anything." in text(only(lesson, "blockquote.pull-quote"))
    assert text(only(lesson, "aside.teaser")) == "Next time: discover the three warning signs that arrive before a client goes quiet."
    assert text(only(lesson, "aside.reply-prompt")).startswith("P.S. Which client went quiet on you last year? Reply by email")
    assert text(only(lesson, "p.signature")) == "Until next time, Clara Whitfield"  # the theme's, once: the issue's own sign-off was dropped
    body = text(only(lesson, "article"))
    for boilerplate in ("Sponsored by Ledgerly", "Forward this lesson", "Just reply to this email", "All rights reserved"):
        assert boilerplate not in body
    assert "sponsor line" in said and "forward blurb" in said  # reported, not silently lost


@pytest.mark.parametrize("kind", KINDS)
def test_guest_issue_keeps_its_author_bio_and_copyright(imported: dict[str, tuple[Path, str]], kind: str) -> None:
    root, _ = imported[kind]
    lesson = page(root, "three-warning-signs")
    assert text(only(lesson, "p.byline")).startswith("By Maria Lopez ·")
    assert text(only(lesson, "aside.recap")) == "Last time, in lesson 1, Why Quiet Clients Leave: you learned why quiet clients leave without a word. Did you call one of them?"
    assert text(only(lesson, "section.author-bio")) == "Maria Lopez runs the account team at a design studio in Lyon and writes about client work."
    assert text(only(lesson, "p.copyright")) == "© 2009 Maria Lopez"
    assert text(only(lesson, "blockquote.pull-quote")) == "The invoice is paid, the emails are polite, and the client is already gone."
    assert "P.P.S. Thank you for every reply to lesson one." in text(only(lesson, "div.lesson-body"))
    assert "Subscribe" not in text(only(lesson, "article"))
    # The site author's own lessons keep the site's bio and copyright.
    first = page(root, "why-quiet-clients-leave")
    assert text(only(first, "section.author-bio")).startswith("Clara Whitfield advises agencies")
    assert text(only(first, "p.copyright")) == "© 2009 Clara Whitfield"


PAGE = "/quiet/a-win-back-letter/"  # where the lesson below is served


@pytest.mark.parametrize("kind", KINDS)
def test_links_and_images_stay_inside_the_site(imported: dict[str, tuple[Path, str]], kind: str) -> None:
    root, said = imported[kind]
    lesson = page(root, "a-win-back-letter")
    assert text(only(lesson, "aside.recap")).endswith("Three Warning Signs: Maria showed us the three warning signs.")
    link = next(anchor for anchor in select(lesson, "div.lesson-body a") if text(anchor) == "the first lesson")
    if kind in LINKED:
        assert urljoin(PAGE, link.get("href")) == "/quiet/why-quiet-clients-leave/"  # pages link relatively
    image = select(lesson, "div.lesson-body img")
    if kind in IMAGES_INSIDE:
        assert urljoin(PAGE, image[0].get("src")) == "/quiet/files/letter.png"
        assert (root / "lessons" / "quiet" / "files" / "letter.png").read_bytes() == (SAMPLES / "folder" / "images" / "letter.png").read_bytes()
        assert (root / "output" / "quiet" / "files" / "letter.png").is_file()
    elif image:
        assert image[0].get("src").startswith("https://")  # never fetched: left on the web, and said so
        assert "image left on the web" in said
    if kind in ("mbox", "maildir"):  # an attachment the text does not show is copied and listed under the lesson
        attached = next(anchor for anchor in select(lesson, "div.lesson-body a") if text(anchor) == "Win-back template.pdf")
        assert urljoin(PAGE, attached.get("href")) == "/quiet/files/win-back-template.pdf"
        assert (root / "output" / "quiet" / "files" / "win-back-template.pdf").read_bytes().startswith(b"%PDF-1.4")


@pytest.mark.parametrize("kind", ["substack zip", "wordpress", "mbox", "folder"])
def test_parts_reach_feeds_and_both_emails(imported: dict[str, tuple[Path, str]], kind: str) -> None:
    root, _ = imported[kind]
    atom = feedparser.parse((root / "output" / "quiet" / "atom.xml").read_bytes())
    entries = {entry.title: entry for entry in atom.entries}
    guest = entries["Three Warning Signs"]
    assert guest.author == "Maria Lopez"
    assert guest.rights == "© 2009 Maria Lopez"
    first = entries["Why Quiet Clients Leave"]
    content = first.content[0].value
    for part in ("Which of these should a future lesson cover?", "Win-back letters that work", "three warning signs that arrive", "Which client went quiet on you last year?", "We never complained"):
        assert part in content
    rss = feedparser.parse((root / "output" / "quiet" / "feed.xml").read_bytes())
    assert {entry.title for entry in rss.entries} == {"Why Quiet Clients Leave", "Three Warning Signs", "A Win-Back Letter"}
    email_html = lxml.html.fromstring((root / "output" / "email" / "quiet" / "three-warning-signs.html").read_bytes())
    assert text(only(email_html, "p.byline")).startswith("By Maria Lopez")
    assert text(only(email_html, "p.bio")) == "Maria Lopez runs the account team at a design studio in Lyon and writes about client work."
    assert "© 2009 Maria Lopez" in text(email_html)
    plain = (root / "output" / "email" / "quiet" / "three-warning-signs.txt").read_text(encoding="utf-8")
    unwrapped = " ".join(plain.split())
    for part in ("By Maria Lopez", "Maria Lopez runs the account team at a design studio in Lyon", "© 2009 Maria Lopez", "Q: Which of the three signs",
                 "Last time: Why Quiet Clients Leave — you learned why quiet clients leave", "Next time: a win-back letter you can send this week.", "P.S. Which warning sign surprised you most?"):
        assert part in unwrapped
    first_text = " ".join((root / "output" / "email" / "quiet" / "why-quiet-clients-leave.txt").read_text(encoding="utf-8").split())
    assert "Which of these should a future lesson cover?" in first_text and "Win-back letters that work" in first_text


def test_skipped_items_are_reported_with_their_reason(imported: dict[str, tuple[Path, str]]) -> None:
    assert "skipped: a podcast episode, not a newsletter post" in imported["substack zip"][1]
    assert "skipped: a discussion thread" in imported["substack zip"][1]
    said = imported["wordpress"][1]
    for reason in ("(About this letter): skipped: a page", "(letter): skipped: an attachment", "(Home): skipped: a menu entry", "skipped: its status is 'trash'"):
        assert reason in said
    said = imported["mbox"][1]
    for reason in ("(Re: Why Quiet Clients Leave): skipped: a reply or a forward", "(Lunch on Friday?): skipped: personal mail", "(Out of office: back on Monday): skipped: sent automatically"):
        assert reason in said
    assert "Imported 3 issues from the mailbox into lessons/quiet/ (3 skipped, 2 files copied)" in said


def test_hard_wrapped_and_one_paragraph_per_line_text_become_paragraphs_and_lists(imported: dict[str, tuple[Path, str]]) -> None:
    root, _ = imported["folder"]
    wrapped = page(root, "why-quiet-clients-leave")
    assert "Most clients who leave an agency never complain. They simply go quiet: fewer questions, shorter replies, a meeting moved twice and then forgotten." in [text(p) for p in select(wrapped, "div.lesson-body p")]
    assert [text(item) for item in select(wrapped, "div.lesson-body > ul > li")] == ["Fewer requests in the support queue", "Invoices paid late, without comment", "A new name copied on every email"]
    assert text(only(wrapped, "div.lesson-body > h2")) == "Silence is a signal"
    per_line = page(root, "three-warning-signs")
    assert [text(item) for item in select(per_line, "div.lesson-body ol li")] == [
        "The main contact changes and nobody introduces the new one.", "Reports are downloaded but never discussed.", "The client asks for a copy of the contract.",
    ]
    assert text(select(per_line, "div.lesson-body p")[0]).startswith("Clara asked me to write this lesson")


def test_a_new_series_gets_an_index_from_the_publication(imported: dict[str, tuple[Path, str]]) -> None:
    index = (imported["rss"][0] / "lessons" / "quiet" / "_index.md").read_text(encoding="utf-8")
    assert 'title: "The Quiet Client Letter"' in index
    assert 'description: "Short lessons on keeping the clients who stop talking."' in index


def test_importing_again_skips_and_never_overwrites_an_edited_lesson(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    archive = source("substack zip", tmp_path)
    assert run_cli(root, "import", str(archive), "--series", "quiet").status == 0
    before = snapshot(root / "lessons")
    again = run_cli(root, "import", str(archive), "--series", "quiet")
    assert again.status == 0
    assert again.said.count("skipped: already imported") == 3
    assert "Imported 0 issues" in again.stderr
    assert snapshot(root / "lessons") == before
    edited = root / "lessons" / "quiet" / "02-three-warning-signs.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Each of these signs", "Each of these three signs"), encoding="utf-8")
    kept = edited.read_bytes()
    third = run_cli(root, "import", str(archive), "--series", "quiet")
    assert third.status == 0
    assert "skipped: edited since import, kept as it is" in third.said
    assert edited.read_bytes() == kept


def test_a_changed_issue_updates_its_unedited_lesson(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    feed = tmp_path / "feed.rss"
    feed.write_text((SAMPLES / "feed.rss").read_text(encoding="utf-8"), encoding="utf-8")
    assert run_cli(root, "import", str(feed), "--series", "quiet").status == 0
    feed.write_text(feed.read_text(encoding="utf-8").replace("cheap to notice and expensive to ignore", "cheap to notice and costly to ignore"), encoding="utf-8")
    again = run_cli(root, "import", str(feed), "--series", "quiet")
    assert again.status == 0
    assert "Imported 1 issue from the RSS feed into lessons/quiet/ (1 updated, 2 skipped)" in again.stderr
    assert "costly to ignore" in (root / "lessons" / "quiet" / "02-three-warning-signs.md").read_text(encoding="utf-8")


def test_a_lessons_author_mapping_is_checked(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    (root / "lessons" / "quiet").mkdir()
    (root / "lessons" / "quiet" / "01-guest.md").write_text('---\ntitle: "Guest"\ndate: 2009-02-04\nauthor: {bio: "Writes.", copyright: ["x"], role: "editor"}\n---\nText.\n', encoding="utf-8")
    done = run_cli(root, "build")
    assert done.status == 1
    assert "lessons/quiet/01-guest.md:4: unknown author field 'role': use name, bio or copyright" in done.stderr
    assert "lessons/quiet/01-guest.md:4: author 'copyright' must be text, not a list: put it in quotes" in done.stderr


def test_dry_run_shows_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    done = run_cli(root, "import", str(SAMPLES / "feed.rss"), "--series", "quiet", "--dry-run")
    assert done.status == 0
    assert "would write lessons/quiet/01-why-quiet-clients-leave.md" in done.stdout
    assert "Dry run: would import 3 issues from the RSS feed into lessons/quiet/; nothing written" in done.stderr
    assert snapshot(root / "lessons") == {}


def test_undated_issues_are_warned_about_then_dated_with_date_from(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "renewals.txt").write_text("Renewals Without Fear\n\nA renewal is a conversation, not an invoice.\n", encoding="utf-8")
    done = run_cli(root, "import", str(folder), "--series", "quiet")
    assert "renewals.txt: warning: no date in the archive or in the text: skipped; pass --date-from YYYY-MM-DD" in done.said
    assert not (root / "lessons" / "quiet").exists()
    dated = run_cli(root, "import", str(folder), "--series", "quiet", "--date-from", "2010-03-01")
    assert dated.status == 0
    assert "date: 2010-03-01\n" in (root / "lessons" / "quiet" / "01-renewals-without-fear.md").read_text(encoding="utf-8")


def test_the_example_sites_own_feed_imports_into_a_new_site(tmp_path: Path) -> None:
    """The README's walk-through: build the example site, start a new one, import the first's feed into it."""
    example = tmp_path / "example"
    example.mkdir()
    shutil.copy(SAMPLES.parents[2] / "lessonpress.toml", example / "lessonpress.toml")
    shutil.copytree(SAMPLES.parents[2] / "lessons", example / "lessons")
    shutil.copytree(SAMPLES.parents[2] / "data", example / "data")
    assert run_cli(example, "build").status == 0
    new = tmp_path / "new-letter"
    assert run_cli(tmp_path, "init", str(new)).status == 0
    done = run_cli(new, "import", str(example / "output" / "feed.xml"), "--series", "past-letters")
    assert done.status == 0, done.said
    assert "Imported 9 issues from the RSS feed into lessons/past-letters/" in done.stderr
    assert run_cli(new, "build").status == 0
    assert run_cli(new, "check").status == 0
    lesson = lxml.html.fromstring((new / "output" / "past-letters" / "the-first-ninety-days" / "index.html").read_bytes())
    assert text(only(lesson, "p.byline")).startswith("By Clara Whitfield")
    assert len(select(lesson, "p.question")) == 3
    assert select(lesson, "section.poll a.poll-write-in")


def test_a_second_archive_never_replaces_an_earlier_ones_image(tmp_path: Path) -> None:
    root = make_site(tmp_path)
    assert run_cli(root, "import", str(SAMPLES / "folder"), "--series", "quiet").status == 0
    first_image = (root / "lessons" / "quiet" / "files" / "letter.png").read_bytes()
    other = tmp_path / "more"
    (other / "images").mkdir(parents=True)
    (other / "images" / "letter.png").write_bytes(b"\x89PNG\r\n\x1a\n another picture")
    (other / "2009-03-04-renewals.html").write_text('<title>Renewals</title><p>See <img src="images/letter.png" alt="A renewal letter"></p>', encoding="utf-8")
    done = run_cli(root, "import", str(other), "--series", "quiet")
    assert done.status == 0, done.said
    assert (root / "lessons" / "quiet" / "files" / "letter.png").read_bytes() == first_image
    lesson = (root / "lessons" / "quiet" / "04-renewals.md").read_text(encoding="utf-8")
    copied = lesson.split("](", 1)[1].split(")", 1)[0]
    assert copied.startswith("files/letter-") and copied.endswith(".png")
    assert (root / "lessons" / "quiet" / copied).read_bytes().endswith(b"another picture")
    build_into(root)
    assert run_cli(root, "check").status == 0
