"""Watch a site's sources with watchdog and call back once per burst of changes, by kind."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from ..content.config import CONFIG_NAME

# Folders whose contents feed the build, and the kind of change each stands for.
WATCHED_FOLDERS = {"lessons": "lesson", "themes": "theme", "data": "data", "locale": "theme"}  # locale/: the site's own strings, part of its look
DEBOUNCE_SECONDS = 0.15
# Editor droppings: Vim's swap and backup files, Kate's swap, JetBrains' safe-write copies, backups,
# generic temp and download files. (Emacs locks and autosaves start with '.#' and '#'.)
_NOISE_SUFFIXES = (".swp", ".swx", ".swo", "-swp", "~", ".tmp", ".bak", ".part", ".crdownload", "___jb_tmp___", "___jb_old___")
# Vim's write test (4913, then 5036, 5159, … while those exist) and `sed -i`'s work file.
_NOISE_NAME = re.compile(r"\d+|sed[A-Za-z0-9]{6}")


@dataclass(frozen=True)
class Change:
    """One debounced burst of changes: the kinds touched and the site-relative paths."""

    kinds: frozenset[str]
    paths: tuple[str, ...]


def classify(root: Path, path: str) -> str | None:
    """Return the kind of change a path stands for ('lesson', 'theme', 'data', 'config'), or None to ignore it."""
    try:
        parts = Path(path).resolve().relative_to(root.resolve()).parts
    except ValueError:
        return None
    if not parts:
        return None
    name = parts[-1]
    if name.startswith((".", "#")) or name.endswith(_NOISE_SUFFIXES) or _NOISE_NAME.fullmatch(name):
        return None
    if len(parts) == 1:
        return "config" if name == CONFIG_NAME else None
    return WATCHED_FOLDERS.get(parts[0])


class _Collector(FileSystemEventHandler):
    """Collect relevant paths from watchdog's thread and wake the debounce loop."""

    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        # A folder's "modified" only echoes a change to a file inside it, which has its own event.
        if event.event_type in ("opened", "closed_no_write") or (event.is_directory and event.event_type == "modified"):
            return
        if event.is_directory and event.event_type == "created":
            self._watcher.adopt(str(event.src_path))
        # A move counts at both ends: an atomic save renames a temp file onto the lesson.
        for path in (event.src_path, getattr(event, "dest_path", "")):
            if path:
                self._watcher.notice(path if isinstance(path, str) else path.decode())


class Watcher:
    """Run `on_change` in one background thread after changes settle for `debounce` seconds."""

    def __init__(self, root: Path, on_change: Callable[[Change], object], *, poll: bool = False, debounce: float = DEBOUNCE_SECONDS) -> None:
        self._root = root
        self._on_change = on_change
        self._debounce = debounce
        self._observer = PollingObserver(timeout=0.5) if poll else Observer()
        self._pending: dict[str, str] = {}
        self._last_event = 0.0
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="lessonpress-watch", daemon=True)
        self._handler = _Collector(self)

    def adopt(self, path: str) -> None:
        """Start watching a source folder created after the server started (e.g. a new `themes/`)."""
        folder = Path(path)
        if folder.parent.resolve() == self._root.resolve() and folder.name in WATCHED_FOLDERS:
            self._observer.schedule(self._handler, str(folder), recursive=True)
            # Files may have landed in it before the watch began: a rebuild picks them up.
            self._record(path, WATCHED_FOLDERS[folder.name])

    def start(self) -> None:
        """Start watching the config file and whichever watched folders exist."""
        # The site folder itself non-recursively (output/ may be large), each source folder recursively.
        self._observer.schedule(self._handler, str(self._root), recursive=False)
        for folder in WATCHED_FOLDERS:
            if (self._root / folder).is_dir():
                self._observer.schedule(self._handler, str(self._root / folder), recursive=True)
        self._observer.start()
        self._thread.start()

    def stop(self) -> None:
        """Stop the observer and the debounce thread."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        self._observer.stop()
        self._observer.join(timeout=5)
        self._thread.join(timeout=5)

    def notice(self, path: str) -> None:
        """Record a changed path (called from watchdog's thread)."""
        kind = classify(self._root, path)
        if kind is not None:
            self._record(path, kind)

    def _record(self, path: str, kind: str) -> None:
        with self._wake:
            self._pending[path] = kind
            self._last_event = time.monotonic()
            self._wake.notify_all()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._stopping:
                    self._wake.wait()
                # Wait for a quiet spell, so one save (temp file, rename, chmod) is one rebuild.
                while not self._stopping:
                    quiet_for = time.monotonic() - self._last_event
                    if quiet_for >= self._debounce:
                        break
                    self._wake.wait(self._debounce - quiet_for)
                if self._stopping:
                    return
                pending, self._pending = self._pending, {}
            root = self._root.resolve()
            paths = tuple(sorted(_relative(root, path) for path in pending))
            self._on_change(Change(kinds=frozenset(pending.values()), paths=paths))


def _relative(root: Path, path: str) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return path
