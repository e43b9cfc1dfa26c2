"""What a build's outputs depend on, as digests: the code and theme, the site without lesson bodies, each lesson in its place."""

from __future__ import annotations

import hashlib
import io
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

from .. import __version__
from ..content.config import SiteConfig
from ..content.lesson import Lesson
from ..fingerprint import package_fingerprint
from ..render.themes import BUILTIN_THEME, site_theme_dir
from ..site.model import Issue, Site
from ..translations import site_catalog

# Bump when what a digest covers changes.
FORMAT = "lessonpress-digest/2"
# The libraries whose output lands in the files as it is.
RENDER_LIBRARIES = ("jinja2", "markupsafe", "css-inline", "feedgen", "lxml", "babel")
# Lesson fields that come from the body. The navigation digest leaves them out, so editing one
# lesson's text does not make every page stale; a template that reads another lesson's body
# is seen doing so (themes.BodyReads) and its page then depends on the whole site.
BODY_FIELDS = frozenset({"body_html", "links"})


def _lesson_without_body(*fields: tuple[str, object]) -> None:
    """Names a lesson without its body in a digest's pickle; digests are never unpickled."""


def _reduce_lesson(lesson: Lesson) -> tuple[Callable[..., None], tuple[tuple[str, object], ...]]:
    return _lesson_without_body, tuple((name, field) for name, field in vars(lesson).items() if name not in BODY_FIELDS)


def _config_in_place(*fields: tuple[str, object]) -> None:
    """Names a site's settings without the folder it lives in, in a digest's pickle; digests are never unpickled."""


def _reduce_config(config: SiteConfig) -> tuple[Callable[..., None], tuple[tuple[str, object], ...]]:
    # Where the site's folder is changes no file: a site checked out or restored elsewhere keeps its digests.
    return _config_in_place, tuple((name, field) for name, field in vars(config).items() if name != "root")


def _dump(value: object) -> bytes:
    """Pickle without the memo, and every lesson in it without its body.

    Without the memo equal values give equal bytes whether or not they share objects: values from
    the parse cache and values fresh from pool workers share objects differently. Lessons are
    reached from many places (topics, issues, neighbours); their bodies are digested on their own.
    The settings leave out the site's folder, which changes no output.
    """
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dispatch_table = {Lesson: _reduce_lesson, SiteConfig: _reduce_config}
    pickler.dump(value)
    return buffer.getvalue()


def _hash(*parts: bytes) -> str:
    digest = hashlib.blake2b(digest_size=20)
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def render_fingerprint(config: SiteConfig) -> str:
    """Hash what turns the site into files besides the site itself: lessonpress's code, the libraries, the theme's files and the site's own strings."""
    parts = [FORMAT.encode(), __version__.encode(), *(version(name).encode() for name in RENDER_LIBRARIES)]
    # All of the package: an edited checkout must not keep files its code would no longer write.
    parts.append(package_fingerprint().encode())
    theme = site_theme_dir(config)
    if theme.is_dir():
        for path in sorted(theme.rglob("*")):
            if path.is_file():
                parts += [b"site-theme/" + path.relative_to(theme).as_posix().encode(), path.read_bytes()]
    parts.append(BUILTIN_THEME.encode())
    # The site's own strings (locale/<lang>.po) change the words of every page and email.
    own = site_catalog(config.root, config.language)
    if own is not None:
        parts += [b"site-catalog/" + own.name.encode(), own.read_bytes()]
    return _hash(*parts)


def _fields(value: object, replacements: dict[str, object]) -> dict[str, object]:
    """Every field of a frozen dataclass value by name, some replaced; a field added later is covered without a change here."""
    return {**vars(value), **replacements}


def _source(lesson: Lesson | None) -> str | None:
    return None if lesson is None else lesson.source


def _issue_record(issue: Issue) -> dict[str, object]:
    """An issue without bodies: neighbours by source, since each is recorded in its own place."""
    return _fields(issue, {"previous": _source(issue.previous), "next": _source(issue.next)})


@dataclass(frozen=True)
class SiteDigests:
    """The site's digests: without bodies (`nav`), whole (`full`), and each issue with its own and its neighbours' bodies."""

    nav: str
    full: str
    issues: dict[str, str]  # by the issue's lesson source


def site_digests(site: Site) -> SiteDigests:
    """Digest the site: navigation (every value but lesson bodies), every issue in its place, and the whole."""
    records = [_issue_record(issue) for issue in site.issues]
    nav = _hash(_dump(_fields(site, {
        "issues": records,
        "series": tuple(_fields(series, {
            "issues": tuple(issue.lesson.source for issue in series.issues),
        }) for series in site.series),
        "tags": tuple(_fields(tag, {"issues": tuple(issue.lesson.source for issue in tag.issues)}) for tag in site.tags),
    })))
    # Each lesson's body is hashed once, though up to three issues (its own and its neighbours') use it.
    bodies = {lesson.source: _hash(lesson.body_html.encode(), _dump(lesson.links)).encode() for lesson in _lessons(site)}
    issues = {}
    for issue, record in zip(site.issues, records):
        # The site's lessons carry their bodies with links resolved (model.assemble).
        neighbours = [bodies[lesson.source] if lesson is not None else b"" for lesson in (issue.lesson, issue.previous, issue.next)]
        issues[issue.lesson.source] = _hash(_dump(record), *neighbours)
    full = _hash(nav.encode(), *(digest.encode() for digest in issues.values()), *(bodies[lesson.source] for series in site.series for lesson in series.upcoming))
    return SiteDigests(nav=nav, full=full, issues=issues)


def _lessons(site: Site) -> list[Lesson]:
    """Every lesson of the site, published or upcoming."""
    return [issue.lesson for issue in site.issues] + [lesson for series in site.series for lesson in series.upcoming]
