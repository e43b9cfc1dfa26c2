"""The persistent parse cache: parse results keyed by a source's bytes and everything that shapes them."""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from .. import __version__
from ..errors import SourceError
from ..fingerprint import package_fingerprint
from ..store import Shape, SqliteStore
from .lesson import Lesson, SeriesInfo
from .markdown import MARKDOWN_FINGERPRINT

DATABASE = "parse.sqlite3"
# Bump when the layout of an entry changes; a database of another format is dropped whole.
FORMAT = "lessonpress-parse-cache/1"
SHAPE = Shape("lessonpress parse cache", (("entries", ("key", "checksum", "value")),), FORMAT)

# What parsing one source returns: the value (None when it has errors), its errors, its warnings.
Parsed = tuple[Lesson | SeriesInfo | None, list[SourceError], list[SourceError]]


@dataclass(frozen=True)
class CacheStats:
    """What the cache did for one read of the sources."""

    hits: int
    misses: int  # includes entries found corrupt or stale and parsed again
    rejected: int  # entries present but unusable (checksum, format or unpickling failed)
    notices: tuple[SourceError, ...] = ()  # the cache file was damaged and started again


def parser_fingerprint(settings: Iterable[str]) -> str:
    """Hash everything besides a file's bytes that changes what parsing it returns."""
    digest = hashlib.sha256()
    for part in (FORMAT, __version__, MARKDOWN_FINGERPRINT, version("markdown"), version("PyYAML"), *settings):
        digest.update(part.encode("utf-8") + b"\0")
    # All of the package, not a list of parser modules: a list misses the module someone edits next.
    digest.update(package_fingerprint().encode())
    return digest.hexdigest()


def entry_key(fingerprint: str, source: str, raw: bytes) -> str:
    """The key of one source file's parse result."""
    return hashlib.sha256(b"\0".join((fingerprint.encode(), source.encode("utf-8"), raw))).hexdigest()


def _checksum(blob: bytes) -> bytes:
    return hashlib.sha256(blob).digest()[:16]


def _row(key: str, value: Parsed) -> tuple[str, bytes, bytes]:
    blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return key, _checksum(blob), blob


def _is_parsed(value: object) -> bool:
    """Check an unpickled entry has the shape of a parse result before it is trusted."""
    return (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[0], (Lesson, SeriesInfo, type(None)))
        and all(isinstance(items, list) and all(isinstance(item, SourceError) for item in items) for items in value[1:])
    )


class ParseCache:
    """The parse results of a site's sources, in one SQLite file under `.lessonpress/cache/`."""

    def __init__(self, site_root: Path) -> None:
        self._store = SqliteStore(
            site_root, DATABASE, SHAPE,
            "CREATE TABLE entries (key TEXT PRIMARY KEY, checksum BLOB NOT NULL, value BLOB NOT NULL)",
            "rebuilt from the lessons (this build parses every lesson again)",
        )
        self.path = self._store.path

    @property
    def notices(self) -> tuple[SourceError, ...]:
        """One line per time the file was found damaged and started again."""
        return tuple(self._store.notices)

    def get_many(self, keys: Iterable[str]) -> tuple[dict[str, Parsed], int]:
        """Return the usable entries among `keys` and how many were present but corrupt."""
        wanted = set(keys)
        found: dict[str, Parsed] = {}
        rejected = 0
        try:
            # The cache holds only the site's current sources (see put_many), so read it whole, a row
            # at a time: fetching every row first held all the pickled entries in memory at once.
            for key, checksum, blob in self._store.connection.execute("SELECT key, checksum, value FROM entries"):
                if key not in wanted:
                    continue
                value = self._load(checksum, blob)
                if value is None:
                    rejected += 1
                else:
                    found[key] = value
        except sqlite3.DatabaseError as error:
            self._store.reset(error)
            return {}, 0
        return found, rejected

    def _load(self, checksum: bytes, blob: bytes) -> Parsed | None:
        if _checksum(blob) != checksum:
            return None
        try:
            value = pickle.loads(blob)
        except Exception:  # noqa: BLE001 - any unpickling failure means: parse again
            return None
        return value if _is_parsed(value) else None

    def put_many(self, entries: Mapping[str, Parsed], keep: Iterable[str]) -> None:
        """Store new entries and drop the ones no source uses any more, so the cache stays the size of the site."""
        try:
            with self._store.connection:
                self._store.connection.execute("BEGIN IMMEDIATE")
                # Pickled one at a time as SQLite takes them, not all first: a cold build stores thousands.
                self._store.connection.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", (_row(key, value) for key, value in entries.items()))
                keep = set(keep)
                stored = {key for (key,) in self._store.connection.execute("SELECT key FROM entries")}
                self._store.connection.executemany("DELETE FROM entries WHERE key = ?", [(key,) for key in stored - keep])
        except sqlite3.DatabaseError as error:
            # A cache that cannot be written only costs speed next time; the build goes on.
            self._store.reset(error)

    def close(self) -> None:
        self._store.close()
