"""The endpoint's pages, rendered by the site's theme (`endpoint/*.html`, overridable like every template)."""

from __future__ import annotations

from jinja2 import Environment, TemplateError

from ..errors import Stopped
from ..render.themes import make_environment, template_error, wording
from ..site.model import Site

PAGES = ("unsubscribe", "unsubscribed", "subscribe", "check_inbox", "confirm", "confirmed", "problem")


class Pages:
    """Every endpoint template compiled once at start, so a broken override stops the start, not a reader's request."""

    def __init__(self, site: Site) -> None:
        self.site = site
        env: Environment = make_environment(site.config)
        # Messages made in Python (a refused address) in the site's language, as the pages' own.
        self.gettext = wording(site.config).translations.gettext
        # The pages are served from the endpoint's host: links to the site's pages and stylesheet must be absolute.
        env.filters["url"] = site.config.absolute
        try:
            self._templates = {name: env.get_template(f"endpoint/{name}.html") for name in PAGES}
        except TemplateError as error:
            found = template_error(site.config.root, error)
            raise Stopped([found] if found else [], f"endpoint not started: {'fix the template' if found else error}") from None

    def render(self, name: str, **context: object) -> bytes:
        """Render one page; every value is escaped by the theme's autoescaping."""
        return self._templates[name].render(site=self.site, **context).encode("utf-8")
