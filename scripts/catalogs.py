"""Gather the theme's and the program's English messages and bring every built-in catalog up to date.

    python3 scripts/catalogs.py            # add new messages to each locale/<lang>/LC_MESSAGES/lessonpress.po
    python3 scripts/catalogs.py --check    # exit 1 when a catalog misses a message or keeps an unused one

A new entry arrives with an empty msgstr (English is shown until it is translated); an entry whose
English text is gone is dropped. Sentences are messages with %(name)s places; keep the places.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lessonpress"
LOCALE = PACKAGE / "locale"
# Templates through Jinja2's own extractor (it understands {% trans %} and {% pluralize %}); Python through Babel's.
METHODS = [("themes/**.html", "jinja2"), ("themes/**.txt", "jinja2"), ("**.py", "python")]
OPTIONS = {"themes/**.html": {"trimmed": "true"}, "themes/**.txt": {"trimmed": "true"}}


def extract() -> Catalog:
    """Every message the package marks, with where it is used."""
    catalog = Catalog(domain="lessonpress")
    methods = {"jinja2": "jinja2.ext:babel_extract", "python": "python"}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE), [(pattern, methods[kind]) for pattern, kind in METHODS], OPTIONS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def catalog_paths() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/lessonpress.po"))


def differences(template: Catalog, path: Path) -> tuple[list[str], list[str]]:
    """Messages a catalog lacks, and entries it keeps that nothing uses."""
    with path.open("rb") as file:
        catalog = read_po(file)
    wanted = {message.id if isinstance(message.id, str) else message.id[0] for message in template if message.id}
    held = {message.id if isinstance(message.id, str) else message.id[0] for message in catalog if message.id}
    return sorted(wanted - held), sorted(held - wanted)


def update(template: Catalog, path: Path) -> None:
    with path.open("rb") as file:
        catalog = read_po(file)
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    with path.open("wb") as file:
        write_po(file, catalog, width=0, omit_header=False, sort_output=False, include_previous=False, no_location=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report catalogs that are out of date")
    args = parser.parse_args()
    template = extract()
    stale = False
    for path in catalog_paths():
        missing, unused = differences(template, path)
        if args.check:
            for message in missing:
                print(f"{path.relative_to(PACKAGE.parent)}: missing {message!r}")
            for message in unused:
                print(f"{path.relative_to(PACKAGE.parent)}: unused {message!r}")
            stale = stale or bool(missing or unused)
        elif missing or unused:
            update(template, path)
            print(f"{path.relative_to(PACKAGE.parent)}: {len(missing)} added, {len(unused)} dropped")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
