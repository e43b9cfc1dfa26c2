"""`lessonpress serve`."""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from pathlib import Path

import click

from ..serve.server import DevServer, Snapshot
from .common import print_warnings


def _reporter() -> tuple[Callable[[Snapshot], None], list[int]]:
    """Return a build reporter for the terminal and the list it counts builds in."""
    builds: list[int] = []
    shown_warnings: tuple = ()

    def report(snapshot: Snapshot) -> None:
        nonlocal shown_warnings
        change = snapshot.change
        why = f" after {', '.join(sorted(change.kinds))} change: {', '.join(change.paths[:3])}{' …' if len(change.paths) > 3 else ''}" if change else ""
        stamp = time.strftime("%H:%M:%S")
        if builds and builds[-1] == snapshot.number:
            click.echo(f"{stamp} no change to the site{why}")
            return
        builds.append(snapshot.number)
        if snapshot.errors:
            for error in snapshot.errors:
                click.echo(str(error), err=True)
            count = len(snapshot.errors)
            click.echo(f"{stamp} build #{snapshot.number} failed{why}: {count} error{'s' if count != 1 else ''}; still serving the last good build", err=True)
            return
        # Warnings once, not on every save.
        if snapshot.warnings != shown_warnings:
            print_warnings(snapshot.warnings)
            shown_warnings = snapshot.warnings
        pages = sum(1 for path in snapshot.files if path.endswith(".html") and not path.startswith("email/"))
        click.echo(f"{stamp} build #{snapshot.number}{why}: {pages} pages in {snapshot.seconds:.2f} s")

    return report, builds


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; 0.0.0.0 exposes the preview to your network.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on (0 picks a free one).")
@click.option("--poll", is_flag=True, help="Poll for changes instead of OS events (network drives, containers, WSL).")
@click.pass_obj
def serve_command(root: Path, host: str, port: int, poll: bool) -> None:
    """Preview the site; rebuild and reload open pages on every save."""
    started = time.perf_counter()
    report, builds = _reporter()
    try:
        server = DevServer(root, host=host, port=port, poll=poll, report=report)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise click.ClickException(f"port {port} on {host} is in use: stop the other server or pick another with --port") from None
        raise click.ClickException(f"cannot serve on {host}:{port}: {error.strerror or error}") from None
    click.echo(f"Serving {root.name} at {server.url} (drafts and scheduled lessons shown); watching for changes, Ctrl-C to stop")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    click.echo(f"Stopped after {len(builds)} build{'s' if len(builds) != 1 else ''}, served for {time.perf_counter() - started:.1f} s")
