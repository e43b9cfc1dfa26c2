"""Load `lessonpress.toml` into a typed, frozen `SiteConfig`, collecting every problem."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields, replace
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..addresses import ADDR_SPEC
from ..errors import SiteFailed, SourceError
from ..sitefiles import NotPlainFile, read_file
from ..tokens import AddressTemplate, TemplateError
from ..translations import language_problem
from ..untrusted import one_line
from .frontmatter import control_character
from .typography import quote_style, typeset

CONFIG_NAME = "lessonpress.toml"
CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f]")
# What a URI may hold as is (RFC 3986 reserved and unreserved characters, and '%' already encoded):
# only other characters, such as the letters of a tag in Greek, are percent-encoded.
URI_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


# A setting's checks: each takes the value (of the declared kind) and says what is wrong with it, or "".
Check = Callable[[Any], str]


def setting(default: Any = MISSING, *, key: str = "", kind: type | tuple[type, ...] = (), checks: tuple[Check, ...] = (), required: bool = False) -> Any:
    """Declare one key of `lessonpress.toml` as a dataclass field: its name in the file, its kind and every check, in one place."""
    kinds = kind or type(default)
    metadata = {"key": key, "kind": kinds, "checks": checks, "required": required}
    return field(metadata=metadata) if default is MISSING else field(default=default, metadata=metadata)


def _scheme_check(*schemes: str) -> Check:
    return lambda url: url_problem(url, schemes) if url else ""


def _at_least(low: int, why: str = "") -> Check:
    return lambda number: f"must be at least {low}{why}" if number < low else ""


def _theme(name: str) -> str:
    # A theme is a folder name under themes/: no path, so no file from outside the site can be copied into it.
    if THEME_NAME.fullmatch(name) and name not in ("..", "."):
        return ""
    return f"'{name}' must be a folder name under themes/ (letters, digits, '-', '_', '.'), not a path; \"default\" is the built-in theme"


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"'{name}' is not a known zone: use a name like 'Europe/London' or 'UTC'"
    return ""


def _placeholders(endpoint: str) -> str:
    return "must contain both {poll} and {choice}" if endpoint and ("{poll}" not in endpoint or "{choice}" not in endpoint) else ""


def _token_template(template: str) -> str:
    """An address lessonpress fills with a reader's signed token, such as bounces+{token}@example.org."""
    if not template:
        return ""
    try:
        AddressTemplate.parse(template)
    except TemplateError as error:
        return str(error)
    return ""


# What each email service substitutes per subscriber: (unsubscribe link, recipient's name).
MERGE_TAGS: dict[str, tuple[str, str]] = {
    "mailchimp": ("*|UNSUB|*", "*|FNAME|*"),
    "listmonk": ("{{ UnsubscribeURL }}", "{{ .Subscriber.FirstName }}"),
    "buttondown": ("{{ unsubscribe_url }}", "{{ subscriber.metadata.first_name }}"),
}
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _plain_address(value: str) -> str:
    # It becomes a header (From, Reply-To) and a feed's author: nothing that could smuggle another header in.
    return "" if not value or ADDR_SPEC.match(value) else f"'{one_line(value)}' is not a plain email address like name@example.org"


def _sender(value: str) -> str:
    """[email] from: one line, a name and a plain address, as the email package reads it."""
    if _LINE_CONTROL.search(value):
        return 'must be one line, like "Letters <letters@example.org>"'
    return _plain_address(parseaddr(value)[1]) if value else ""


def _merge_tags(value: str | dict[str, object]) -> str:
    if isinstance(value, str):
        if value and value.lower() not in MERGE_TAGS:
            return f"'{value}' is not known: use one of {', '.join(sorted(MERGE_TAGS))}, or a table like {{ unsubscribe = \"*|UNSUB|*\", name = \"*|FNAME|*\" }}"
        return ""
    if set(value) - {"unsubscribe", "name"} or not isinstance(value.get("unsubscribe"), str) or not all(isinstance(item, str) for item in value.values()):
        return "as a table takes text keys 'unsubscribe' (required) and 'name'"
    return ""


def _endpoint(url: str) -> str:
    """[list] endpoint: a base URL the routes are put after (no query or fragment), https but on this machine."""
    if "?" in url or "#" in url:
        return "must be a base URL without '?' or '#', like https://example.org/list"
    parts = urlsplit(url)
    # Readers' addresses and tokens travel in its links and forms; RFC 8058 one-click needs https too.
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return f"must be an https URL (readers' addresses travel in its links and forms), not '{url}'; http is only for localhost"
    return ""


def _auto_topics(count: int) -> str:
    return "" if 0 <= count <= 6 else "must be 0 (no automatic polls) to 6"


# Keys holding a URL may only use these schemes: a `javascript:` or `data:` URL in an email or a page runs or shows whatever it holds.
_WEB = _scheme_check("http", "https")


@dataclass(frozen=True)
class Author:
    name: str = setting("")
    email: str = setting("", checks=(_plain_address,))
    url: str = setting("", checks=(_WEB,))
    bio: str = setting("")
    role: str = setting("")


@dataclass(frozen=True)
class EmailConfig:
    sender: str = setting("", key="from", checks=(_sender,))
    reply_to: str = setting("", checks=(_plain_address,))
    unsubscribe_url: str = setting("", checks=(_scheme_check("http", "https", "mailto"),))
    subject_prefix: str = setting("")
    merge_tags: str | dict[str, str] = setting("", kind=(str, dict), checks=(_merge_tags,))
    size_budget_kb: int = setting(100, checks=(_at_least(1, " (kilobytes; Gmail clips at about 102)"),))
    # The VERP return path of every message sent: a bounce then names its reader by the token.
    bounce_address: str = setting("", checks=(_token_template,))


@dataclass(frozen=True)
class PollConfig:
    address: str = setting("")
    endpoint: str = setting("", checks=(_WEB, _placeholders))
    question: str = setting("Which of these should a future lesson cover?")
    auto_topics: int = setting(3, checks=(_auto_topics,))  # topics an automatic poll offers from data/topics.yml; 0 turns them off


@dataclass(frozen=True)
class ListConfig:
    """[list]: the mailbox that keeps the subscriber list (subscribe, confirm, unsubscribe by mail)."""

    address: str = setting("")  # readers write here to subscribe
    unsubscribe_address: str = setting("", checks=(_token_template,))  # List-Unsubscribe's mailto, signed per reader
    confirm_address: str = setting("", checks=(_token_template,))  # where a reader's reply confirms a subscription
    soft_bounces: int = setting(3, checks=(_at_least(1),))  # this many soft bounces ...
    soft_bounce_days: int = setting(30, checks=(_at_least(1),))  # ... within this many days stop mail to a reader
    endpoint: str = setting("", checks=(_WEB, _endpoint))  # the public URL of `lessonpress endpoint`: one-click unsubscribe, the subscribe form

    def endpoint_url(self, route: str) -> str:
        """The public URL of one of the endpoint's routes, such as `subscribe`."""
        return self.endpoint.rstrip("/") + "/" + route


@dataclass(frozen=True)
class SiteConfig:
    """Everything `lessonpress.toml` says, with defaults filled in; the [site] keys are declared here, the other sections in their own classes."""

    root: Path
    title: str = setting(kind=str, required=True)
    url: str = setting(kind=str, required=True, checks=(_WEB,))
    description: str = setting("")
    language: str = setting("en", checks=(language_problem,))
    timezone: str = setting("UTC", checks=(_timezone,))
    theme: str = setting("default", checks=(_theme,))
    greeting: str = setting("")
    reply_prompt: str = setting("")
    copyright: str = setting("")
    postal_address: str = setting("")
    feed_limit: int = setting(20, checks=(_at_least(1),))
    search: bool = setting(True)  # the search page, the header's search box and the Pagefind index (with the `search` extra)
    offline: bool = setting(False)  # links name each folder's index.html, so the site works opened from disk (`build --offline`)
    # The share image of every page that names none of its own; checked against the published files by site/share.py.
    image: str = setting("")
    author: Author = Author()
    email: EmailConfig = EmailConfig()
    polls: PollConfig = PollConfig()
    mailing: ListConfig = ListConfig()  # the [list] section

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


# A theme is a folder name under themes/.
THEME_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def key_line(root: Path, section: str, key: str) -> int:
    """The line of `key` in `[section]` of the site's lessonpress.toml, for a problem found after loading it; 1 when unreadable."""
    try:
        return _line_of(read_file(root / CONFIG_NAME).decode("utf-8-sig"), section, key)
    except (OSError, UnicodeDecodeError):  # NotPlainFile is an OSError
        return 1


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


def _control_problem(value: object) -> str:
    """Text anywhere in the settings holds no control character (a TOML escape like \\u001b makes one)."""
    found = control_character(value) if isinstance(value, str) else None
    return f"{found[1]} (a TOML escape like \\u001b makes one)" if found else ""


@dataclass(frozen=True)
class _Key:
    """One key of a section as `setting` declared it."""

    field: str
    kind: type | tuple[type, ...]
    checks: tuple[Check, ...]
    required: bool


def _section_keys(kind: type) -> dict[str, _Key]:
    """A section's keys by their name in the file, read from the dataclass that declares them."""
    return {
        item.metadata["key"] or item.name: _Key(item.name, item.metadata["kind"], item.metadata["checks"], item.metadata["required"])
        for item in fields(kind) if "kind" in item.metadata
    }


SECTIONS: dict[str, dict[str, _Key]] = {name: _section_keys(kind) for name, kind in (("site", SiteConfig), ("author", Author), ("email", EmailConfig), ("polls", PollConfig), ("list", ListConfig))}


def load_config(root: Path) -> tuple[SiteConfig, list[SourceError]]:
    """Read `root/lessonpress.toml`; return the config and its warnings, or raise `SiteFailed`."""
    path = root / CONFIG_NAME
    try:
        text = read_file(path).decode("utf-8-sig")
    except FileNotFoundError:
        raise SiteFailed([SourceError(CONFIG_NAME, 0, f"not found in {root}: run lessonpress in a site folder, or create one with 'lessonpress init DIR'")]) from None
    except UnicodeDecodeError:
        raise SiteFailed([SourceError(CONFIG_NAME, 1, "is not valid UTF-8: save it as UTF-8")]) from None
    except (IsADirectoryError, NotPlainFile) as error:
        what = "a folder" if isinstance(error, IsADirectoryError) or path.is_dir() else "not a plain file (a FIFO or a device)"
        raise SiteFailed([SourceError(CONFIG_NAME, 0, f"is {what} in {root}: remove it and create the settings file (see 'lessonpress init')")]) from None
    except OSError as error:
        raise SiteFailed([SourceError(CONFIG_NAME, 0, f"cannot be read ({error.strerror}): check that it is a readable file")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        raise SiteFailed([SourceError(CONFIG_NAME, int(match.group(1)) if match else 1, f"invalid TOML: {error}")]) from None

    errors: list[SourceError] = []
    warnings: list[SourceError] = []
    sections: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for section, table in data.items():
        if not isinstance(table, dict):
            home = next((f": put it under [{name}]" for name, keys in SECTIONS.items() if section in keys), "")
            warnings.append(SourceError(CONFIG_NAME, _line_of(text, "", section), f"key '{section}' outside any section is ignored{home}"))
            continue
        if section not in SECTIONS:
            warnings.append(SourceError(CONFIG_NAME, _line_of(text, section), f"unknown section [{section}] is ignored{_did_you_mean(section, list(SECTIONS))}"))
            continue
        keys = SECTIONS[section]
        for name, value in table.items():
            if name not in keys:
                warnings.append(SourceError(CONFIG_NAME, _line_of(text, section, name), f"unknown key '{name}' in [{section}] is ignored{_did_you_mean(name, list(keys))}"))
                continue
            key = keys[name]
            # TOML's true and false are ints to Python: a number or text setting refuses them, a bool one wants only them.
            if not isinstance(value, key.kind) or isinstance(value, bool) is not (key.kind is bool):
                wanted = {str: "text", int: "a whole number", bool: "true or false"}.get(key.kind, "text or a table") if isinstance(key.kind, type) else "text or a table"
                errors.append(SourceError(CONFIG_NAME, _line_of(text, section, name), f"[{section}] {name} must be {wanted}"))
                continue
            value = value.strip() if isinstance(value, str) else value
            sections[section][key.field] = value
            # The key's own checks first (a URL check also names control characters); then no control character anywhere.
            problem = next(filter(None, (check(value) for check in key.checks)), "") or _control_problem(value)
            if problem:
                errors.append(SourceError(CONFIG_NAME, _line_of(text, section, name), f"[{section}] {name} {problem}"))
    for section, keys in SECTIONS.items():
        for name, key in keys.items():
            if key.required and not sections[section].get(key.field):
                errors.append(SourceError(CONFIG_NAME, _line_of(text, section), f"[{section}] {name} is required: add {name} = \"…\""))
    if errors:
        raise SiteFailed(errors, warnings)

    config = SiteConfig(
        root=root,
        author=Author(**sections["author"]),
        email=EmailConfig(**sections["email"]),
        polls=PollConfig(**sections["polls"]),
        mailing=ListConfig(**sections["list"]),
        **sections["site"],
    )
    return typeset_settings(config), warnings


# Settings readers see as text, set with the lessons' quotes, dashes and ellipses; names, addresses and URLs stay as typed.
TYPESET_SITE_KEYS = ("title", "description", "greeting", "reply_prompt", "copyright")


def typeset_settings(config: SiteConfig) -> SiteConfig:
    """Return the config with its reader-facing text typeset in the site language's style, once, at load."""
    style = quote_style(config.language)
    site: dict[str, Any] = {key: typeset(getattr(config, key), style) for key in TYPESET_SITE_KEYS}
    return replace(
        config,
        polls=replace(config.polls, question=typeset(config.polls.question, style)),
        author=replace(config.author, bio=typeset(config.author.bio, style)),
        email=replace(config.email, subject_prefix=typeset(config.email.subject_prefix, style)),
        **site,
    )
