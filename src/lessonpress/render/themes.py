"""The Jinja2 environments: built-in default theme, overridable by a site theme."""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
)

from ..content.config import CONFIG_NAME, SiteConfig
from ..content.lesson import Lesson
from ..content.typography import quote, quote_style
from ..errors import SourceError, source_error
from ..site.model import Issue, slugify
from ..sitefiles import plain_files, read_file
from ..translations import catalog_errors, full_tag, load_translations, locale_for, text_direction
from . import mailto
from .feeds import FEED_FORMATS
from .wording import Wording

BUILTIN_THEME = "default"


def wording(config: SiteConfig) -> Wording:
    """The site's language: the built-in catalog with the site's own `locale/<lang>.po` over it, its CLDR locale, its quotes."""
    return Wording(load_translations(config.root, config.language), locale_for(config.language), quote_style(config.language))


def issues_by_year(issues: tuple[Issue, ...]) -> list[tuple[int, list[Issue]]]:
    """Group newest-first issues by year, newest year first."""
    years: dict[int, list[Issue]] = {}
    for issue in issues:
        years.setdefault(issue.lesson.date.year, []).append(issue)
    return sorted(years.items(), reverse=True)


def site_theme_dir(config: SiteConfig) -> Path:
    return config.root / "themes" / config.theme


# What a template can read of a lesson's body; see BodyReads.
BODY_ATTRIBUTES = frozenset({"body_html", "body_parts", "poll_in_body", "links"})


class BodyReads:
    """Notice a template reading the body of a lesson other than its own and its neighbours'.

    A page's cache key covers the site without lesson bodies (see digest.py); a page whose
    templates read another lesson's body is made to depend on the whole site instead.
    """

    def __init__(self) -> None:
        self._own: frozenset[int] = frozenset()
        self.outside = False

    def begin(self, issue: Issue | None) -> None:
        """Start one output, made for `issue` (None for a page of no one lesson)."""
        own = () if issue is None else (issue, issue.lesson, issue.previous, issue.next)
        self._own = frozenset(id(value) for value in own if value is not None)
        self.outside = False

    def read(self, value: object) -> None:
        if isinstance(value, (Lesson, Issue)) and id(value) not in self._own:
            self.outside = True

    def shown(self, value: object) -> object:
        """Printing a lesson or an issue whole (its repr) shows its body too."""
        items = value if isinstance(value, (tuple, list)) else (value,)
        for item in items:
            self.read(item)
        return value


class _TrackedEnvironment(Environment):
    """An environment that tells its `BodyReads` of every lesson body its templates read."""

    reads: BodyReads

    def getattr(self, obj: object, attribute: str) -> object:
        # Called for every `a.b` in every template: Jinja's own lookup, inlined, after one cheap test.
        # Private names too: `lesson.__dict__["body_html"]` reaches the body without naming the attribute.
        if attribute in BODY_ATTRIBUTES or attribute[:1] == "_":
            self.reads.read(obj)
        try:
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]  # type: ignore[index]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: object, argument: object) -> object:
        if isinstance(argument, str) and (argument in BODY_ATTRIBUTES or argument[:1] == "_"):
            self.reads.read(obj)
        return super().getitem(obj, argument)


def body_reads(env: Environment) -> BodyReads:
    """The `BodyReads` that an environment made by `make_environment` tells of the lesson bodies its templates read."""
    assert isinstance(env, _TrackedEnvironment), "not an environment made by make_environment"
    return env.reads


def make_environment(config: SiteConfig, *, autoescape: bool = True, reads: BodyReads | None = None) -> Environment:
    """Return the environment: the site theme's templates win by name; `default/…` reaches the built-in ones."""
    builtin = PackageLoader("lessonpress", f"themes/{BUILTIN_THEME}")
    loaders: list[BaseLoader] = []
    theme_dir = site_theme_dir(config)
    if theme_dir.is_dir():
        loaders.append(FileSystemLoader(str(theme_dir)))
    loaders += [PrefixLoader({BUILTIN_THEME: builtin}), builtin]
    reads = reads or BodyReads()
    env = _TrackedEnvironment(
        loader=ChoiceLoader(loaders),
        # Every reader-facing string of the theme is a gettext message: {% trans %} and _().
        extensions=["jinja2.ext.i18n"],
        finalize=reads.shown,
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Each build makes a new environment, so re-checking template files on every include only costs stat calls.
        auto_reload=False,
    )
    env.reads = reads
    words = wording(config)
    # New-style gettext: %(name)s placeholders, and values escaped by autoescaping like any other.
    env.install_gettext_translations(words.translations, newstyle=True)  # type: ignore[attr-defined]
    env.policies["ext.i18n.trimmed"] = True
    base = config.base_path
    env.filters["long_date"] = words.long_date
    # A link from the site's root; pages.py then writes every such link relative to its page (render/relative.py).
    env.filters["url"] = lambda path: base + path.lstrip("/")
    env.filters["absolute"] = config.absolute
    env.filters["tag_slug"] = slugify
    env.filters["groupby_year"] = issues_by_year
    # Wrap reader text in the site language's quotes, never twice: `Read {{ title|quoted }}`.
    env.filters["quoted"] = lambda text: quote(str(text), words.style)
    direction = text_direction(config.language)
    env.globals.update(
        config=config,
        # <html dir> on pages and emails; email cells also take align=, since many clients ignore CSS logical properties.
        text_direction=direction,
        text_start="right" if direction == "rtl" else "left",
        og_locale=full_tag(config.language),
        lesson_of=words.lesson_of,
        votes=words.votes,
        readers_answered=words.readers_answered,
        poll_headline=words.poll_headline,
        option_text=words.option_text,
        feed_formats=FEED_FORMATS,
        vote_link=lambda issue, choice: mailto.vote_link(config, issue, choice, words.vote_label),
        write_in_link=lambda issue: mailto.write_in_link(config, issue, words.vote_label, words.write_in_prompt),
        reply_link=lambda issue: mailto.reply_link(config, issue),
        reply_address=lambda issue: mailto.reply_address(config, issue),
        endpoint_url=lambda poll, choice: mailto.endpoint_url(config, poll, choice),
    )
    return env


def template_error(root: Path, error: Exception) -> SourceError | None:
    """Say where a template went wrong, as `path:line: message`; None for an error that is not a template's."""
    if isinstance(error, TemplateSyntaxError) and error.filename:
        return source_error(root, Path(error.filename), error.lineno, f"template error: {error.message}")
    if isinstance(error, TemplateError):
        return SourceError("themes", 0, f"template error: {error}")
    return None


def theme_errors(config: SiteConfig) -> list[SourceError]:
    """What is wrong with the site's theme or its own catalog: missing, unreadable, or holding links out of the site, FIFOs or devices (its files are published)."""
    theme = site_theme_dir(config)
    problems: list[SourceError] = catalog_errors(config.root, config.language)
    if not theme.is_dir():
        if config.theme == BUILTIN_THEME:
            return problems
        return [*problems, SourceError(CONFIG_NAME, 0, f"theme '{config.theme}' not found: create themes/{config.theme}/ or set theme = \"default\"")]
    for _ in plain_files(str(theme), f"themes/{config.theme}", os.path.realpath(config.root), problems, hidden=True):
        pass
    return problems


def static_files(config: SiteConfig) -> Iterator[tuple[str, bytes]]:
    """Yield (relative path, bytes) of the theme's static files; the site theme's win."""
    found: dict[str, bytes] = {}
    builtin = files("lessonpress") / "themes" / BUILTIN_THEME / "static"
    _walk_resources(builtin, "", found)
    site_static = site_theme_dir(config) / "static"
    if site_static.is_dir():
        # theme_errors has refused links out of the site, FIFOs and devices before a build gets here.
        for parts, entry in plain_files(str(site_static), "static", os.path.realpath(config.root), [], hidden=True):
            found["/".join(parts)] = read_file(entry.path)
    yield from sorted(found.items())


def _walk_resources(node: Traversable, prefix: str, found: dict[str, bytes]) -> None:
    for child in node.iterdir():
        name = prefix + child.name
        if child.is_dir():
            _walk_resources(child, name + "/", found)
        elif not child.name.startswith("."):
            found[name] = child.read_bytes()
