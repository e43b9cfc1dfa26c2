"""Email output: the example site's lessons as .html, .txt and .eml, parsed back as a mail client would."""

from __future__ import annotations

import email
import re
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from email.utils import parsedate_to_datetime
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_example_lessons, use_theme
from lessonpress.build import BuildResult, build
from lessonpress.cli import main
from lessonpress.errors import SiteFailed
from lessonpress.render.emails import Mailer, Recipient
from lessonpress.site.model import BuildOptions

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2027, 1, 1, tzinfo=UTC)  # after every example lesson
UNSUBSCRIBE = "https://retention.example.org/unsubscribe"
HREF = re.compile(r'\b(?:href|src)="([^"]*)"')


def copy_site(tmp_path: Path, extra_config: str = "") -> Path:
    """Copy the example site into tmp_path, optionally appending TOML to its config."""
    root = tmp_path / "site"
    root.mkdir()
    copy_example_lessons(root)
    config = (REPO / "lessonpress.toml").read_text(encoding="utf-8")
    (root / "lessonpress.toml").write_text(config + extra_config, encoding="utf-8")
    return root


def set_email_key(root: Path, line: str) -> None:
    """Add one key to the site's [email] table."""
    path = root / "lessonpress.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("[email]\n", f"[email]\n{line}\n"), encoding="utf-8")


def run_build(root: Path) -> BuildResult:
    return build(root, BuildOptions(now=NOW), output=root / "output")


@pytest.fixture(scope="module", params=["default", "broadsheet"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The example site built with the built-in theme and with the repository's second theme: both make the same emails."""
    return run_build(use_theme(copy_site(tmp_path_factory.mktemp("example")), request.param))


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML parts, decoded."""
    plain, html = message.get_payload()
    return plain.get_content(), html.get_content()


def test_every_published_lesson_gets_three_email_files(built: BuildResult) -> None:
    output = built.site.config.root / "output"
    assert len(built.site.issues) == 9
    for issue in built.site.issues:
        for suffix in ("html", "txt", "eml"):
            assert (output / "email" / issue.lesson.series / f"{issue.lesson.slug}.{suffix}").stat().st_size > 1000
    assert ", 9 emails in " in built.summary()
    assert "31 pages" in built.summary()  # email HTML is not counted as pages; the search page is one


def test_eml_structure_and_headers(built: BuildResult) -> None:
    for issue in built.site.issues:
        data = built.files[f"email/{issue.lesson.series}/{issue.lesson.slug}.eml"]
        assert all(len(line) <= 998 for line in data.split(b"\r\n"))
        assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF line ends only
        message = parse(data)
        assert message.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in message.get_payload()] == ["text/plain", "text/html"]
        assert all(part.get_content_charset() == "utf-8" for part in message.get_payload())
        assert message["MIME-Version"] == "1.0"
        assert message["From"] == "The Retention Letter <letters@retention.example.org>"
        assert message["Reply-To"] == f"lessons+{issue.lesson.slug}@retention.example.org"
        assert message["Subject"] == f"[Retention] {issue.lesson.title}"
        assert parsedate_to_datetime(message["Date"]) == issue.lesson.date
        assert message["Message-ID"].strip() == f"<{issue.lesson.series}.{issue.lesson.slug}@retention.example.org>"
        assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["To"] is None


def test_html_part_is_email_safe(built: BuildResult) -> None:
    for issue in built.site.issues:
        html = parts(parse(built.files[f"email/{issue.lesson.series}/{issue.lesson.slug}.eml"]))[1]
        head = html[: html.index("<body")]
        assert re.search(r'<html lang="en"', html)
        for meta in ('name="viewport"', 'name="x-apple-disable-message-reformatting"', 'name="color-scheme"', 'name="supported-color-schemes"'):
            assert meta in head
        assert "@media (prefers-color-scheme: dark)" in head and "max-width: 620px" in head
        assert not re.search(r"<script\b|<form\b|<iframe\b|<link\b|@import", html, re.IGNORECASE)
        assert re.search(r'<table (?=[^>]*role="presentation")[^>]*class="container"[^>]*style="[^"]*max-width: 600px', html)
        assert '<!--[if mso]><table role="presentation" align="center" width="600"' in html
        urls = HREF.findall(html)
        assert urls and all(url.startswith(("https://", "mailto:")) for url in urls), [u for u in urls if not u.startswith(("https://", "mailto:"))]
        assert f'<a href="{UNSUBSCRIBE}"' in html
        assert f'href="https://retention.example.org/{issue.path}"' in html  # view in browser
        # Styles are inlined on the lesson's own elements, not only in <style>.
        assert re.search(r'<p style="[^"]*margin', html)
        assert re.search(r'<h1 class="title" style="[^"]*font-size', html)
        preheader = re.search(r'<div class="preheader" style="([^"]*)">([^<]*)</div>', html)
        assert preheader and "display: none" in preheader.group(1)
        assert preheader.group(2).startswith(issue.lesson.preheader or issue.lesson.summary)
        assert len(preheader.group(2)) > len(issue.lesson.preheader) + 100  # padded
        assert f"Lesson {issue.number} of {issue.count}" in html and issue.series.title in html


def test_questions_pull_quotes_poll_and_ps_render(built: BuildResult) -> None:
    html = built.files["email/relationships/referral-partners.html"].decode()
    assert re.search(r'<p class="question" style="[^"]*border-left', html)
    assert re.search(r'<blockquote class="pull-quote" style="[^"]*border-left', built.files["email/retention/why-customers-leave.html"].decode())
    votes = re.findall(r'<a class="button" href="(mailto:polls@retention\.example\.org\?subject=Vote[^"]*)"', html)
    assert len(votes) == 5  # four choices and the write-in
    assert html.index("partner conversation guide") < html.index("Vote for") < html.index("P.S.")
    assert 'href="mailto:lessons+referral-partners@retention.example.org?subject=Re%3A%20Referral%20Partners%20Who%20Actually%20Refer"' in html
    text = built.files["email/relationships/referral-partners.txt"].decode()
    assert re.search(r"^2\. Referral fees: pay or not\?\n   mailto:polls@", text, re.MULTILINE)
    assert "To vote, open the link under your choice" in text
    assert re.search(r"^Q: Could each of your partners", text, re.MULTILINE)
    assert re.search(r"^P\.S\. ", text, re.MULTILINE)


def test_poll_goes_where_the_author_put_the_marker(built: BuildResult) -> None:
    issue = next(issue for issue in built.site.issues if issue.poll_in_body)
    html = built.files[f"email/{issue.lesson.series}/{issue.lesson.slug}.html"].decode()
    after_marker = re.sub(r"<[^>]+>", " ", issue.body_parts[1]).split()[:4]
    assert html.index("Vote for") < html.index(" ".join(after_marker[:2]).replace("&rsquo;", "’"))


def test_text_part_holds_every_link_and_wraps(built: BuildResult) -> None:
    for issue in built.site.issues:
        plain, html = parts(parse(built.files[f"email/{issue.lesson.series}/{issue.lesson.slug}.eml"]))
        for url in {unescape(url) for url in HREF.findall(html)}:
            assert url in plain, f"{issue.lesson.slug}: {url} missing from the text part"
        assert "&ldquo;" not in plain and "&rsquo;" not in plain and "<p" not in plain
        for line in plain.splitlines():
            assert len(line) <= 78 or re.search(r"(https://|mailto:)\S{40,}", line), line
        assert f"Unsubscribe: {UNSUBSCRIBE}" in plain
        assert issue.lesson.title in plain


def test_emails_stay_under_the_size_budget(built: BuildResult) -> None:
    assert not [warning for warning in built.warnings if "KB budget" in warning.message]
    assert all(len(data) < 100 * 1024 for path, data in built.files.items() if path.startswith("email/"))


def test_size_budget_warns_with_the_lesson_source(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    set_email_key(root, "size_budget_kb = 5")
    result = run_build(root)
    warned = sorted(warning.path for warning in result.warnings if "over the 5 KB budget" in warning.message)
    assert warned == sorted(issue.lesson.source for issue in result.site.issues)
    cli = CliRunner().invoke(main, ["--site", str(root), "build", "-o", str(tmp_path / "out")])
    assert "lessons/retention/01-why-customers-leave.md: warning: the email is" in cli.output


def test_header_injection_is_refused(built: BuildResult, tmp_path: Path) -> None:
    mailer = Mailer(built.site)
    issue = built.site.issues[0]
    sneaky = replace(issue, lesson=replace(issue.lesson, title="Hello\r\nBcc: victim@example.com"))
    message = parse(mailer.message(sneaky).as_bytes())
    assert message["Bcc"] is None
    assert message["Subject"] == "[Retention] Hello Bcc: victim@example.com"
    with pytest.raises(SiteFailed, match="not a plain email address"):
        mailer.message(issue, Recipient(email="a@example.org\nBcc: victim@example.com"))
    root = copy_site(tmp_path)
    path = root / "lessonpress.toml"
    path.write_text(path.read_text().replace('from = "The Retention Letter <letters@retention.example.org>"', 'from = "Letters <letters@retention.example.org>\\nBcc: victim@example.com"'))
    cli = CliRunner().invoke(main, ["--site", str(root), "build"])
    assert cli.exit_code == 1 and "lessonpress.toml:24: [email] from must be one line" in cli.output  # the line of the key, now that settings are checked where they are read
    assert "Traceback" not in cli.output


def test_recipient_gets_name_own_unsubscribe_and_own_message_id(built: BuildResult) -> None:
    mailer = Mailer(built.site)
    issue = next(issue for issue in built.site.issues if issue.lesson.slug == "why-customers-leave")
    personal = "https://retention.example.org/unsubscribe?token=abc123"
    message = parse(mailer.message(issue, Recipient(email="ana@example.com", name="Ana", unsubscribe_url=personal)).as_bytes())
    plain, html = parts(message)
    assert message["To"] == "ana@example.com"
    assert message["List-Unsubscribe"] == f"<{personal}>"
    assert f'href="{personal}"' in html and f"Unsubscribe: {personal}" in plain
    assert "Good morning, Ana!" in html and "Good morning, Ana!" in plain
    other = parse(mailer.message(issue, Recipient(email="bo@example.com")).as_bytes())
    assert message["Message-ID"] != other["Message-ID"]
    assert message["Message-ID"].strip().endswith("@retention.example.org>")


def test_mailto_unsubscribe_has_no_one_click_header(built: BuildResult) -> None:
    message = Mailer(built.site).message(built.site.issues[0], Recipient(unsubscribe_url="mailto:leave@retention.example.org"))
    assert message["List-Unsubscribe"] == "<mailto:leave@retention.example.org>"
    assert message["List-Unsubscribe-Post"] is None


@pytest.mark.parametrize(
    ("setting", "unsubscribe", "name"),
    [
        ('"mailchimp"', "*|UNSUB|*", "*|FNAME|*"),
        ('"listmonk"', "{{ UnsubscribeURL }}", "{{ .Subscriber.FirstName }}"),
        ('{ unsubscribe = "%unsub_url%", name = "%first_name%" }', "%unsub_url%", "%first_name%"),
    ],
)
def test_merge_tags_replace_unsubscribe_and_name_in_html_and_text(tmp_path: Path, setting: str, unsubscribe: str, name: str) -> None:
    root = copy_site(tmp_path)
    set_email_key(root, f"merge_tags = {setting}")
    result = run_build(root)
    html = result.files["email/retention/why-customers-leave.html"].decode()
    text = result.files["email/retention/why-customers-leave.txt"].decode()
    assert f'href="{unsubscribe}"' in html and f"Good morning, {name}!" in html
    assert f"Unsubscribe: {unsubscribe}" in text and f"Good morning, {name}!" in text
    assert UNSUBSCRIBE not in html
    # The .eml is sent as is, so it keeps the real link.
    assert parse(result.files["email/retention/why-customers-leave.eml"])["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"


def test_unknown_merge_tag_service_is_a_clear_error(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    set_email_key(root, 'merge_tags = "mailchimpp"')
    cli = CliRunner().invoke(main, ["--site", str(root), "build"])
    assert cli.exit_code == 1
    assert "lessonpress.toml:24: [email] merge_tags 'mailchimpp' is not known: use one of buttondown, listmonk, mailchimp" in cli.output


def test_site_theme_overrides_email_templates(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    override = root / "themes" / "default" / "email" / "partials"
    override.mkdir(parents=True)
    (override / "signature.html").write_text('<p class="signature">Cheers from the test theme</p>\n')
    html = run_build(root).files["email/retention/why-customers-leave.html"].decode()
    assert "Cheers from the test theme" in html and "Until next time" not in html


def test_body_images_get_alt_width_and_absolute_src(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    (root / "lessons" / "retention" / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    lesson = root / "lessons" / "retention" / "01-why-customers-leave.md"
    lesson.write_text(lesson.read_text() + "\n![Churn by month](chart.png)\n")
    html = run_build(root).files["email/retention/why-customers-leave.html"].decode()
    image = re.search(r"<img [^>]*>", html)
    assert image
    assert 'src="https://retention.example.org/retention/chart.png"' in image.group(0)
    assert 'alt="Churn by month"' in image.group(0) and re.search(r'width="\d+"', image.group(0))
    assert "max-width: 100%" in image.group(0)


def test_email_command_prints_and_writes(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    runner = CliRunner()
    printed = runner.invoke(main, ["--site", str(root), "email", "retention/why-customers-leave", "--to", "reader@example.com", "--future"])
    assert printed.exit_code == 0, printed.output
    message = parse(printed.stdout_bytes)
    assert message["To"] == "reader@example.com" and message["Subject"] == "[Retention] Why Customers Really Leave"
    assert re.search(r"Wrote retention/why-customers-leave as \.eml \([\d.]+ KB\) in [\d.]+ s", printed.stderr)
    target = tmp_path / "lesson.txt"
    written = runner.invoke(main, ["--site", str(root), "email", str(root / "lessons/retention/01-why-customers-leave.md"), "--format", "txt", "-o", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text().startswith("The Retention Letter | Why Customers Stay · Lesson 1 of 6")
    missing = runner.invoke(main, ["--site", str(root), "email", "retention/no-such-lesson"])
    assert missing.exit_code == 1 and "retention/no-such-lesson: no lesson by that name" in missing.output
