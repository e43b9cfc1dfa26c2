"""Make every link and image in rendered HTML absolute, for feeds and email."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

# The value of an href, src or form action attribute in our own templates and Markdown output (always double-quoted).
# The pattern starts with `="`, a literal the regex engine finds fast, and looks back for the name only there.
LINK_ATTRIBUTE = re.compile(r'="(?:(?<=\bhref=")|(?<=\bsrc=")|(?<=\baction="))([^"]*)"')


def absolutize_html(html: str, page_url: str) -> str:
    """Resolve relative and root-relative URLs against the page's absolute URL."""
    def resolve(match: re.Match[str]) -> str:
        url = match.group(1)
        if urlsplit(url).scheme or (url.startswith("#") and not url[1:2]):
            return match.group(0)
        return f'="{urljoin(page_url, url)}"'

    return LINK_ATTRIBUTE.sub(resolve, html)
