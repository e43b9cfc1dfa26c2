"""Read a WordPress export (WXR): published posts become issues; pages, attachments, menus and other types are reported."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from ..errors import SourceError
from .feeds import CONTENT, DC_CREATOR, where_in
from .model import Archive, FoundIssue
from .when import read_date

EXCERPT = "{http://wordpress.org/export/1.2/excerpt/}encoded"
# Types WordPress itself keeps beside posts: skipped quietly by kind, anything else is named.
KNOWN_TYPES = {"page": "a page, not an issue", "attachment": "an attachment (its file is copied when an issue shows it)", "nav_menu_item": "a menu entry",
               "revision": "an old revision", "wp_block": "a reusable block", "custom_css": "the theme's CSS", "wp_global_styles": "the theme's styles",
               "wp_navigation": "a menu", "wp_template": "a theme template", "wp_template_part": "a theme template"}


def is_wxr(root: Element) -> bool:
    """Whether an RSS document is a WordPress export (it declares the wp: namespace on its items)."""
    return any(element.tag.startswith("{http://wordpress.org/export/") for element in root.iter())


def _wp(item: Element, name: str, namespace: str) -> str:
    element = item.find(f"{{{namespace}}}{name}")
    return "".join(element.itertext()).strip() if element is not None else ""


def read_wxr(root: Element, label: str) -> Archive:
    """Published and draft posts of a WXR file, with their authors' display names, categories and tags."""
    channel = root.find("channel")
    if channel is None:
        return Archive("WordPress export", (), errors=(SourceError(label, 1, "has no <channel>: export it again from Tools → Export"),))
    namespace = next(element.tag[1:].split("}")[0] for element in root.iter() if element.tag.startswith("{http://wordpress.org/export/"))
    authors = {_wp(author, "author_login", namespace): _wp(author, "author_display_name", namespace) for author in channel.findall(f"{{{namespace}}}author")}
    issues, skipped = [], []
    for number, item in enumerate(channel.findall("item"), start=1):
        kind, status = _wp(item, "post_type", namespace) or "post", _wp(item, "status", namespace)
        title = "".join(item.findtext("title") or "").strip()
        where = where_in(label, "item", number, title)
        if kind != "post":
            reason = KNOWN_TYPES.get(kind, f"of type '{kind}', which is not a post")
            skipped.append(SourceError(where, 0, f"skipped: {reason}"))
            continue
        if status not in ("publish", "draft", "future", "private"):
            skipped.append(SourceError(where, 0, f"skipped: its status is '{status or 'unknown'}'"))
            continue
        login = "".join(item.findtext(DC_CREATOR) or "").strip()
        categories = [("".join(category.itertext()).strip(), category.get("domain", "")) for category in item.findall("category")]
        link = (item.findtext("link") or "").strip()
        guid = (item.findtext("guid") or "").strip()
        issues.append(FoundIssue(
            key=f"wordpress:{_wp(item, 'post_id', namespace) or guid or number}", origin=where, title=title,
            body=item.findtext(CONTENT) or "", markup="html",
            date=read_date(_wp(item, "post_date_gmt", namespace) + "+00:00" if _wp(item, "post_date_gmt", namespace)[:4] not in ("", "0000") else _wp(item, "post_date", namespace)),
            author=authors.get(login) or login, summary=item.findtext(EXCERPT) or "",
            tags=tuple(dict.fromkeys(name for name, domain in categories if name and domain in ("category", "post_tag") and name != "Uncategorized")),
            draft=status != "publish", urls=tuple(url for url in (link, guid) if url.startswith(("http://", "https://"))),
        ))
    return Archive("WordPress export", tuple(issues), title=(channel.findtext("title") or "").strip(), description=(channel.findtext("description") or "").strip(), skipped=tuple(skipped))
