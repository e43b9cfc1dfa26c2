"""Make a page's links to the site relative to the page, so the site works under any path, or opened from disk."""

from __future__ import annotations

import re

from .absolute import LINK_ATTRIBUTE


def relative_url(target: str, page: str, *, offline: bool = False) -> str:
    """Return the link from output file `page` (`retention/why/index.html`) to site path `target` (`tags/`, `static/style.css`).

    `offline` spells a folder as its `index.html`: opened from disk, a browser shows a folder's listing, not its page.
    """
    path, mark, rest = _split(target)
    folder = page.split("/")[:-1]
    parts = path.split("/")
    common = 0
    while common < len(folder) and common < len(parts) - 1 and folder[common] == parts[common]:
        common += 1
    link = "../" * (len(folder) - common) + "/".join(parts[common:])
    if offline and (link == "" or link.endswith("/")):
        link += "index.html"
    return (link or "./") + mark + rest


def _split(target: str) -> tuple[str, str, str]:
    """Split a URL path from its query or fragment: ('a/b/', '#', 'notes')."""
    found = re.search(r"[?#]", target)
    if found is None:
        return target, "", ""
    return target[: found.start()], target[found.start()], target[found.end():]


def relative_html(html: str, page: str, base_path: str, *, offline: bool = False) -> str:
    """Rewrite every href, src and action under the site's `base_path` (`/` or `/letters/`) as a link relative to `page`.

    Templates write links from the site's root (the `url` filter) and lesson bodies may too; turning
    them into relative ones here covers both, and a theme's own, in one place.
    """
    def rewrite(match: re.Match[str]) -> str:
        url = match.group(1)
        # `//host/…` is another site; anything with a scheme, a bare fragment or a relative link is left as written.
        if not url.startswith(base_path) or url.startswith("//"):
            return match.group(0)
        return f'="{relative_url(url[len(base_path):], page, offline=offline)}"'

    return LINK_ATTRIBUTE.sub(rewrite, html)
