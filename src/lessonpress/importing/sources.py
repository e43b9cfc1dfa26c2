"""Tell what kind of archive a path is, and read it with the reader for that kind."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..errors import SourceError
from ..sitefiles import read_file, read_problem
from .container import MAX_ISSUE_BYTES, Container, open_folder, open_zip
from .exports import read_buttondown, read_substack
from .feeds import ATOM, read_atom, read_json_feed, read_rss
from .folder import read_folder
from .mailboxes import read_mailbox
from .model import Archive
from .wordpress import is_wxr, read_wxr

# A feed or WordPress export is read whole: larger than this it is no archive of a newsletter.
MAX_FEED_BYTES = 40 * MAX_ISSUE_BYTES


def _failed(label: str, message: str, line: int = 0) -> Archive:
    return Archive("archive", (), errors=(SourceError(label, line, message),))


def _read_container(container: Container) -> Archive:
    """An unpacked or zipped export: Substack (posts.csv), Buttondown (emails.csv or emails/*.md), else a folder of issue files."""
    base_names = {name.rsplit("/", 1)[-1] for name in container.names}
    if "posts.csv" in base_names:
        return read_substack(container)
    if "emails.csv" in base_names or any(name.startswith("emails/") or "/emails/" in name for name in container.names if name.endswith(".md")):
        return read_buttondown(container)
    return read_folder(container)


def _read_xml(data: bytes, label: str) -> Archive:
    """An RSS 2.0 or Atom feed, or a WordPress export, parsed without entities or external references."""
    try:
        root = fromstring(data)
    except ParseError as error:
        line = error.position[0] if error.position else 0
        return _failed(label, f"is not well-formed XML ({error}): export the feed again, or check it is the feed's file and not its web page", line)
    except DefusedXmlException:
        return _failed(label, "declares XML entities or external references, which an import never expands: export the feed again")
    if root.tag == "rss":
        channel = root.find("channel")
        return read_wxr(root, label) if is_wxr(root) else read_rss(root if channel is None else channel, label)
    if root.tag == ATOM + "feed":
        return read_atom(root, label)
    return _failed(label, f"is XML but neither an RSS 2.0 nor an Atom feed nor a WordPress export (its root is <{root.tag}>)")


def read_archive(path: Path, sender: str = "") -> Archive:
    """Read past issues from `path`: a feed, a WordPress export, an export zip or folder, an mbox or Maildir, a folder of files."""
    label = path.name or str(path)
    if not path.exists():
        return _failed(str(path), "not found: give the path of a feed, an export (.zip or folder), an mbox, a Maildir or a folder of issues")
    if path.is_dir():
        if all((path / part).is_dir() for part in ("cur", "new", "tmp")):
            return read_mailbox(path, label, sender)
        return _read_container(open_folder(path, label))
    if zipfile.is_zipfile(path):
        try:
            return _read_container(open_zip(path, label))
        except (zipfile.BadZipFile, EOFError, OSError) as error:
            return _failed(label, f"is a damaged or truncated zip archive ({error}): download the export again")
    if path.suffix.lower() == ".zip":
        return _failed(label, "is not a complete zip archive (it may be truncated: download the export again)")
    try:
        size = path.stat().st_size
        if size > MAX_FEED_BYTES:
            return _failed(label, f"is {size / 1048576:.0f} MB, more than the {MAX_FEED_BYTES // 1048576} MB a feed or export is read whole: split it, or import a folder of its issues")
        data = read_file(path)
    except OSError as error:
        return _failed(label, read_problem(error, ": check the path"))
    start = data.lstrip()[:5]
    if data.startswith(b"From "):
        return read_mailbox(path, label, sender)
    if start.startswith((b"{", b"[")):
        return read_json_feed(data, label)
    if start.startswith(b"<") and path.suffix.lower() not in (".html", ".htm"):
        archive = _read_xml(data, label)
        uploads = path.parent / "wp-content"
        # Images of a WordPress export come from its uploads folder unpacked beside it, and from nowhere else.
        return replace(archive, files=open_folder(uploads, "wp-content")) if uploads.is_dir() and not uploads.is_symlink() else archive
    if path.suffix.lower() in (".html", ".htm", ".txt", ".md", ".markdown"):
        return _failed(label, "is one issue file: put the issues in a folder and import the folder")
    return _failed(label, "is not a feed (RSS, Atom, JSON Feed), a WordPress export, a zip, an mbox, a Maildir or a folder of issues", 1)
