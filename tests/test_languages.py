"""The reader's language: the example site built in every shipped language speaks it everywhere the theme writes."""

from __future__ import annotations

import email
import json
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import feedparser
import lxml.html
import pytest
from babel import Locale
from babel.messages.pofile import read_po

from conftest import copy_example_lessons
from lessonpress.build import BuildResult, build
from lessonpress.endpoint.forms import RequestProblem
from lessonpress.endpoint.pages import Pages
from lessonpress.errors import BuildFailed
from lessonpress.incremental.digest import render_fingerprint
from lessonpress.render.absolute import absolutize_html
from lessonpress.render.confirmation import CONFIRM_DAYS, ConfirmationMail
from lessonpress.render.plaintext import html_to_text
from lessonpress.site.model import BuildOptions, Site
from lessonpress.site.polls import results_json
from lessonpress.translations import N_, language_tags, load_translations, shipped_languages, site_catalog
from test_tally import NOW, at, message_from_link, run, write_mbox

SHIPPED = ("de", "es", "fr")
# The theme's English words and phrases; none may be left in a page, feed or email of a site in another language.
ENGLISH = (
    "Lesson", "Lessons", " of ", "Next time", "Last time", "Previous", "Next:", "Vote", "Suggest", "Unsubscribe", "Read ",
    "browser", "Subscribe", "Archive", "Topics", "Search", "You voted", "You asked", "Until next time", "Filed under",
    "feed reader", "feed for", "Reply", "reply", "readers", "votes", "in your", "Skip to", "Latest", "coming", "Draft",
    "By ", "I asked", "answered", "published", "Confirm", "email", "January", "February", "March", "April", "June",
    "July", "August", "September", "October", "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday",
    "Friday", "Saturday", "Sunday",
)
# One lesson's date (customer-advisory-boards) as the locale writes it.
DATES = {
    "en": "Wednesday, 16 September 2026",
    "de": "Mittwoch, 16. September 2026",
    "fr": "mercredi 16 septembre 2026",
    "es": "miércoles, 16 de septiembre de 2026",
}
POLL_LESSON = "email/retention/the-first-ninety-days"
CONTENT_CLASSES = ("lesson-body", "series-intro")


def example_in(root: Path, language: str) -> Path:
    root.mkdir(parents=True)
    copy_example_lessons(root)
    config = root / "lessonpress.toml"
    text = config.read_text(encoding="utf-8")
    changed, found = re.subn(r'(?m)^language = "[^"]*"', f'language = "{language}"', text)
    if not found:
        changed = text.replace("[site]\n", f'[site]\nlanguage = "{language}"\n', 1)
    config.write_text(changed, encoding="utf-8")
    return root


def built(root: Path) -> BuildResult:
    return build(root, BuildOptions(now=NOW), output=root / "output")


@pytest.fixture(scope="module", params=SHIPPED)
def site_in(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, BuildResult]:
    language = str(request.param)
    return language, built(example_in(tmp_path_factory.mktemp(language) / "site", language))


def _spaces(text: str) -> str:
    """Whitespace collapsed and links left out, alike in outputs and in what the author wrote."""
    text = re.sub(r"\([^()\s]*/[^()\s]*\)", " ", text)  # a link's target in plain text, relative or absolute
    text = re.sub(r"(?m)^(?:> ?)+", "", text)  # plain text's quote marks, which wrapping repeats on each line
    return " ".join(re.sub(r"(?:https?|mailto):[^\s)]+", " ", text).split())


def content_strings(site: Site) -> list[str]:
    """Every text the author wrote (config, series, lessons, polls), longest first: what the theme did not write."""
    config = site.config
    found = [config.title, config.description, config.copyright, config.postal_address, config.author.name, config.author.role, config.author.bio]
    for series in site.series:
        found += [series.info.title, series.info.description]
        found += [text for lesson in series.upcoming for text in (lesson.title, lesson.summary, lesson.teaser)]
    for issue in site.issues:
        lesson = issue.lesson
        found += [lesson.title, lesson.summary, lesson.teaser, lesson.preheader, issue.greeting, issue.reply_prompt, issue.author.name, issue.author.role, issue.author.bio, *lesson.tags]
        for part in issue.body_parts:
            # The body as the text part writes it (links made absolute, as emails.py does) and as a page shows it.
            email_part = absolutize_html(part, site.config.absolute(issue.path))
            found += [html_to_text(email_part), lxml.html.fromstring(f"<div>{part}</div>").text_content()] if part.strip() else []
        if lesson.poll is not None:
            found += [lesson.poll.question, *lesson.poll.options]
    for status in (*site.topics.open, *(status for status, _ in site.topics.covered)):
        found += [status.title, status.topic.description]
    return sorted({_spaces(text) for text in found if text and text.strip()}, key=len, reverse=True)


def theme_text(path: str, data: bytes) -> str:
    """What the theme wrote in one output: its text without the lessons' bodies (HTML, feed entries) and URLs."""
    if path.endswith(".eml"):
        message = email.message_from_bytes(data, policy=default)
        return " ".join(theme_text(f"part.{part.get_content_subtype()}", part.get_content().encode()) for part in message.walk() if not part.is_multipart())
    if (path.endswith((".xml",)) and b"<rss" in data[:400]) or b"<feed" in data[:400]:
        feed = feedparser.parse(data)
        parts = [feed.feed.get("title", ""), feed.feed.get("subtitle", "")]
        for entry in feed.entries:
            parts += [entry.get("title", ""), entry.get("summary", "")] + [theme_text("entry.html", content.value.encode()) for content in entry.get("content", [])]
        return " ".join(parts)
    if path.endswith("feed.json"):
        feed = json.loads(data)
        items = feed.get("items", [])
        return " ".join([feed.get("title", ""), feed.get("description", "")] + [item.get("title", "") + " " + item.get("summary", "") + " " + theme_text("item.html", item.get("content_html", "").encode()) for item in items])
    if path.endswith((".html", ".htm")):
        root = lxml.html.fromstring(data.decode("utf-8"))
        for element in root.xpath("//script | //style | //code"):
            element.drop_tree()
        for name in CONTENT_CLASSES:
            for element in root.find_class(name):
                element.drop_tree()
        return root.text_content() + " " + " ".join(root.xpath("//@aria-label | //@placeholder | //@title | //@alt | //@data-searching | //@data-none | //@data-found-one | //@data-found-other | //@data-found-more | //@data-unavailable"))
    return data.decode("utf-8")


def same_in(language: str) -> set[str]:
    """English words the language writes the same way: German's September, French's Mars is not."""
    locale = Locale.parse(language)
    return {*locale.months["format"]["wide"].values(), *locale.days["format"]["wide"].values()}


def english_left(site: Site, path: str, data: bytes) -> list[str]:
    text = _spaces(theme_text(path, data))
    # The subject a reader writes to subscribe by mail is a command the list address reads, the same in every language.
    text = re.sub(r"[„“«]\W?Subscribe\W?[“”»]", " ", text)
    for content in content_strings(site):
        text = text.replace(content, " ")
    shared = same_in(site.config.language)
    return [phrase for phrase in ENGLISH if phrase not in shared and re.search(rf"(?<![\w-]){re.escape(phrase.strip())}(?![\w-])" if phrase.strip() == phrase else re.escape(phrase), text)]


def test_shipped_languages_are_the_catalogs() -> None:
    assert set(SHIPPED) <= set(shipped_languages())


def test_no_english_theme_string_in_any_output(site_in: tuple[str, BuildResult]) -> None:
    language, result = site_in
    checked = 0
    for path, data in sorted(result.files.items()):
        if not path.endswith((".html", ".xml", ".txt", ".eml", "feed.json")) or path == "sitemap.xml" or path.startswith("static/"):
            continue
        left = english_left(result.site, path, data)
        assert not left, f"{language}: {path} keeps English {left}"
        checked += 1
    assert checked > 40  # every page, feed and email part


def test_the_english_build_is_caught_by_the_same_check(tmp_path: Path) -> None:
    """The word list finds the theme's English, so its silence above means something."""
    result = built(example_in(tmp_path / "site", "en"))
    page = result.files["retention/the-first-ninety-days/index.html"]
    assert {"Lesson", " of ", "Archive", "Topics", "Subscribe"} <= set(english_left(result.site, "page.html", page))
    assert {"Vote", "Unsubscribe", "browser"} <= set(english_left(result.site, "x.eml", result.files[POLL_LESSON + ".eml"]))


def test_dates_lesson_numbers_and_direction_follow_the_locale(site_in: tuple[str, BuildResult]) -> None:
    language, result = site_in
    page = result.files["relationships/customer-advisory-boards/index.html"].decode()
    text = result.files["email/relationships/customer-advisory-boards.txt"].decode()
    assert DATES[language] in page and DATES[language] in text
    numbered = {"de": "Lektion 3 von 4", "fr": "Leçon 3 sur 4", "es": "Lección 3 de 4"}[language]
    assert numbered in page and numbered in text
    assert f'<html lang="{language}" dir="ltr">' in page
    assert f'<meta property="og:locale" content="{language}_{language.upper()}">' in page


def test_english_stays_the_house_style(tmp_path: Path) -> None:
    result = built(example_in(tmp_path / "site", "en"))
    page = result.files["relationships/customer-advisory-boards/index.html"].decode()
    assert DATES["en"] in page and "Lesson 3 of 4" in page


@pytest.mark.parametrize("language", ("en", *SHIPPED))
def test_tally_counts_each_languages_mailto_links(tmp_path: Path, language: str) -> None:
    root = example_in(tmp_path / "site", language)
    files = built(root).files
    html, text = files[POLL_LESSON + ".html"].decode(), files[POLL_LESSON + ".txt"].decode()
    links = [link.replace("&amp;", "&") for link in re.findall(r"mailto:polls@[^\s\"<>]+", html)]
    assert links == re.findall(r"mailto:polls@[^\s\"<>]+", text) and len(links) == 5
    label = {"en": "Vote", "de": "Abstimmung", "fr": "Vote", "es": "Voto"}[language]
    assert all(f"subject={label}%3A%20retention-the-first-ninety-days%20" in link for link in links)
    mails: list[EmailMessage | bytes] = [
        message_from_link(links[0], "ann@example.com", at(1)),
        message_from_link(links[1], "bob@example.com", at(2), prefix="AW: "),
        message_from_link(links[1], "cat@example.com", at(3), prefix="Re: "),
        # A reader of the site before it changed language: the English label counts the same.
        message_from_link(links[2].replace(f"subject={label}%3A", "subject=Vote%3A"), "dan@example.com", at(4)),
        message_from_link(links[4], "eve@example.com", at(5), body="Onboarding for two buyers"),
    ]
    code, output = run(root, "polls", "tally", str(write_mbox(tmp_path / "votes.mbox", mails)))
    assert code == 0, output
    data = json.loads((root / "data" / "polls" / "retention-the-first-ninety-days.json").read_text(encoding="utf-8"))
    assert {option["choice"]: option["votes"] for option in data["options"]} == {1: 1, 2: 2, 3: 1, 4: 0}
    # The write-in prompt the link put in the body, in the site's language, is cut from the suggestion.
    assert data["write_ins"] == ["Onboarding for two buyers"]


def test_poll_results_headline_in_the_language(tmp_path: Path) -> None:
    from test_poll_results import results  # the shared fixture data of a tallied poll

    root = example_in(tmp_path / "site", "de")
    path = root / "data" / "polls" / "relationships-referral-partners.json"
    path.parent.mkdir(parents=True)
    path.write_text(results_json(results((5, 5, 0, 1))), encoding="utf-8")
    files = built(root).files
    page = files["relationships/customer-advisory-boards/index.html"].decode()
    assert "Ihre Wahl: „Written partner agreements“ und „Referral fees: pay or not?“ teilen sich den ersten Platz" in page
    assert "11 Leserinnen und Leser haben geantwortet." in page and "5 Stimmen (45%)" in page and "1 Stimme (9%)" in page


def test_a_site_overrides_one_string_and_the_fingerprint_sees_it(tmp_path: Path) -> None:
    root = example_in(tmp_path / "site", "de")
    before = render_fingerprint(built(root).site.config)
    (root / "locale").mkdir()
    catalog = root / "locale" / "de.po"
    catalog.write_text('msgid "Next time:"\nmsgstr "Demnächst:"\n\nmsgid "Lesson %(number)s of %(total)s"\nmsgstr "Folge %(number)s/%(total)s"\n', encoding="utf-8")
    result = built(root)
    page = result.files["relationships/customer-advisory-boards/index.html"].decode()
    assert "Demnächst:" in page and "Folge 3/4" in page
    assert "Letztes Mal" in page  # every other string still comes from the built-in catalog
    middle = render_fingerprint(result.site.config)
    assert middle != before
    catalog.write_text('msgid "Next time:"\nmsgstr "Beim nächsten Mal:"\n', encoding="utf-8")
    assert render_fingerprint(result.site.config) != middle
    page = built(root).files["relationships/customer-advisory-boards/index.html"].decode()
    assert "Beim nächsten Mal:" in page and "Lektion 3 von 4" in page


def test_a_broken_override_is_a_clear_error_and_keeps_the_last_site(tmp_path: Path) -> None:
    root = example_in(tmp_path / "site", "de")
    built(root)
    (root / "locale").mkdir()
    (root / "locale" / "de.po").write_text('msgid "Lesson %(number)s of %(total)s"\nmsgstr "Lektion %(nummer)s"\n\nmsgid "Vote"\nmsgstr "Stimme\n', encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        built(root)
    shown = "\n".join(str(error) for error in failed.value.errors)
    assert shown.startswith("locale/de.po:")
    assert (root / "output" / "index.html").is_file()


def test_init_language_starts_a_german_site(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lessonpress.cli import main

    result = CliRunner().invoke(main, ["init", str(tmp_path / "neu"), "--language", "de"])
    assert result.exit_code == 0, result.output
    config = (tmp_path / "neu" / "lessonpress.toml").read_text(encoding="utf-8")
    assert 'language = "de"' in config and 'greeting = "Guten Tag!"' in config
    lesson = tmp_path / "neu" / "lessons" / "first-course" / "01-willkommen.md"
    assert "Willkommen zur ersten Lektion" in lesson.read_text(encoding="utf-8")
    # The welcome lesson is dated today: build as of tomorrow.
    files = build(tmp_path / "neu", BuildOptions(now=datetime.now(UTC) + timedelta(days=1)), output=tmp_path / "neu" / "output").files
    page = files["first-course/willkommen/index.html"].decode()  # the slug comes from the German file name
    assert "Lektion 1 von 1" in page and "Archiv" in page
    refused = CliRunner().invoke(main, ["init", str(tmp_path / "typo"), "--language", "dee"])
    assert refused.exit_code == 2 and "'dee' is not a language tag" in refused.output


def test_a_right_to_left_site_says_so_in_pages_and_emails(tmp_path: Path) -> None:
    files = built(example_in(tmp_path / "site", "ar")).files
    page = files["relationships/customer-advisory-boards/index.html"].decode()
    assert '<html lang="ar" dir="rtl">' in page and "الدرس 3 من 4" in page
    html = files["email/relationships/customer-advisory-boards.html"].decode()
    assert re.search(r'<html lang="ar" dir="rtl"', html) and re.search(r'<body[^>]* dir="rtl"', html)
    assert re.search(r'class="container"[^>]*dir="rtl"|dir="rtl"[^>]*class="container"', html)
    assert 'align="right"' in html and "border-right: 4px solid" in html and "border-left" not in html


def test_every_shipped_catalog_holds_exactly_the_theme_and_program_messages() -> None:
    """scripts/catalogs.py --check: a string added to a template without a catalog entry is caught here."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import catalogs

    template = catalogs.extract()
    assert len(template) > 100
    for path in catalogs.catalog_paths():
        missing, unused = catalogs.differences(template, path)
        assert (missing, unused) == ([], []), path
    # The complete catalogs translate every message, in every plural form.
    for language in SHIPPED:
        with (catalogs.LOCALE / language / "LC_MESSAGES" / "lessonpress.po").open("rb") as file:
            untranslated = [message.id for message in read_po(file) if message.id and not all(message.string if isinstance(message.string, tuple) else (message.string,))]
        assert untranslated == [], language


def test_an_english_site_can_reword_a_string(tmp_path: Path) -> None:
    root = example_in(tmp_path / "site", "en")
    (root / "locale").mkdir()
    (root / "locale" / "en.po").write_text('msgid "Next time:"\nmsgstr "Coming up:"\n', encoding="utf-8")
    page = built(root).files["relationships/referral-partners/index.html"].decode()
    assert "<strong>Coming up:</strong>" in page and "Next time:" not in page and "Lesson 2 of 4" in page


def test_a_language_tag_never_names_a_file_outside_locale(tmp_path: Path) -> None:
    root = example_in(tmp_path / "site", "en")
    (tmp_path / "outside.po").write_text('msgid "Next time:"\nmsgstr "Leaked:"\n', encoding="utf-8")
    assert site_catalog(root, "../../outside") is None and language_tags("../x") == ()
    (root / "locale").mkdir()
    (root / "locale" / "en.po").symlink_to(tmp_path / "outside.po")
    with pytest.raises(BuildFailed) as failed:
        built(root)
    assert [str(error) for error in failed.value.errors] == ["locale/en.po: links out of the site folder: put the file itself in locale/"]


def test_endpoint_pages_and_confirmation_mail_speak_the_language(site_in: tuple[str, BuildResult]) -> None:
    language, result = site_in
    site = result.site
    pages = Pages(site)
    address, action = "reader@example.com", "https://lists.example.org/list/unsubscribe?token=x"
    rendered = {
        "subscribe": pages.render("subscribe", value="nope", error=pages.gettext("Please enter an email address such as name@example.org.")),
        "check_inbox": pages.render("check_inbox", address=address, days=CONFIRM_DAYS),
        "confirm": pages.render("confirm", address=address, action=action),
        "confirmed": pages.render("confirmed", address=address),
        "unsubscribe": pages.render("unsubscribe", address=address, action=action),
        "unsubscribed": pages.render("unsubscribed", address=address),
        "expired": pages.render("problem", problem=expired_link(), subscribe_url=action),
        "too many": pages.render("problem", problem=RequestProblem(429, N_("Please wait a little"), N_("Many people are signing up just now."), retry_minutes=3), subscribe_url=action),
    }
    for name, body in rendered.items():
        assert f'<html lang="{language}"' in body.decode(), name
        assert not english_left(site, "page.html", body), (language, name, english_left(site, "page.html", body))
    assert {"de": "Dieser Link ist abgelaufen", "fr": "Ce lien a expiré", "es": "Este enlace ha caducado"}[language] in rendered["expired"].decode()
    assert {"de": "in 3 Minuten", "fr": "dans 3 minutes", "es": "dentro de 3 minutos"}[language] in rendered["too many"].decode()
    for confirm_url in ("", "https://lists.example.org/list/confirm?t=1"):
        mail = ConfirmationMail(site).message(address, "confirm+token@retention.example.org", NOW, confirm_url=confirm_url)
        assert not english_left(site, "x.eml", mail.as_bytes()), (language, english_left(site, "x.eml", mail.as_bytes()))
        assert mail["Subject"] == {"de": "Bestätigen Sie Ihr Abonnement von", "fr": "Confirmez votre abonnement à", "es": "Confirme su suscripción a"}[language] + " The Retention Letter"


def expired_link() -> RequestProblem:
    """The problem the endpoint answers an old confirmation link with (endpoint/app.py)."""
    return RequestProblem(410, N_("This link has expired"), N_("A confirmation link works for %(days)s days. Please sign up again for a new one."), params={"days": CONFIRM_DAYS})


def test_a_regional_tag_falls_back_to_its_language_then_english(tmp_path: Path) -> None:
    assert load_translations(tmp_path, "de-AT").gettext("Next time:") == "Nächstes Mal:"
    assert load_translations(tmp_path, "pt-BR").gettext("Next time:") == "Next time:"
    (tmp_path / "locale").mkdir()
    (tmp_path / "locale" / "de-AT.po").write_text('msgid "Next time:"\nmsgstr "Demnächst:"\n', encoding="utf-8")
    assert load_translations(tmp_path, "de_AT").gettext("Next time:") == "Demnächst:"
    assert load_translations(tmp_path, "de_AT").gettext("Last time:") == "Letztes Mal:"
    assert load_translations(tmp_path, "de").gettext("Next time:") == "Nächstes Mal:"
