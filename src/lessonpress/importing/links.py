"""Links and images of imported issues: links to another imported issue point at its lesson file, images the archive holds are copied beside the lessons."""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

# [text](target "title") and ![alt](target): markdownify writes both forms.
LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?((?:\s+\"[^\"]*\")?)\s*\)")
FILES_FOLDER = "files"
SAFE_NAME = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class Copied:
    """A file of the archive, to be written beside the lessons under `name`."""

    name: str  # relative to the series folder: files/<name>
    data: bytes


def url_path(url: str) -> tuple[str, str]:
    """The host and the path of a link as issues are matched by it: no query, fragment, trailing slash or index.html."""
    parts = urlsplit(url)
    path = unquote(parts.path).removesuffix("index.html").rstrip("/")
    return parts.netloc.lower().removeprefix("www."), path


PUBLISHABLE = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".pdf", ".mp3", ".m4a", ".ogg", ".oga", ".wav", ".mp4", ".webm",
    ".txt", ".csv", ".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".epub",
})


def file_name(reference: str, data: bytes, taken: dict[str, bytes]) -> str:
    """A safe name in files/ for an image: its own name, lowercased, or with its digest when that name holds other bytes."""
    base = posixpath.basename(urlsplit(reference).path) or "file"
    stem, extension = posixpath.splitext(SAFE_NAME.sub("-", unquote(base).lower()).strip("-._") or "file")
    if extension not in PUBLISHABLE:
        # Never a lesson the build would read, nor a page or script (.html, .svg, .js) that a stranger's archive
        # would publish on the site's own origin: only files a browser shows or downloads as they are.
        extension += ".bin"
    name = f"{stem}{extension}"
    if name in taken and taken[name] != data:
        name = f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}{extension}"
    return f"{FILES_FOLDER}/{name}"


def rewrite(body: str, target_of: Callable[[str, bool], str | None]) -> str:
    """Body with each link or image target replaced by `target_of(target, is_image)`, where that gives one."""

    def replace(match: re.Match[str]) -> str:
        bang, text, target, title = match.groups()
        new = target_of(target, bool(bang))
        return match.group(0) if new is None else f"{bang}[{text}]({new}{title})"

    return LINK.sub(replace, body)
