"""The persistent parse cache: parse results keyed by a source's bytes and everything that shapes them."""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from . import __version__
from .errors import SourceError
from .markdown import MARKDOWN_FINGERPRINT
from .model import Lesson, SeriesInfo

CACHE_DIR = Path(".lessonpress") / "cache"
DATABASE = "parse.sqlite3"
# Bump when the layout of an entry changes; a database of another format is dropped whole.
FORMAT = "lessonpress-parse-cache/1"
# The modules whose code decides a parse result: an edited checkout with an unchanged
# version number must not be served results its new code would not produce.
PARSER_MODULES = ("read.py", "frontmatter.py", "markdown.py", "model.py", "errors.py")

# What parsing one source returns: the value (None when it has errors), its errors, its warnings.
Parsed = tuple[Lesson | SeriesInfo | None, list[SourceError], list[SourceError]]


@dataclass(frozen=True)
class CacheStats:
    """What the cache did for one read of the sources."""

    hits: int
    misses: int  # includes entries found corrupt or stale and parsed again
    rejected: int  # entries present but unusable (checksum, format or unpickling failed)


def parser_fingerprint(settings: Iterable[str]) -> str:
    """Hash everything besides a file's bytes that changes what parsing it returns."""
    digest = hashlib.sha256()
    for part in (FORMAT, __version__, MARKDOWN_FINGERPRINT, version("markdown"), version("PyYAML"), *settings):
        digest.update(part.encode("utf-8") + b"\0")
    package = Path(__file__).parent
    for name in PARSER_MODULES:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()


def entry_key(fingerprint: str, source: str, raw: bytes) -> str:
    """The key of one source file's parse result."""
    return hashlib.sha256(b"\0".join((fingerprint.encode(), source.encode("utf-8"), raw))).hexdigest()


def _checksum(blob: bytes) -> bytes:
    return hashlib.sha256(blob).digest()[:16]


def _is_parsed(value: object) -> bool:
    """Check an unpickled entry has the shape of a parse result before it is trusted."""
    return (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[0], (Lesson, SeriesInfo, type(None)))
        and all(isinstance(items, list) and all(isinstance(item, SourceError) for item in items) for items in value[1:])
    )


class ParseCache:
    """One SQLite file under `.lessonpress/cache/`; an unreadable one is replaced, never trusted."""

    def __init__(self, site_root: Path) -> None:
        self.folder = site_root / CACHE_DIR
        self.path = self.folder / DATABASE
        self._connection = self._open()

    def _open(self) -> sqlite3.Connection:
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            connection = self._connect()
        except sqlite3.DatabaseError:
            # Not a database at all (truncated, overwritten): start again from empty.
            self._remove_files()
            connection = self._connect()
        return connection

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("CREATE TABLE IF NOT EXISTS meta (format TEXT NOT NULL)")
            stored = connection.execute("SELECT format FROM meta").fetchall()
            if stored != [(FORMAT,)]:
                connection.executescript(
                    "BEGIN; DROP TABLE IF EXISTS entries; DELETE FROM meta;"
                    f"INSERT INTO meta VALUES ('{FORMAT}');"
                    "CREATE TABLE entries (key TEXT PRIMARY KEY, checksum BLOB NOT NULL, value BLOB NOT NULL); COMMIT;"
                )
            connection.execute("SELECT count(*) FROM entries").fetchone()
        except sqlite3.DatabaseError:
            connection.close()
            raise
        return connection

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def get_many(self, keys: Iterable[str]) -> tuple[dict[str, Parsed], int]:
        """Return the usable entries among `keys` and how many were present but corrupt."""
        wanted = set(keys)
        found: dict[str, Parsed] = {}
        rejected = 0
        try:
            # The cache holds only the site's current sources (see put_many), so read it whole.
            rows = self._connection.execute("SELECT key, checksum, value FROM entries").fetchall()
        except sqlite3.DatabaseError:
            self._reset()
            return found, rejected
        for key, checksum, blob in rows:
            if key not in wanted:
                continue
            value = self._load(checksum, blob)
            if value is None:
                rejected += 1
            else:
                found[key] = value
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
        blobs = [(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)) for key, value in entries.items()]
        try:
            with self._connection:
                self._connection.execute("BEGIN IMMEDIATE")
                self._connection.executemany(
                    "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", [(key, _checksum(blob), blob) for key, blob in blobs]
                )
                keep = set(keep)
                stored = {key for (key,) in self._connection.execute("SELECT key FROM entries")}
                self._connection.executemany("DELETE FROM entries WHERE key = ?", [(key,) for key in stored - keep])
        except sqlite3.DatabaseError:
            # A cache that cannot be written only costs speed next time; the build goes on.
            self._reset()

    def _reset(self) -> None:
        self._connection.close()
        self._remove_files()
        self._connection = self._open()

    def close(self) -> None:
        self._connection.close()
