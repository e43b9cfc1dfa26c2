"""Hostile lessons, front matter and lessonpress.toml: every one a clear `path:line: message`, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest

from .conftest import run_cli, snapshot

PROJECTS = Path(__file__).resolve().parents[1] / "projects"
LESSON = "lessons/course/01-first.md"
GOOD_LESSON = '---\ntitle: "First"\ndate: 2026-01-01\n---\nHello.\n'
CONFIG = '[site]\ntitle = "Minimal"\nurl = "https://example.org"\n'
LAUGHS = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
)


def site_with(tmp_path: Path, files: dict[str, str]) -> Path:
    """A copy of the minimal site with `files` (site-relative path → text) laid over it."""
    root = tmp_path / "site"
    shutil.copytree(PROJECTS / "minimal", root)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def lesson(front: str, body: str = "Hello.\n") -> dict[str, str]:
    return {LESSON: f"---\n{front}\n---\n{body}"}


def refused(root: Path, *expected: str) -> str:
    """Build, and assert that it fails saying each expected line, with no output written."""
    run = run_cli(root, "build")
    assert run.status == 1, run.said
    for line in expected:
        assert line in run.stderr.splitlines(), run.stderr
    assert not (root / "output").exists()
    return run.stderr


# (id, front matter, body, the error line the author sees)
LESSON_CASES = [
    ("billion-laughs", f'title: "First"\ndate: 2026-01-01\n{LAUGHS}', "Hello.\n",
     f"{LESSON}:5: front matter uses the YAML alias '*a0': write the value out in full (aliases are not read, so a few lines cannot expand to gigabytes)"),
    ("alias-of-a-title", 'title: &t "First"\nsummary: *t\ndate: 2026-01-01', "Hello.\n",
     f"{LESSON}:3: front matter uses the YAML alias '*t': write the value out in full (aliases are not read, so a few lines cannot expand to gigabytes)"),
    ("flow-list-400-deep", 'title: "First"\ndate: 2026-01-01\ntags: ' + "[" * 400 + "]" * 400, "Hello.\n",
     f"{LESSON}:4: front matter nests lists or mappings more than 16 deep: flatten it"),
    ("flow-list-200000-deep", 'title: "First"\ndate: 2026-01-01\ntags: ' + "[" * 200_000 + "]" * 200_000, "Hello.\n",
     f"{LESSON}:4: front matter nests lists or mappings more than 16 deep: flatten it"),
    ("block-list-400-deep", 'title: "First"\ndate: 2026-01-01\ntags:\n' + "".join("  " * depth + "-\n" for depth in range(400)), "Hello.\n",
     f"{LESSON}:20: front matter nests lists or mappings more than 16 deep: flatten it"),
    ("duplicate-title", 'title: "First"\ndate: 2026-01-01\ntitle: "Second"', "Hello.\n",
     f"{LESSON}:4: 'title' is given twice, on lines 2 and 4: keep one"),
    ("duplicate-poll-id", 'title: "First"\ndate: 2026-01-01\npoll:\n  id: one\n  options: [a, b, c]\n  id: two', "Hello.\n",
     f"{LESSON}:7: poll: 'id' is given twice, on lines 5 and 7: keep one"),
    ("title-true", "title: true\ndate: 2026-01-01", "Hello.\n",
     f"{LESSON}:2: 'title' must be text, not 'true' (YAML reads yes/no/true/false/on/off as a truth value): put it in quotes, e.g. title: \"…\""),
    ("title-no", "title: no\ndate: 2026-01-01", "Hello.\n",
     f"{LESSON}:2: 'title' must be text, not 'false' (YAML reads yes/no/true/false/on/off as a truth value): put it in quotes, e.g. title: \"…\""),
    ("summary-a-date", 'title: "First"\ndate: 2026-01-01\nsummary: 2026-01-01', "Hello.\n",
     f"{LESSON}:4: 'summary' must be text, not a date: put it in quotes, e.g. summary: \"…\""),
    ("tag-yes", 'title: "First"\ndate: 2026-01-01\ntags: [yes]', "Hello.\n",
     f"{LESSON}:4: 'tags' must be a list, e.g. tags: [onboarding, churn]"),
    ("poll-options-true-false", 'title: "First"\ndate: 2026-01-01\npoll:\n  options: [yes, no, maybe]', "Hello.\n",
     f"{LESSON}:5: poll 'options' must be a list of 2 to 6 non-empty choices"),
    ("title-escape-esc", 'title: "Fir\\est"\ndate: 2026-01-01', "Hello.\n",
     f"{LESSON}:2: 'title' holds a control character (U+001B): delete it; the editor may show it as a box or nothing at all; in YAML look for an escape like \\e or \\x07 in double quotes"),
    ("summary-escape-bell", 'title: "First"\ndate: 2026-01-01\nsummary: "ding\\x07"', "Hello.\n",
     f"{LESSON}:4: 'summary' holds a control character (U+0007): delete it; the editor may show it as a box or nothing at all; in YAML look for an escape like \\e or \\x07 in double quotes"),
    ("tag-backspace", 'title: "First"\ndate: 2026-01-01\ntags: ["a\\bb"]', "Hello.\n",
     f"{LESSON}:4: 'tags' holds a control character (U+0008): delete it; the editor may show it as a box or nothing at all; in YAML look for an escape like \\e or \\x07 in double quotes"),
    ("body-esc", 'title: "First"\ndate: 2026-01-01', "Hello.\n\nA \x1b[31mred\x1b[0m line.\n",
     f"{LESSON}:7: holds a control character (U+001B): delete it; the editor may show it as a box or nothing at all"),
    ("body-nul", 'title: "First"\ndate: 2026-01-01', "Hello\x00.\n",
     f"{LESSON}:5: holds a control character (U+0000): delete it; the editor may show it as a box or nothing at all"),
    ("body-c1", 'title: "First"\ndate: 2026-01-01', "Hello.\nNext\x85line.\n",
     f"{LESSON}:6: holds a control character (U+0085): delete it; the editor may show it as a box or nothing at all"),
    ("body-uffff", 'title: "First"\ndate: 2026-01-01', "Hello\uffff.\n",
     f"{LESSON}:5: holds a control character (U+FFFF): delete it; the editor may show it as a box or nothing at all"),
    ("title-cr", 'title: "Fir\\rst"\ndate: 2026-01-01', "Hello.\n",
     f"{LESSON}:2: 'title' must be one line: join its lines (a title is a subject line and a page heading)"),
    ("title-line-separator", 'title: "Fir\\Lst"\ndate: 2026-01-01', "Hello.\n",
     f"{LESSON}:2: 'title' must be one line: join its lines (a title is a subject line and a page heading)"),
    ("title-paragraph-separator", 'title: "Fir\\Pst"\ndate: 2026-01-01', "Hello.\n",
     f"{LESSON}:2: 'title' must be one line: join its lines (a title is a subject line and a page heading)"),
    ("title-next-line", 'title: "Fir\\Nst"\ndate: 2026-01-01', "Hello.\n",
     f"{LESSON}:2: 'title' must be one line: join its lines (a title is a subject line and a page heading)"),
    ("tag-emoji-only", 'title: "First"\ndate: 2026-01-01\ntags: ["🚀"]', "Hello.\n",
     f"{LESSON}:4: tag '🚀' has no letter or digit to make its page's address /tags/…/: add a word"),
    ("tags-one-slug", 'title: "First"\ndate: 2026-01-01\ntags: [node.js, node js]', "Hello.\n",
     f"{LESSON}:4: tags 'node js' and 'node.js' would share the page /tags/node-js/: spell both the same way, or make them differ in letters"),
    ("poll-results-unknown", 'title: "First"\ndate: 2026-01-01\npoll_results: no-such-poll', "Hello.\n",
     f"{LESSON}:4: poll_results 'no-such-poll' is no poll of this site: use the id of a lesson's poll (series-slug, or its poll 'id')"),
    ("covers-without-backlog", 'title: "First"\ndate: 2026-01-01\ncovers: some-topic', "Hello.\n",
     f"{LESSON}:4: covers unknown topic 'some-topic': there is no data/topics.yml: add the topic with 'lessonpress topics add', or remove 'covers'"),
]


@pytest.mark.parametrize(("front", "body", "expected"), [case[1:] for case in LESSON_CASES], ids=[case[0] for case in LESSON_CASES])
def test_a_hostile_lesson_is_a_clear_error_at_its_line(tmp_path: Path, front: str, body: str, expected: str) -> None:
    said = refused(site_with(tmp_path, lesson(front, body)), expected)
    assert len(said) < 2000  # a few lines, never an expansion of what the file holds


def test_every_problem_of_a_lesson_is_reported_at_once_and_the_last_output_stays(tmp_path: Path) -> None:
    root = site_with(tmp_path, {})
    assert run_cli(root, "build").status == 0
    before = snapshot(root / "output")
    (root / LESSON).write_text('---\ntitle: true\ndate: 2026-01-01\ndate: 2026-01-02\nsummary: "\\e"\n---\nA \x07 bell.\n', encoding="utf-8")
    run = run_cli(root, "build")
    assert run.status == 1
    assert [line.split(": ")[0] for line in run.stderr.splitlines()[:-1]] == [f"{LESSON}:2", f"{LESSON}:4", f"{LESSON}:5", f"{LESSON}:7"]
    assert snapshot(root / "output") == before
    assert "4 errors" in run_cli(root, "check").said


def test_a_series_index_is_checked_like_a_lesson(tmp_path: Path) -> None:
    root = site_with(tmp_path, {"lessons/course/_index.md": '---\ntitle: "Cour\\x1bse"\n---\nIntro\x08.\n'})
    refused(
        root,
        "lessons/course/_index.md:2: 'title' holds a control character (U+001B): delete it; the editor may show it as a box or nothing at all; in YAML look for an escape like \\e or \\x07 in double quotes",
        "lessons/course/_index.md:4: holds a control character (U+0008): delete it; the editor may show it as a box or nothing at all",
    )


def test_cplusplus_csharp_and_c_get_three_pages_and_other_scripts_stay_readable(tmp_path: Path) -> None:
    root = site_with(tmp_path, lesson('title: "First"\ndate: 2026-01-01\ntags: [C++, C#, c, 日本語, Ελληνικά, हिन्दी]'))
    run = run_cli(root, "build")
    assert run.status == 0, run.said
    tags = root / "output" / "tags"
    assert sorted(path.name for path in tags.iterdir() if path.is_dir()) == sorted(["c", "c-plus-plus", "c-sharp", "日本語", "ελληνικά", "हिन्दी"])
    assert "C#" in (tags / "c-sharp" / "index.html").read_text(encoding="utf-8")
    # Feeds and the sitemap hold URIs: the letters are percent-encoded there, and the XML stays well formed.
    sitemap = (root / "output" / "sitemap.xml").read_text(encoding="utf-8")
    ElementTree.fromstring(sitemap)
    assert "https://example.org/tags/%E6%97%A5%E6%9C%AC%E8%AA%9E/" in sitemap
    assert "日本語" not in sitemap


def test_case_only_differences_share_one_tag_page(tmp_path: Path) -> None:
    root = site_with(tmp_path, lesson('title: "First"\ndate: 2026-01-01\ntags: [Churn, churn]'))
    run = run_cli(root, "build")
    assert run.status == 0, run.said
    assert [path.name for path in (root / "output" / "tags").iterdir() if path.is_dir()] == ["churn"]


CONFIG_CASES = [
    ("unsubscribe-javascript", '[email]\nunsubscribe_url = "javascript:alert(1)"\n',
     "lessonpress.toml:6: [email] unsubscribe_url must be an absolute http(s) or mailto: URL like https://example.org, not 'javascript:alert(1)'"),
    ("unsubscribe-mailto-without-address", '[email]\nunsubscribe_url = "mailto:"\n',
     "lessonpress.toml:6: [email] unsubscribe_url needs an address, like mailto:unsubscribe@example.org"),
    ("author-url-data", '[author]\nurl = "data:text/html,<script>alert(1)</script>"\n',
     "lessonpress.toml:6: [author] url must be an absolute http(s) URL like https://example.org, not 'data:text/html,<script>alert(1)</script>'"),
    ("endpoint-vbscript", '[polls]\nendpoint = "vbscript:msgbox({poll}{choice})"\n',
     "lessonpress.toml:6: [polls] endpoint must be an absolute http(s) URL like https://example.org, not 'vbscript:msgbox({poll}{choice})'"),
    ("endpoint-mailto", '[polls]\nendpoint = "mailto:votes@example.org?subject={poll}-{choice}"\n',
     "lessonpress.toml:6: [polls] endpoint must be an absolute http(s) URL like https://example.org, not 'mailto:votes@example.org?subject={poll}-{choice}'"),
    ("author-url-with-space", '[author]\nurl = "https://example.org/a b"\n',
     "lessonpress.toml:6: [author] url holds a space or a control character: percent-encode it (%20) or remove it"),
    ("author-url-bad-port", '[author]\nurl = "https://example.org:99999/"\n',
     "lessonpress.toml:6: [author] url must be an absolute http(s) URL like https://example.org, not 'https://example.org:99999/'"),
    ("description-escape", None,
     "lessonpress.toml:4: [site] description holds a control character (U+001B): delete it; the editor may show it as a box or nothing at all (a TOML escape like \\u001b makes one)"),
    ("size-budget-negative", '[email]\nsize_budget_kb = -5\n',
     "lessonpress.toml:6: [email] size_budget_kb must be at least 1 (kilobytes; Gmail clips at about 102)"),
    ("size-budget-zero", '[email]\nsize_budget_kb = 0\n',
     "lessonpress.toml:6: [email] size_budget_kb must be at least 1 (kilobytes; Gmail clips at about 102)"),
]


@pytest.mark.parametrize(("extra", "expected"), [case[1:] for case in CONFIG_CASES], ids=[case[0] for case in CONFIG_CASES])
def test_a_hostile_setting_is_a_clear_error_at_its_line(tmp_path: Path, extra: str | None, expected: str) -> None:
    # None: a [site] key, written on the line after the site's own.
    config = CONFIG + ('description = "\\u001b[2J"\n' if extra is None else "\n" + extra)
    refused(site_with(tmp_path, {"lessonpress.toml": config}), expected)


def test_every_bad_url_in_the_settings_is_reported_at_once(tmp_path: Path) -> None:
    config = CONFIG + '\n[author]\nurl = "javascript:x"\n\n[email]\nunsubscribe_url = "data:,x"\n\n[polls]\nendpoint = "javascript:{poll}{choice}"\n'
    stderr = refused(site_with(tmp_path, {"lessonpress.toml": config}))
    assert [line.split(": ")[0] for line in stderr.splitlines()[:-1]] == ["lessonpress.toml:6", "lessonpress.toml:9", "lessonpress.toml:12"]


@pytest.mark.parametrize("theme", ["../..", "/etc", "themes/../../x", ".", "..", "a/b", ""], ids=["parent", "absolute", "climbing", "dot", "dot-dot", "nested", "empty"])
def test_a_theme_is_a_folder_name_not_a_path(tmp_path: Path, theme: str) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the site", encoding="utf-8")
    root = site_with(tmp_path, {"lessonpress.toml": CONFIG.replace("[site]\n", f'[site]\ntheme = "{theme}"\n')})
    run = run_cli(root, "build")
    assert run.status == 1, run.said
    assert f"lessonpress.toml:2: [site] theme '{theme}' must be a folder name under themes/" in run.stderr
    assert not (root / "output").exists()


def test_settings_file_that_is_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    root = site_with(tmp_path, {})
    (root / "lessonpress.toml").unlink()
    (root / "lessonpress.toml").mkdir()
    for command in ("build", "check"):
        run = run_cli(root, command)
        assert run.status == 1
        assert run.said.startswith("lessonpress.toml: is a folder in "), run.said


@pytest.mark.parametrize(("title", "name"), [
    (" ".join(["lesson"] * 50), "02-" + "-".join(["lesson"] * 8) + ".md"),
    ("x" * 300, "02-" + "x" * 60 + ".md"),
    ("Über " * 60, "02-" + "-".join(["uber"] * 12) + ".md"),
])
def test_new_with_a_very_long_title_cuts_the_slug_after_a_word(tmp_path: Path, title: str, name: str) -> None:
    root = site_with(tmp_path, {})
    run = run_cli(root, "new", title)
    assert run.status == 0, run.said
    assert run.stdout.strip() == f"lessons/course/{name}"
    assert run_cli(root, "check").status == 0
