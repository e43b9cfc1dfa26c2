"""The reader's language: the theme's strings from gettext catalogs, dates and lists from the locale (CLDR).

Catalogs are `.po` files read with Babel at build time, so nothing compiled is shipped or committed:
the built-in ones under `lessonpress/locale/<lang>/LC_MESSAGES/lessonpress.po`, and a site's own
`locale/<lang>.po`, whose entries win over the built-in ones string by string.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import Translations

from .errors import SourceError

DOMAIN = "lessonpress"
SITE_LOCALE_DIR = "locale"
# A bare "en" is the house style of the English theme: day before month ("Friday, 25 March 2005"),
# no serial comma. "en-US" and other regions get their own CLDR forms.
_BARE = {"en": "en_GB"}


def N_(message: str) -> str:
    """Mark an English message for the catalogs where it is made; it is translated where it is shown."""
    return message


def language_tags(language: str) -> tuple[str, ...]:
    """The catalogs to try for a `[site] language`, most specific first: `de-AT` → (`de_AT`, `de`)."""
    parts = [part for part in re.split(r"[-_]", language.strip()) if part]
    # Only letters and digits: a tag names a file, and must never lead out of its folder.
    if not parts or not all(part.isascii() and part.isalnum() for part in parts):
        return ()
    tag = "_".join([parts[0].lower(), *(part.upper() if len(part) == 2 else part for part in parts[1:])])
    return (tag, parts[0].lower()) if len(parts) > 1 else (tag,)


def locale_for(language: str) -> Locale:
    """The CLDR locale for dates, lists and text direction; English when the tag names none Babel knows."""
    for tag in language_tags(language):
        try:
            return Locale.parse(_BARE.get(tag, tag))
        except (ValueError, UnknownLocaleError):
            continue
    return Locale.parse(_BARE["en"])


def language_problem(language: str) -> str:
    """What is wrong with a language tag ("" when CLDR knows its language, so `dee`, a typo, is caught)."""
    for tag in language_tags(language):
        try:
            Locale.parse(tag)
            return ""
        except (ValueError, UnknownLocaleError):
            continue
    return f"'{language}' is not a language tag lessonpress knows: use one such as 'en', 'de', 'fr-CA' or 'pt-BR'"


def full_tag(language: str) -> str:
    """Language and territory, as Open Graph's `og:locale` wants them: `de` → `de_DE`, bare `en` → `en_GB`."""
    locale = locale_for(language)
    if locale.territory:
        return f"{locale.language}_{locale.territory}"
    likely = Locale.parse(get_global("likely_subtags").get(locale.language, locale.language))
    return f"{likely.language}_{likely.territory}" if likely.territory else likely.language


def text_direction(language: str) -> str:
    """`rtl` for a right-to-left language (Arabic, Hebrew, Persian, Urdu…), else `ltr`."""
    return "rtl" if locale_for(language).character_order == "right-to-left" else "ltr"


def _builtin_catalog(language: str) -> Traversable | None:
    root = files("lessonpress") / "locale"
    for tag in language_tags(language):
        candidate = root / tag / "LC_MESSAGES" / f"{DOMAIN}.po"
        if candidate.is_file():
            return candidate
    return None


def site_catalog(root: Path, language: str) -> Path | None:
    """The site's own strings: `locale/de_AT.po` or `locale/de.po` in the site folder (dashes or underscores)."""
    for tag in language_tags(language):
        for name in sorted({tag, tag.replace("_", "-")}):
            candidate = root / SITE_LOCALE_DIR / f"{name}.po"
            if candidate.is_file():
                return candidate
    return None


def _outside(root: Path, path: Path) -> bool:
    """A catalog that is a link out of the site folder: never read (catalog_errors reports it)."""
    return not path.resolve().is_relative_to(root.resolve())


@dataclass(frozen=True)
class CatalogProblem:
    """What is wrong in a catalog, and on which line."""

    line: int
    message: str


def _parse(data: bytes, language: str) -> tuple[Catalog | None, list[CatalogProblem]]:
    try:
        catalog = read_po(io.BytesIO(data), locale=locale_for(language), domain=DOMAIN, abort_invalid=True)
    except PoFileError as error:
        found = re.search(r"line (\d+)", str(error))
        return None, [CatalogProblem(int(found.group(1)) if found else 0, f"not a readable .po file: {error}")]
    except (ValueError, UnicodeDecodeError) as error:
        return None, [CatalogProblem(0, f"not a readable .po file: {error}")]
    problems = []
    for message, checks in catalog.check():
        for check in checks:
            # Babel's python-format check: a translation that drops or renames a %(name)s placeholder.
            problems.append(CatalogProblem(message.lineno or 0, f"translation of {message.id!r}: {check}"))
    return catalog, problems


def _compiled(catalog: Catalog) -> Translations:
    """Compile in memory; an entry not (fully) translated is left out, so its English shows instead of nothing."""
    for message in list(catalog):
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and not all(forms):
            catalog.delete(message.id, context=message.context)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def catalog_errors(root: Path, language: str) -> list[SourceError]:
    """What is wrong with the site's own catalog, as `locale/de.po:12: message`; [] when it has none or it is sound."""
    path = site_catalog(root, language)
    if path is None:
        return []
    shown = path.relative_to(root).as_posix()
    if _outside(root, path):
        return [SourceError(shown, 0, "links out of the site folder: put the file itself in locale/")]
    _, problems = _parse(path.read_bytes(), language)
    return [SourceError(shown, problem.line, f"{problem.message}; fix the entry or delete it to use the built-in string") for problem in problems]


def shipped_languages() -> tuple[str, ...]:
    """The languages with a built-in catalog, besides English (the theme's own)."""
    root = files("lessonpress") / "locale"
    return tuple(sorted(entry.name for entry in root.iterdir() if (entry / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()))


def shipped_translations(message: str) -> tuple[str, ...]:
    """A message in English and in every built-in language that translates it."""
    found = [message]
    for language in shipped_languages():
        builtin = _builtin_catalog(language)
        catalog = _parse(builtin.read_bytes(), language)[0] if builtin is not None else None
        entry = catalog.get(message) if catalog is not None else None
        if entry is not None and entry.string and isinstance(entry.string, str):
            found.append(entry.string)
    return tuple(found)


def load_translations(root: Path, language: str) -> Translations:
    """The site's strings: the built-in catalog of its language with the site's own entries over it; English when neither exists."""
    translations = Translations(domain=DOMAIN)
    builtin = _builtin_catalog(language)
    if builtin is not None:
        catalog, _ = _parse(builtin.read_bytes(), language)
        if catalog is not None:
            translations = _compiled(catalog)
    own = site_catalog(root, language)
    if own is not None and not _outside(root, own):
        catalog, problems = _parse(own.read_bytes(), language)
        # A broken site catalog is reported by catalog_errors before any build renders; never half-applied.
        if catalog is not None and not problems:
            translations.merge(_compiled(catalog))
    return translations
