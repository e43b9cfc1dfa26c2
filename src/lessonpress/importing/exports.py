"""Read Substack and Buttondown exports (zipped or unpacked): a CSV of posts beside one body file per post."""

from __future__ import annotations

import csv
import io
import posixpath

from ..content.frontmatter import FrontMatterError, split_front_matter
from ..errors import SourceError
from .container import MAX_ISSUE_BYTES, Container, TooLarge
from .model import Archive, FoundIssue
from .when import read_date

SUBSTACK_TYPES = {"podcast": "a podcast episode", "thread": "a discussion thread", "video": "a video post"}


def _rows(container: Container, name: str) -> tuple[list[dict[str, str]], SourceError | None]:
    """The rows of a CSV in the archive, keyed by its header; or the problem reading it."""
    where = f"{container.label}/{name}"
    try:
        text = container.read(name, MAX_ISSUE_BYTES * 4).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        return [], SourceError(where, 0, f"cannot be read ({error}): export the archive again")
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as error:
        return [], SourceError(where, 0, f"is not a readable CSV file ({error}): export the archive again")
    return [{str(key).strip().lower(): (value or "").strip() for key, value in row.items() if key is not None} for row in rows], None


def _body(container: Container, name: str, where: str, skipped: list[SourceError]) -> str | None:
    """One post's body text; None (and a reported skip) when it is missing, huge or not UTF-8."""
    if name not in container.sizes:
        skipped.append(SourceError(where, 0, f"skipped: the archive has no {name}"))
        return None
    try:
        return container.read(name, MAX_ISSUE_BYTES).decode("utf-8-sig")
    except TooLarge as error:
        skipped.append(SourceError(f"{container.label}/{name}", 0, f"skipped: {error}; a newsletter issue is far smaller"))
    except UnicodeDecodeError:
        skipped.append(SourceError(f"{container.label}/{name}", 0, "skipped: is not UTF-8 text"))
    except OSError as error:
        skipped.append(SourceError(f"{container.label}/{name}", 0, f"skipped: {error.strerror or error}"))
    return None


def _folder_of(container: Container, file_name: str) -> str:
    """The folder inside the archive that holds `file_name` (exports unpacked into a folder of their own)."""
    found = [name for name in container.names if posixpath.basename(name) == file_name]
    return posixpath.dirname(min(found, key=len)) if found else ""


def read_substack(container: Container) -> Archive:
    """Newsletter posts of a Substack export: posts.csv (post_id, post_date, is_published, email_sent_at, type, title, subtitle…) and posts/<post_id>.html."""
    base = _folder_of(container, "posts.csv")
    rows, problem = _rows(container, posixpath.join(base, "posts.csv"))
    if problem:
        return Archive("Substack export", (), files=container, errors=(problem,))
    issues, skipped = [], []
    for line, row in enumerate(rows, start=2):
        post_id = row.get("post_id", "")
        where = f"{container.label}/posts.csv:{line}" + (f" ({row.get('title')})" if row.get("title") else "")
        kind = row.get("type", "newsletter") or "newsletter"
        if not post_id:
            skipped.append(SourceError(where, 0, "skipped: no post_id"))
            continue
        if kind != "newsletter":
            skipped.append(SourceError(where, 0, f"skipped: {SUBSTACK_TYPES.get(kind, f'of type {kind!r}')}, not a newsletter post"))
            continue
        body = _body(container, posixpath.join(base, "posts", f"{post_id}.html"), where, skipped)
        if body is None:
            continue
        slug = post_id.split(".", 1)[1] if "." in post_id else ""
        issues.append(FoundIssue(
            key=f"substack:{post_id.split('.', 1)[0]}", origin=where, title=row.get("title", ""), body=body, markup="html",
            date=read_date(row.get("email_sent_at") or row.get("post_date")), summary=row.get("subtitle", ""),
            draft=row.get("is_published", "true").lower() != "true", path=posixpath.join(base, "posts", f"{post_id}.html"), urls=(f"/p/{slug}",) if slug else (),
        ))
    return Archive("Substack export", tuple(issues), files=container, skipped=tuple(skipped))


def read_buttondown(container: Container) -> Archive:
    """Emails of a Buttondown export: emails.csv (id, subject, publish_date, slug, status, body?) with emails/<slug>.md, or .md files with front matter alone."""
    base = _folder_of(container, "emails.csv")
    issues: list[FoundIssue] = []
    skipped: list[SourceError] = []
    if base or "emails.csv" in container.sizes:
        rows, problem = _rows(container, posixpath.join(base, "emails.csv"))
        if problem:
            return Archive("Buttondown export", (), files=container, errors=(problem,))
        entries = []
        for line, row in enumerate(rows, start=2):
            where = f"{container.label}/emails.csv:{line}" + (f" ({row.get('subject')})" if row.get("subject") else "")
            body = row.get("body") or _body(container, posixpath.join(base, "emails", f"{row.get('slug') or row.get('id')}.md"), where, skipped)
            if body is not None:
                entries.append((where, row, body))
    else:
        entries = []
        for name in container.names:
            if not name.endswith(".md"):
                continue
            body = _body(container, name, f"{container.label}/{name}", skipped)
            if body is None:
                continue
            try:
                front = split_front_matter(body.replace("\r\n", "\n"))
            except FrontMatterError as error:
                skipped.append(SourceError(f"{container.label}/{name}", error.line, f"skipped: {error.message}"))
                continue
            row = {str(key).lower(): str(value) for key, value in front.values.items() if value is not None}
            entries.append((f"{container.label}/{name}", {"slug": posixpath.splitext(posixpath.basename(name))[0], **row}, front.body))
    for where, row, body in entries:
        status = row.get("status", "sent").lower()
        if row.get("email_type", "public").lower() in ("private",) or status in ("deleted", "errored"):
            skipped.append(SourceError(where, 0, f"skipped: status {status!r}"))
            continue
        slug = row.get("slug", "")
        issues.append(FoundIssue(
            key=f"buttondown:{row.get('id') or slug}", origin=where, title=row.get("subject") or row.get("title", ""), body=body, markup="markdown",
            date=read_date(row.get("publish_date") or row.get("date") or row.get("creation_date")), summary=row.get("description", ""),
            draft=status in ("draft", "scheduled"), urls=(f"/archive/{slug}",) if slug else (),
        ))
    return Archive("Buttondown export", tuple(issues), files=container, skipped=tuple(skipped))
