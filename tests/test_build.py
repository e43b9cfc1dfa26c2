"""Real builds of tests/projects/basic: the pages a reader sees, and what is left out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import lxml.html
import pytest

from conftest import build_into, only, read_page, select, text

Page = Callable[[str], lxml.html.HtmlElement]
BASE = "https://example.org/letters/"
# The title as written is "Small steps & <script>alert('x')</script>"; readers see its quotes typeset.
SCRIPT_TITLE = "Small steps & <script>alert(‘x’)</script>"


def html_files(output: Path) -> list[str]:
    """Return the web pages of a build (emails are another output)."""
    return sorted(name for path in output.rglob("*.html") if not (name := path.relative_to(output).as_posix()).startswith("email/"))


def test_every_page_has_a_clean_url(basic_output: Path) -> None:
    assert html_files(basic_output) == [
        "404.html",
        "archive/index.html",
        "good-habits/index.html",
        "good-habits/small-steps/index.html",
        "good-habits/the-last-habit/index.html",
        "index.html",
        "retention/first-days/index.html",
        "retention/index.html",
        "retention/why-they-leave/index.html",
        "search/index.html",
        "tags/churn/index.html",
        "tags/customer-success/index.html",
        "tags/habits/index.html",
        "tags/index.html",
        "tags/onboarding/index.html",
    ]


def test_every_page_links_its_feeds_for_autodiscovery(basic_output: Path) -> None:
    for name in html_files(basic_output):
        root = read_page(basic_output, name)
        alternates = {(link.get("type"), link.get("href")) for link in select(root, 'head link[rel="alternate"]')}
        assert ("application/rss+xml", "/letters/feed.xml") in alternates, name
        assert ("application/atom+xml", "/letters/atom.xml") in alternates, name


def test_lesson_page_shows_series_number_byline_and_date_in_site_timezone(page: Page) -> None:
    lesson = page("retention/why-they-leave/")
    assert text(only(lesson, ".kicker")) == "Keeping Customers · Lesson 1 of 3"
    assert text(only(lesson, "h1")) == "Why They Leave"
    assert text(only(lesson, ".byline")) == "By Ada Example, Retention coach · Wednesday, 7 January 2026"
    # A bare date means midnight in the site's zone (America/New_York).
    assert only(lesson, ".byline time").get("datetime") == "2026-01-07T00:00:00-05:00"
    assert only(lesson, ".byline a").get("href") == "https://example.org/ada"
    assert only(lesson, "link[rel=canonical]").get("href") == BASE + "retention/why-they-leave/"


def test_naive_datetime_is_in_site_timezone_and_offset_is_kept(page: Page) -> None:
    assert only(page("retention/first-days/"), ".byline time").get("datetime") == "2026-01-14T07:30:00-05:00"
    assert only(page("good-habits/the-last-habit/"), ".byline time").get("datetime") == "2026-02-20T08:00:00+00:00"


def test_signature_copyright_and_tag_trail(page: Page) -> None:
    lesson = page("retention/why-they-leave/")
    assert text(only(lesson, ".signature")) == "Until next time, Ada Example Retention coach"
    assert text(only(lesson, ".copyright")) == "© 2026 Ada Example"
    trail = [(a.text, a.get("href")) for a in select(only(lesson, ".tag-trail"), "a")]
    assert trail == [("churn", "/letters/tags/churn/"), ("Customer Success", "/letters/tags/customer-success/")]


def test_guest_author_does_not_borrow_the_site_authors_link_or_role(page: Page) -> None:
    lesson = page("retention/first-days/")
    assert text(only(lesson, ".byline")) == "By Guest Writer · Wednesday, 14 January 2026"
    assert not select(lesson, ".byline a")
    assert text(only(lesson, ".signature")) == "Until next time, Guest Writer"


def test_copyright_names_the_site_author_even_for_a_guest_lesson(page: Page) -> None:
    assert text(only(page("retention/first-days/"), ".copyright")) == "© 2026 Ada Example"


def test_recap_links_previous_lesson_with_its_summary(page: Page) -> None:
    recap = only(page("retention/first-days/"), ".recap")
    assert text(recap) == "Last time, in lesson 1, Why They Leave: customers leave when they feel unnoticed"
    assert only(recap, "a").get("href") == "/letters/retention/why-they-leave/"


def test_recap_without_summary_is_the_linked_title(page: Page) -> None:
    recap = only(page("good-habits/the-last-habit/"), ".recap")
    assert text(recap) == f"Last time, in lesson 1, {SCRIPT_TITLE}"
    assert only(recap, "a").get("href") == "/letters/good-habits/small-steps/"


def test_teaser_of_a_published_next_lesson_is_a_link(page: Page) -> None:
    teaser = only(page("retention/why-they-leave/"), ".teaser")
    assert text(teaser) == "Next time: the first days decide everything"
    assert only(teaser, "a").get("href") == "/letters/retention/first-days/"


def test_teaser_of_a_scheduled_lesson_is_text_without_a_link(page: Page) -> None:
    lesson = page("retention/first-days/")
    teaser = only(lesson, ".teaser")
    assert text(teaser) == "Next time: the renewal talk, step by step"
    assert not select(teaser, "a")
    assert not select(lesson, ".pager-next")


@pytest.mark.parametrize(
    ("path", "absent"),
    [
        ("retention/why-they-leave/", [".recap", ".pager-prev", ".poll"]),
        ("good-habits/small-steps/", [".recap", ".pager-prev", ".poll", ".reply-prompt"]),
        ("good-habits/the-last-habit/", [".teaser", ".pager-next", ".poll", ".reply-prompt"]),
    ],
)
def test_no_box_where_there_is_no_data(page: Page, path: str, absent: list[str]) -> None:
    lesson = page(path)
    for selector in absent:
        assert not select(lesson, selector), f"{path} has an empty {selector}"
    assert "None" not in text(lesson)


def test_prev_next_navigation(page: Page) -> None:
    pager = only(page("good-habits/the-last-habit/"), ".pager")
    assert [(a.get("rel"), a.get("href")) for a in select(pager, "a")] == [("prev", "/letters/good-habits/small-steps/")]
    pager = only(page("retention/why-they-leave/"), ".pager")
    assert [(a.get("rel"), a.get("href")) for a in select(pager, "a")] == [("next", "/letters/retention/first-days/")]


def test_series_reply_prompt_is_the_default_and_a_lesson_may_override_it(page: Page) -> None:
    assert text(only(page("retention/first-days/"), ".reply-prompt")).startswith("P.S. Which customer are you most worried about?")
    own = only(page("retention/why-they-leave/"), ".reply-prompt")
    assert text(own).startswith("P.S. What reason did your last lost customer give?")
    assert only(own, "a").get("href") == "mailto:replies+why-they-leave@example.org?subject=Re%3A%20Why%20They%20Leave"


def test_poll_offers_one_click_per_option_and_no_write_in_when_disabled(page: Page) -> None:
    poll = only(page("retention/first-days/"), ".poll")
    assert text(only(poll, "h2")) == "Which topic next?"
    links = [(text(a), a.get("href")) for a in select(poll, "a")]
    assert [label for label, _ in links] == ["Vote for “Welcome calls”", "Vote for “Kickoff agendas”", "Vote for “Time to value”"]
    assert all(href.startswith("mailto:replies+first-days@example.org?subject=Vote%3A%20retention-first-days%20%23") for _, href in links)


def test_reflection_questions_and_pull_quotes_are_marked(page: Page) -> None:
    body = only(page("retention/why-they-leave/"), ".lesson-body")
    questions = select(body, "p.question")
    assert [text(q) for q in questions] == [
        "Q: When did you last call a customer who was not complaining?",
        "Q: What would they say?",
    ]
    assert all(only(q, "strong.question-label").text == "Q:" for q in questions)
    assert text(only(body, "blockquote.pull-quote")) == "“We didn’t leave because you got worse.”"


def test_typography_is_preserved_and_straight_quotes_become_curly(page: Page) -> None:
    paragraphs = [text(p) for p in select(only(page("retention/why-they-leave/"), ".lesson-body"), "p")]
    assert paragraphs[0] == "Curly “quotes” and ‘single’ ones — an em dash, OnboardPath™, © 2026, an ellipsis… and «guillemets», spaced . . . dots."
    assert paragraphs[1] == "Straight “quotes” and it’s typed plainly – with a double hyphen."


def test_relative_lesson_link_points_at_the_lesson_page(page: Page) -> None:
    links = {a.text: a.get("href") for a in select(only(page("retention/why-they-leave/"), ".lesson-body"), "a")}
    assert links == {"the next lesson": "/letters/retention/first-days/", "the guide": "/guide/"}


def test_title_with_markup_is_escaped_everywhere(basic_output: Path, page: Page) -> None:
    for name in html_files(basic_output):
        assert b"<script>" not in (basic_output / name).read_bytes(), name
    lesson = page("good-habits/small-steps/")
    assert text(only(lesson, "h1")) == SCRIPT_TITLE
    assert only(lesson, "title").text == f"{SCRIPT_TITLE} — Good Habits — Test Letters"


def test_series_page_has_intro_and_lessons_in_course_order_with_the_scheduled_one_unlinked(page: Page) -> None:
    series = page("retention/")
    assert text(only(series, "h1")) == "Keeping Customers"
    assert text(only(series, ".lede")) == "Three lessons on keeping the customers you have."
    assert text(only(series, ".series-intro")) == "This course follows a customer from signing to renewal."
    items = select(series, "ol.course > li")
    assert [text(item).split(" · ")[0] for item in items] == ["Why They Leave", "The First Days", "The Renewal Talk"]
    assert [bool(select(item, "a")) for item in items] == [True, True, False]
    feeds = {a.get("href") for a in select(only(series, ".feeds"), "a")}
    assert feeds == {"/letters/retention/feed.xml", "/letters/retention/atom.xml", "/letters/retention/feed.json"}


def test_series_without_index_takes_its_title_from_the_folder(page: Page) -> None:
    assert text(only(page("good-habits/"), "h1")) == "Good Habits"


def test_tag_page_lists_its_lessons_newest_first(page: Page) -> None:
    titles = [text(h3) for h3 in select(page("tags/churn/"), ".lesson-card h3")]
    assert titles == ["Why They Leave", SCRIPT_TITLE]


def test_archive_groups_by_year_newest_first(page: Page) -> None:
    archive = page("archive/")
    years = [(text(only(section, "h2")), [text(a) for a in select(section, "li a")]) for section in select(archive, "main section")]
    assert years == [
        ("2026", ["The Last Habit", "The First Days", "Why They Leave"]),
        ("2025", [SCRIPT_TITLE]),
    ]


def test_home_page_has_latest_lessons_series_and_subscribe_box(page: Page) -> None:
    home = page("")
    latest = [text(h3) for h3 in select(home, ".lesson-card h3")]
    assert latest == ["The Last Habit", "The First Days", "Why They Leave", SCRIPT_TITLE]
    series = [(text(h3), select(h3, "a")[0].get("href")) for h3 in select(home, ".series-list h3")]
    assert series == [("Good Habits", "/letters/good-habits/"), ("Keeping Customers", "/letters/retention/")]
    subscribe = only(home, "#subscribe")
    assert {a.get("href") for a in select(subscribe, "a")} >= {"/letters/feed.xml", "/letters/atom.xml"}


def test_sitemap_lists_every_published_page_absolutely(basic_output: Path) -> None:
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locations = [loc.text for loc in ET.parse(basic_output / "sitemap.xml").getroot().iter(f"{namespace}loc")]
    pages = [name.removesuffix("index.html") for name in html_files(basic_output) if name not in ("404.html", "search/index.html")]
    assert sorted(locations) == sorted(BASE + name for name in pages)


def test_robots_txt_points_at_the_sitemap(basic_output: Path) -> None:
    assert (basic_output / "robots.txt").read_text() == f"User-agent: *\nAllow: /\nSitemap: {BASE}sitemap.xml\n"


def test_not_found_page_and_theme_static_files(basic_output: Path) -> None:
    assert text(only(read_page(basic_output, "404.html"), "h1")) == "Page not found"
    builtin = files("lessonpress") / "themes" / "default" / "static" / "style.css"
    assert (basic_output / "static" / "style.css").read_bytes() == builtin.read_bytes()


def test_drafts_and_future_lessons_are_included_on_request(basic: Path) -> None:
    result = build_into(basic, include_drafts=True, include_future=True)
    output = basic / "output"
    assert sorted(issue.lesson.slug for issue in result.site.issues) == [
        "first-days", "renewals", "small-steps", "the-last-habit", "unfinished", "why-they-leave",
    ]
    draft = read_page(output, "good-habits/unfinished/index.html")
    assert text(only(draft, ".kicker")) == "Good Habits · Lesson 2 of 3 · Draft"
    scheduled = read_page(output, "retention/renewals/index.html")
    assert text(only(scheduled, ".kicker")) == "Keeping Customers · Lesson 3 of 3 · Scheduled"
    teaser = select(read_page(output, "retention/first-days/index.html"), ".teaser a")
    assert [a.get("href") for a in teaser] == ["/letters/retention/renewals/"]


def test_draft_is_left_out_and_does_not_count(page: Page) -> None:
    assert text(only(page("good-habits/the-last-habit/"), ".kicker")) == "Good Habits · Lesson 2 of 2"


def test_course_order_is_number_prefix_then_date(basic: Path) -> None:
    folder = basic / "lessons" / "order"
    folder.mkdir()
    for name, date in [("10-ten.md", "2026-01-01"), ("2-two-late.md", "2026-01-09"), ("2-two-early.md", "2026-01-08")]:
        (folder / name).write_text(f"---\ntitle: {name}\ndate: {date}\n---\nBody.\n", encoding="utf-8")
    result = build_into(basic)
    (series,) = [series for series in result.site.series if series.info.slug == "order"]
    assert [(issue.number, issue.lesson.slug) for issue in series.issues] == [(1, "two-early"), (2, "two-late"), (3, "ten")]


def test_bom_and_crlf_sources_just_work(basic: Path) -> None:
    source = "---\r\ntitle: “Windows” lesson\r\ndate: 2026-02-25\r\n---\r\nQ: Does CRLF work?\r\n\r\n> quoted\r\n"
    (basic / "lessons" / "retention" / "04-windows.md").write_bytes(b"\xef\xbb\xbf" + source.encode("utf-8"))
    build_into(basic)
    lesson = read_page(basic, "output/retention/windows/index.html")
    assert text(only(lesson, "h1")) == "“Windows” lesson"
    assert text(only(lesson, "p.question")) == "Q: Does CRLF work?"
    assert text(only(lesson, "blockquote.pull-quote")) == "quoted"


def test_the_subscribe_box_mails_the_list_address_when_there_is_one(basic: Path) -> None:
    """With [list] address the box asks for a "Subscribe" mail there (the inbox pass answers it); without, the author's."""
    def join_link() -> str:
        build_into(basic)
        box = only(lxml.html.fromstring((basic / "output" / "index.html").read_bytes()), "#subscribe")
        return next(str(link.get("href")) for link in box.iter("a") if str(link.get("href")).startswith("mailto:"))

    settings = basic / "lessonpress.toml"
    author = join_link()
    settings.write_text(settings.read_text(encoding="utf-8") + '\n[list]\naddress = "join@example.org"\n', encoding="utf-8")
    assert author == "mailto:ada@example.org?subject=Subscribe"
    assert join_link() == "mailto:join@example.org?subject=Subscribe"
