"""The example lesson's HTML email at 600 px and 375 px, light and dark: nothing overflows, images scale, text stays readable."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route

from conftest import use_theme

from .conftest import EXAMPLE_LESSON, EXAMPLE_SOURCE

pytestmark = pytest.mark.browser

EMAIL = f"email/{EXAMPLE_LESSON.rstrip('/')}.html"
FIGURE = "\n![The first ninety days as a timeline: handshake, first win, habit](timeline.png)\n"
FIGURE_SIZE = (1200, 400)  # wider than any mail client draws it
# Contrast of every visible text element against the background it is drawn on (WCAG 2 formula).
TEXT_CONTRASTS = """() => {
  const rgba = value => { const [r, g, b, a = 1] = value.match(/[\\d.]+/g).map(Number); return {r, g, b, a}; };
  const luminance = ({r, g, b}) => {
    const [R, G, B] = [r, g, b].map(c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const over = (top, under) => ({r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
                                 b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const background = el => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const layer = rgba(getComputedStyle(node).backgroundColor);
      if (layer.a > 0) layers.push(layer);
      if (layer.a === 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), {r: 255, g: 255, b: 255, a: 1});
  };
  const texts = [...document.body.querySelectorAll('*')].filter(el =>
    [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim()) &&
    el.getClientRects().length && getComputedStyle(el).visibility === 'visible' && parseFloat(getComputedStyle(el).opacity) > 0 &&
    !el.closest('.preheader'));
  return texts.map(el => {
    const back = background(el), fore = over(rgba(getComputedStyle(el).color), back);
    const [hi, lo] = [luminance(fore), luminance(back)].sort((a, b) => b - a);
    return {text: el.textContent.trim().slice(0, 60), ratio: (hi + 0.05) / (lo + 0.05)};
  });
}"""
IMAGES = """() => [...document.images].map(img => ({
  alt: img.getAttribute('alt'), natural: [img.naturalWidth, img.naturalHeight],
  shown: [img.getBoundingClientRect().width, img.getBoundingClientRect().height], right: img.getBoundingClientRect().right,
}))"""


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """Return a plain one-colour PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module", params=["default", "broadsheet"])
def email_site(request: pytest.FixtureRequest, new_site, build_and_serve) -> tuple[Path, str]:
    """The example site, in the built-in theme and the repository's second one, with a figure wider than any inbox added to the lesson."""
    root = use_theme(new_site(), request.param)
    source = root / EXAMPLE_SOURCE
    (source.parent / "timeline.png").write_bytes(png(*FIGURE_SIZE, (11, 93, 87)))
    source.write_text(source.read_text(encoding="utf-8") + FIGURE, encoding="utf-8")
    return root, build_and_serve(root)


@pytest.fixture(params=[600, 375], ids=lambda width: f"{width}px")
def inbox(request: pytest.FixtureRequest, browser: Browser, email_site: tuple[Path, str]) -> Page:
    """The email open in a window as wide as a desktop client's reading pane or a phone."""
    root, base = email_site
    ctx = browser.new_context(viewport={"width": request.param, "height": 900})
    request.addfinalizer(ctx.close)

    def from_output(route: Route) -> None:
        # Emails point at the public site; answer those requests from the built output.
        file = root / "output" / urlsplit(route.request.url).path.lstrip("/")
        route.fulfill(path=file) if file.is_file() else route.fulfill(status=404)

    ctx.route("https://retention.example.org/**", from_output)
    page = ctx.new_page()
    page.goto(base + EMAIL)
    return page


def theme_of(inbox: Page) -> str:
    """Name screenshots by theme: the broadsheet theme's email has its own masthead rule."""
    return "broadsheet" if "#1d1b16" in inbox.content() else "default"


def test_nothing_overflows(inbox: Page, artifacts: Path) -> None:
    width = inbox.viewport_size["width"]
    inbox.screenshot(path=artifacts / f"email-{width}px-{theme_of(inbox)}.png", full_page=True)
    assert inbox.evaluate("document.documentElement.scrollWidth") <= width
    wider = inbox.eval_on_selector_all(
        "body *", f"els => els.filter(el => el.getBoundingClientRect().right > {width} + 0.5).map(el => el.outerHTML.slice(0, 80))"
    )
    assert wider == []


def test_images_load_and_scale_down_keeping_their_shape(inbox: Page) -> None:
    width = inbox.viewport_size["width"]
    images = inbox.evaluate(IMAGES)
    assert len(images) == 1
    (image,) = images
    assert image["alt"] and image["natural"] == list(FIGURE_SIZE), image
    shown_width, shown_height = image["shown"]
    assert shown_width < FIGURE_SIZE[0] and image["right"] <= width
    assert shown_height == pytest.approx(shown_width * FIGURE_SIZE[1] / FIGURE_SIZE[0], abs=1)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_at_least_4_5(inbox: Page, scheme: str, artifacts: Path) -> None:
    inbox.emulate_media(color_scheme=scheme)
    if scheme == "dark":
        inbox.screenshot(path=artifacts / f"email-{inbox.viewport_size['width']}px-{theme_of(inbox)}-dark.png", full_page=True)
    contrasts = inbox.evaluate(TEXT_CONTRASTS)
    assert len(contrasts) > 20
    faint = [f"{item['ratio']:.2f}: {item['text']}" for item in contrasts if item["ratio"] < 4.5]
    assert faint == [], "\n".join(faint)
