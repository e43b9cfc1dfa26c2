"""Share images: the picture a social site shows for a page, from the lesson, its series or the site, checked to be a file the site publishes."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Set
from dataclasses import dataclass

from ..content.config import SiteConfig, url_problem

# What Open Graph and Twitter cards show; SVG, the favicon's format, is not among them.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class ShareImage:
    """A share image resolved to its absolute URL, or what is wrong with it (`url` is then "")."""

    url: str = ""
    problem: str = ""


def resolve_image(config: SiteConfig, value: str, folder: str, named_in: str, assets: Set[str]) -> ShareImage:
    """Resolve `value` (an http(s) URL, or a path relative to `folder` of the site) to the URL of a published file."""
    if not value:
        return ShareImage()
    if _SCHEME.match(value):
        problem = url_problem(value, ("http", "https"))
        return ShareImage(problem=f"image {problem}") if problem else ShareImage(url=value)
    relative = f"give its path relative to {named_in}"
    if value.startswith("/") or "\\" in value:
        return ShareImage(problem=f"image '{value}' must be a path relative to {named_in} with '/' between folders, like cover.png, or an https:// URL")
    joined = posixpath.normpath(posixpath.join(folder, value))
    if joined == ".." or joined.startswith("../"):
        return ShareImage(problem=f"image '{value}' leads outside the site folder: put the image under lessons/ and {relative}")
    if not joined.lower().endswith(IMAGE_SUFFIXES):
        return ShareImage(problem=f"image '{value}' must be a PNG, JPEG, GIF or WebP file (social sites show no other kind)")
    if joined.startswith("lessons/") and joined.removeprefix("lessons/") in assets:
        return ShareImage(url=config.absolute(joined.removeprefix("lessons/")))
    static = f"themes/{config.theme}/static/"
    if joined.startswith(static) and (config.root / joined).is_file():
        return ShareImage(url=config.absolute("static/" + joined.removeprefix(static)))
    where = f"lessons/<series>/ or themes/{config.theme}/static/"
    if (config.root / joined).exists():
        return ShareImage(problem=f"image '{value}' is not published with the site: move it into {where} and {relative}")
    return ShareImage(problem=f"image '{value}' not found (no file {joined}): put it in {where} and {relative}")

