"""Absolute links and images for email and feeds."""

from __future__ import annotations

import random
import re
from urllib.parse import urljoin

from lessonpress.render.absolute import absolutize_html

PAGE = "https://example.org/retention/why/"


def reference(html: str) -> str:
    """The rule stated plainly: every `href="…"` or `src="…"` starting at a word boundary, scanned left to right."""
    def resolve(match: re.Match[str]) -> str:
        url = match.group(2)
        keep = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", url) or url == "#"
        return match.group(0) if keep else match.group(1) + urljoin(PAGE, url) + '"'

    return re.sub(r'(\b(?:href|src)=")([^"]*)"', resolve, html)


def test_relative_and_root_relative_urls_become_absolute() -> None:
    html = '<a href="../other/">o</a> <img src="chart.png"> <a href="/about/">a</a> <a href="#notes">n</a>'
    assert absolutize_html(html, PAGE) == (
        '<a href="https://example.org/retention/other/">o</a> <img src="https://example.org/retention/why/chart.png">'
        ' <a href="https://example.org/about/">a</a> <a href="https://example.org/retention/why/#notes">n</a>'
    )


def test_absolute_urls_and_a_bare_anchor_are_kept() -> None:
    html = '<a href="https://x.org/">x</a><a href="mailto:a@b.org">m</a><a href="#">top</a><a data-x="y">z</a>'
    assert absolutize_html(html, PAGE) == html


def test_only_whole_href_and_src_attributes_are_touched() -> None:
    pieces = ['href="', 'src="', '"', "=", "x", " ", "-", "_", "é", "href=", "src=", '="', "#", "../", "/r/", "xhref=\"", "data-href=\"", "HREF=\"", "<a ", ">"]
    rng = random.Random(5)
    for _ in range(5000):
        html = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 20)))
        assert absolutize_html(html, PAGE) == reference(html), html
