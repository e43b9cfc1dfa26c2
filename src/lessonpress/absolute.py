"""Make every link and image in rendered HTML absolute, for feeds and email."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

# href/src attributes in our own templates and Markdown output (always double-quoted).
_ATTRIBUTE = re.compile(r'(\b(?:href|src)=")([^"]*)(")')


def absolutize_html(html: str, page_url: str) -> str:
    """Resolve relative and root-relative URLs against the page's absolute URL."""
    def resolve(match: re.Match[str]) -> str:
        url = match.group(2)
        if urlsplit(url).scheme or url.startswith("#") and not url[1:2]:
            return match.group(0)
        return match.group(1) + urljoin(page_url, url) + match.group(3)

    return _ATTRIBUTE.sub(resolve, html)
