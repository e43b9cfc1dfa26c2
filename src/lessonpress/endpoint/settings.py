"""What `lessonpress endpoint` runs with: the site (for its look and addresses), the secret, the relay, the limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import SendFailed, SourceError, Stopped
from ..mail.actions import SECRET_VARIABLE
from ..send.smtp import SmtpSettings, settings_from_env
from ..site.load import load_site
from ..site.model import BuildOptions, Site
from .limits import Window

BODY_LIMIT = 8 * 1024  # a form with one address, or `List-Unsubscribe=One-Click`, is a few hundred bytes


@dataclass(frozen=True)
class Limits:
    """How much mail the subscribe form may cause: per address, per client, and in all."""

    per_address: Window = Window(2, 24 * 3600)  # confirmations to one address
    per_client: Window = Window(10, 3600)  # subscribe POSTs from one client IP, answered or not
    overall: Window = Window(200, 3600)  # confirmations in all: the relay's reputation
    repeat_seconds: float = 24 * 3600  # the same hand-off for the same reader is sent once in this time


@dataclass(frozen=True)
class EndpointSettings:
    site: Site
    secret: str = field(repr=False)
    smtp: SmtpSettings
    limits: Limits = Limits()

    @property
    def public_url(self) -> str:
        return self.site.config.mailing.endpoint.rstrip("/")

    @property
    def base_path(self) -> str:
        """The public URL's path, without the final slash: a proxy may pass it on as is ("" for a URL without a path)."""
        return urlsplit(self.public_url).path.rstrip("/")

    @property
    def list_address(self) -> str:
        return self.site.config.mailing.address


def endpoint_settings(root: Path, environ: Mapping[str, str], now: datetime, limits: Limits = Limits()) -> EndpointSettings:
    """Read the site and the environment; raise `Stopped` naming every missing piece at once."""
    # The pages need the settings and the series; a lesson with a problem must not keep unsubscribes from working.
    loaded = load_site(root, BuildOptions(now=now))
    config = loaded.site.config
    problems: list[SourceError] = []
    if not config.mailing.endpoint:
        problems.append(SourceError("lessonpress.toml", 0, "[list] endpoint is not set: add the public https URL the endpoint is reached at, such as endpoint = \"https://example.org/list\""))
    if not config.mailing.address:
        problems.append(SourceError("lessonpress.toml", 0, "[list] address is not set: the endpoint hands each reader's action to that mailbox, for 'lessonpress inbox' to apply"))
    secret = environ.get(SECRET_VARIABLE, "")
    if not secret:
        problems.append(SourceError(SECRET_VARIABLE, 0, "is not set: export the secret 'lessonpress send' signs with, or no unsubscribe link can be verified"))
    smtp: SmtpSettings | None = None
    try:
        smtp = settings_from_env(environ)
    except SendFailed as failed:
        problems.extend(failed.errors)
    if problems or smtp is None:
        raise Stopped(problems, "endpoint not started: fix the problems above and start it again")
    return EndpointSettings(loaded.site, secret, smtp, limits)
