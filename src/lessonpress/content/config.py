"""Load `lessonpress.toml` into a typed, frozen `SiteConfig`, collecting every problem."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import BuildFailed, SourceError
from ..sitefiles import NotPlainFile, read_file
from .frontmatter import control_character

CONFIG_NAME = "lessonpress.toml"
CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f]")
# What a URI may hold as is (RFC 3986 reserved and unreserved characters, and '%' already encoded):
# only other characters, such as the letters of a tag in Greek, are percent-encoded.
URI_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


@dataclass(frozen=True)
class Author:
    name: str = ""
    email: str = ""
    url: str = ""
    bio: str = ""
    role: str = ""


@dataclass(frozen=True)
class EmailConfig:
    sender: str = ""
    reply_to: str = ""
    unsubscribe_url: str = ""
    subject_prefix: str = ""
    merge_tags: str | dict[str, str] = ""
    size_budget_kb: int = 100


@dataclass(frozen=True)
class PollConfig:
    address: str = ""
    endpoint: str = ""
    question: str = "Which of these should a future lesson cover?"
    auto_topics: int = 3  # topics an automatic poll offers from data/topics.yml; 0 turns them off


@dataclass(frozen=True)
class SiteConfig:
    """Everything `lessonpress.toml` says, with defaults filled in."""

    root: Path
    title: str
    url: str
    description: str = ""
    language: str = "en"
    timezone: str = "UTC"
    theme: str = "default"
    greeting: str = ""
    reply_prompt: str = ""
    copyright: str = ""
    postal_address: str = ""
    feed_limit: int = 20
    author: Author = Author()
    email: EmailConfig = EmailConfig()
    polls: PollConfig = PollConfig()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The URL path the site lives under, always ending in `/`."""
        path = urlsplit(self.url).path.rstrip("/")
        return path + "/"

    @property
    def domain(self) -> str:
        return urlsplit(self.url).hostname or "localhost"

    def absolute(self, site_path: str) -> str:
        """Turn a site path like `retention/why/` into an absolute URL, ASCII only (feeds and sitemaps want URIs)."""
        return self.url.rstrip("/") + "/" + quote(site_path.lstrip("/"), safe=URI_SAFE)

    @property
    def lessons_dir(self) -> Path:
        return self.root / "lessons"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"


# section -> key -> (type, dataclass field name)
_SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], str]]] = {
    "site": {
        "title": (str, "title"),
        "url": (str, "url"),
        "description": (str, "description"),
        "language": (str, "language"),
        "timezone": (str, "timezone"),
        "theme": (str, "theme"),
        "greeting": (str, "greeting"),
        "reply_prompt": (str, "reply_prompt"),
        "copyright": (str, "copyright"),
        "postal_address": (str, "postal_address"),
        "feed_limit": (int, "feed_limit"),
    },
    "author": {key: (str, key) for key in ("name", "email", "url", "bio", "role")},
    "email": {
        "from": (str, "sender"),
        "reply_to": (str, "reply_to"),
        "unsubscribe_url": (str, "unsubscribe_url"),
        "subject_prefix": (str, "subject_prefix"),
        "merge_tags": ((str, dict), "merge_tags"),
        "size_budget_kb": (int, "size_budget_kb"),
    },
    "polls": {
        "address": (str, "address"),
        "endpoint": (str, "endpoint"),
        "question": (str, "question"),
        "auto_topics": (int, "auto_topics"),
    },
}


def _line_of(text: str, section: str, key: str | None = None) -> int:
    """Find the line of `[section]` or of `key` inside it (TOML parsers give no positions)."""
    current = ""
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        header = re.match(r"\[\s*([A-Za-z0-9_.-]+)\s*\]", stripped)
        if header:
            current = header.group(1)
            if key is None and current == section:
                return number
            continue
        if key is not None and current == section and re.match(rf"[\"']?{re.escape(key)}[\"']?\s*=", stripped):
            return number
    return 1


# Keys holding a URL, with the schemes each may use: a `javascript:` or `data:` URL in an email or a page runs or shows whatever it holds.
_URL_KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    ("site", "url"): ("http", "https"),
    ("author", "url"): ("http", "https"),
    ("email", "unsubscribe_url"): ("http", "https", "mailto"),
    ("polls", "endpoint"): ("http", "https"),
}
# A theme is a folder name under themes/: no path, so no file from outside the site can be copied into it.
THEME_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def url_problem(url: str, schemes: tuple[str, ...]) -> str:
    """Return what is wrong with an absolute URL that must use one of `schemes`, or '' when nothing is."""
    kinds = " or ".join(["http(s)"] * ("https" in schemes) + ["mailto:"] * ("mailto" in schemes))
    wrong = f"must be an absolute {kinds} URL like https://example.org, not '{url}'"
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError:  # an unclosed '[' or a bad port
        return wrong
    scheme = parts.scheme.lower()
    if scheme not in schemes or (scheme in ("http", "https") and not host):
        return wrong
    if CONTROL_OR_SPACE.search(url):
        return "holds a space or a control character: percent-encode it (%20) or remove it"
    if scheme == "mailto" and "@" not in parts.path:
        return "needs an address, like mailto:unsubscribe@example.org"
    return ""


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _value_problems(text: str, section: str, key: str, value: object) -> list[SourceError]:
    """Check one setting's text: no control characters anywhere, and a URL key holds a URL of an allowed scheme."""
    if not isinstance(value, str):
        return []
    line = _line_of(text, section, key)
    schemes = _URL_KEYS.get((section, key))
    if schemes is not None and value.strip():
        problem = url_problem(value.strip(), schemes)
        return [SourceError(CONFIG_NAME, line, f"[{section}] {key} {problem}")] if problem else []
    found = control_character(value)
    return [SourceError(CONFIG_NAME, line, f"[{section}] {key} {found[1]} (a TOML escape like \\u001b makes one)")] if found else []


def load_config(root: Path) -> tuple[SiteConfig, list[SourceError]]:
    """Read `root/lessonpress.toml`; return the config and its warnings, or raise `BuildFailed`."""
    path = root / CONFIG_NAME
    try:
        text = read_file(path).decode("utf-8-sig")
    except FileNotFoundError:
        raise BuildFailed([SourceError(CONFIG_NAME, 0, f"not found in {root}: run lessonpress in a site folder, or create one with 'lessonpress init DIR'")]) from None
    except UnicodeDecodeError:
        raise BuildFailed([SourceError(CONFIG_NAME, 1, "is not valid UTF-8: save it as UTF-8")]) from None
    except (IsADirectoryError, NotPlainFile) as error:
        what = "a folder" if isinstance(error, IsADirectoryError) or path.is_dir() else "not a plain file (a FIFO or a device)"
        raise BuildFailed([SourceError(CONFIG_NAME, 0, f"is {what} in {root}: remove it and create the settings file (see 'lessonpress init')")]) from None
    except OSError as error:
        raise BuildFailed([SourceError(CONFIG_NAME, 0, f"cannot be read ({error.strerror}): check that it is a readable file")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        raise BuildFailed([SourceError(CONFIG_NAME, int(match.group(1)) if match else 1, f"invalid TOML: {error}")]) from None

    errors: list[SourceError] = []
    warnings: list[SourceError] = []
    sections: dict[str, dict[str, Any]] = {name: {} for name in _SCHEMA}
    for section, table in data.items():
        if not isinstance(table, dict):
            home = next((f": put it under [{name}]" for name, keys in _SCHEMA.items() if section in keys), "")
            warnings.append(SourceError(CONFIG_NAME, _line_of(text, "", section), f"key '{section}' outside any section is ignored{home}"))
            continue
        if section not in _SCHEMA:
            warnings.append(SourceError(CONFIG_NAME, _line_of(text, section), f"unknown section [{section}] is ignored{_did_you_mean(section, list(_SCHEMA))}"))
            continue
        schema = _SCHEMA[section]
        for key, value in table.items():
            if key not in schema:
                warnings.append(SourceError(CONFIG_NAME, _line_of(text, section, key), f"unknown key '{key}' in [{section}] is ignored{_did_you_mean(key, list(schema))}"))
                continue
            kind, field_name = schema[key]
            if not isinstance(value, kind) or isinstance(value, bool):
                wanted = "text" if kind is str else "a whole number" if kind is int else "text or a table"
                errors.append(SourceError(CONFIG_NAME, _line_of(text, section, key), f"[{section}] {key} must be {wanted}"))
                continue
            sections[section][field_name] = value.strip() if isinstance(value, str) else value
            errors.extend(_value_problems(text, section, key, value))

    site = sections["site"]
    for required in ("title", "url"):
        if not site.get(required):
            errors.append(SourceError(CONFIG_NAME, _line_of(text, "site"), f"[site] {required} is required: add {required} = \"…\""))
    theme = site.get("theme", "default")
    if not THEME_NAME.fullmatch(theme) or theme in ("..", "."):
        errors.append(SourceError(CONFIG_NAME, _line_of(text, "site", "theme"), f"[site] theme '{theme}' must be a folder name under themes/ (letters, digits, '-', '_', '.'), not a path; \"default\" is the built-in theme"))
    timezone = site.get("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(SourceError(CONFIG_NAME, _line_of(text, "site", "timezone"), f"[site] timezone '{timezone}' is not a known zone: use a name like 'Europe/London' or 'UTC'"))
    if "feed_limit" in site and site["feed_limit"] < 1:
        errors.append(SourceError(CONFIG_NAME, _line_of(text, "site", "feed_limit"), "[site] feed_limit must be at least 1"))
    endpoint = sections["polls"].get("endpoint", "")
    if endpoint and ("{poll}" not in endpoint or "{choice}" not in endpoint):
        errors.append(SourceError(CONFIG_NAME, _line_of(text, "polls", "endpoint"), "[polls] endpoint must contain both {poll} and {choice}"))
    if sections["email"].get("size_budget_kb", 100) < 1:
        errors.append(SourceError(CONFIG_NAME, _line_of(text, "email", "size_budget_kb"), "[email] size_budget_kb must be at least 1 (kilobytes; Gmail clips at about 102)"))
    if not 0 <= sections["polls"].get("auto_topics", 3) <= 6:
        errors.append(SourceError(CONFIG_NAME, _line_of(text, "polls", "auto_topics"), "[polls] auto_topics must be 0 (no automatic polls) to 6"))
    if errors:
        raise BuildFailed(errors, warnings)

    config = SiteConfig(
        root=root,
        author=Author(**sections["author"]),
        email=EmailConfig(**sections["email"]),
        polls=PollConfig(**sections["polls"]),
        **site,
    )
    return config, warnings
