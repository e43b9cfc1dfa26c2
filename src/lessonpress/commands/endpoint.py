"""`lessonpress endpoint`: serve one-click unsubscribe and the subscribe form for the site."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import click

from ..endpoint import EndpointApp, bound_port, endpoint_settings, make_server, serve


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)  # systemd stops a service with SIGTERM: end as Ctrl-C does, with the summary


@click.command("endpoint")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (put a TLS proxy in front; see the README).")
@click.option("--port", default=8090, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on (0: any free port).")
@click.option("--trusted-proxy", default="127.0.0.1", show_default=True, help="Believe X-Forwarded-For only from this proxy address ('' believes no one).")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Requests handled at once.")
@click.pass_obj
def endpoint_command(root: Path, host: str, port: int, trusted_proxy: str, threads: int) -> None:
    """Serve one-click unsubscribe, the subscribe form and its confirmation at [list] endpoint.

    Keeps no list: each verified action is mailed, signed, to [list] address for the next
    'lessonpress inbox' to apply. Needs LESSONPRESS_SECRET and LESSONPRESS_SMTP_URL.
    """
    started = time.perf_counter()
    settings = endpoint_settings(root, os.environ, datetime.now(UTC))
    app = EndpointApp(settings)
    server = make_server(app, host, port, trusted_proxy=trusted_proxy, threads=threads)
    shown = f"[{host}]" if ":" in host else host
    signal.signal(signal.SIGTERM, _stop)

    def ready() -> None:
        click.echo(f"Endpoint of {settings.site.config.title} listening on http://{shown}:{bound_port(server)}/ for {settings.public_url}/ "
                   f"(hands actions to {settings.list_address} through {settings.smtp}); Ctrl-C stops it")

    try:
        serve(server, ready)
    except KeyboardInterrupt:
        pass
    finally:
        tally = app.tally
        click.echo(f"Endpoint stopped after {time.perf_counter() - started:.0f} s: {tally.requests} requests, {tally.unsubscribes} unsubscribes and "
                   f"{tally.subscriptions} subscriptions handed to the list, {tally.confirmations} confirmations sent, {tally.refused} refused")
