"""`load_config`: every documented key, its defaults, and problems reported at once with their lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessonpress.content.config import load_config
from lessonpress.errors import SiteFailed

EXAMPLE = Path(__file__).parent.parent


def write_config(root: Path, text: str) -> Path:
    (root / "lessonpress.toml").write_text(text, encoding="utf-8")
    return root


def messages(root: Path) -> list[str]:
    with pytest.raises(SiteFailed) as failure:
        load_config(root)
    return [str(error) for error in failure.value.errors]


def test_defaults_fill_in_optional_keys(tmp_path: Path) -> None:
    config, warnings = load_config(write_config(tmp_path, '[site]\ntitle = "T"\nurl = "https://example.org/sub"\n'))
    assert warnings == []
    assert (config.title, config.url, config.description) == ("T", "https://example.org/sub", "")
    assert (config.language, config.timezone, config.theme, config.feed_limit) == ("en", "UTC", "default", 20)
    assert (config.author.name, config.email.sender, config.email.reply_to) == ("", "", "")
    assert config.base_path == "/sub/"
    assert config.absolute("retention/") == "https://example.org/sub/retention/"


def test_example_site_reads_every_documented_key() -> None:
    config, warnings = load_config(EXAMPLE)
    assert warnings == []
    assert (config.title, config.url, config.language, config.timezone, config.theme) == (
        "The Retention Letter", "https://retention.example.org", "en", "Europe/London", "default",
    )
    assert (config.author.name, config.author.email, config.author.url) == (
        "Clara Whitfield", "clara@retention.example.org", "https://retention.example.org/about",
    )
    assert config.email.sender == "The Retention Letter <letters@retention.example.org>"
    assert config.email.reply_to == "lessons+{slug}@retention.example.org"
    assert config.email.unsubscribe_url == "https://retention.example.org/unsubscribe"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[site]\ntitle = "T"\nurl = "https://e.org"\ntitel = "x"\n', "lessonpress.toml:4: unknown key 'titel' in [site] is ignored (did you mean 'title'?)"),
        ('[site]\ntitle = "T"\nurl = "https://e.org"\nbanner = "x"\n', "lessonpress.toml:4: unknown key 'banner' in [site] is ignored"),
        ('[site]\ntitle = "T"\nurl = "https://e.org"\n[auther]\nname = "A"\n', "lessonpress.toml:4: unknown section [auther] is ignored (did you mean 'author'?)"),
        ('theme = "x"\n[site]\ntitle = "T"\nurl = "https://e.org"\n', "lessonpress.toml:1: key 'theme' outside any section is ignored: put it under [site]"),
        ('[site]\ntitle = "T"\nurl = "https://e.org"\n[email]\nreply-to = "a@e.org"\n', "lessonpress.toml:5: unknown key 'reply-to' in [email] is ignored (did you mean 'reply_to'?)"),
    ],
)
def test_unknown_keys_warn_with_their_line(tmp_path: Path, text: str, expected: str) -> None:
    _, warnings = load_config(write_config(tmp_path, text))
    assert [str(warning) for warning in warnings] == [expected]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = '[site]\ndescription = 3\ntimezone = "Mars/Olympus"\nfeed_limit = 0\n'
    assert messages(write_config(tmp_path, text)) == [
        'lessonpress.toml:1: [site] title is required: add title = "…"',
        'lessonpress.toml:1: [site] url is required: add url = "…"',
        "lessonpress.toml:2: [site] description must be text",
        "lessonpress.toml:3: [site] timezone 'Mars/Olympus' is not a known zone: use a name like 'Europe/London' or 'UTC'",
        "lessonpress.toml:4: [site] feed_limit must be at least 1",
    ]


@pytest.mark.parametrize("url", ["example.org", "/letters/", "ftp://example.org"])
def test_url_must_be_absolute_http(tmp_path: Path, url: str) -> None:
    assert messages(write_config(tmp_path, f'[site]\ntitle = "T"\nurl = "{url}"\n')) == [
        f"lessonpress.toml:3: [site] url must be an absolute http(s) URL like https://example.org, not '{url}'",
    ]


def test_invalid_toml_names_its_line(tmp_path: Path) -> None:
    (message,) = messages(write_config(tmp_path, '[site]\ntitle = "T"\nurl = https://e.org\n'))
    assert message.startswith("lessonpress.toml:3: invalid TOML: ")


def test_bom_and_crlf_config_is_read(tmp_path: Path) -> None:
    (tmp_path / "lessonpress.toml").write_bytes(b'\xef\xbb\xbf[site]\r\ntitle = "T"\r\nurl = "https://e.org"\r\n')
    config, _ = load_config(tmp_path)
    assert (config.title, config.url) == ("T", "https://e.org")


def test_addresses_and_merge_tags_are_checked_where_they_are_read(tmp_path: Path) -> None:
    """Settings that become headers are refused at their line when the file is read, all at once."""
    text = (
        '[site]\ntitle = "T"\nurl = "https://example.org"\n'
        '[author]\nemail = "clara at example.org"\n'
        '[email]\nreply_to = "a@b.org, victim@example.com"\nmerge_tags = { unsubscribe = 3 }\n'
        '[list]\nconfirm_address = "confirm@example.org"\n'
    )
    assert messages(write_config(tmp_path, text)) == [
        "lessonpress.toml:5: [author] email 'clara at example.org' is not a plain email address like name@example.org",
        "lessonpress.toml:7: [email] reply_to 'a@b.org, victim@example.com' is not a plain email address like name@example.org",
        "lessonpress.toml:8: [email] merge_tags as a table takes text keys 'unsubscribe' (required) and 'name'",
        "lessonpress.toml:10: [list] confirm_address 'confirm@example.org' must hold {token} exactly once, before the @:"
        " write one {token} before the @ of a plain address, e.g. 'bounces+{token}@example.org'",
    ]
