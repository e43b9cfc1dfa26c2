"""`lessonpress serve`."""

from __future__ import annotations

import errno
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import click

from ..errors import plural
from ..serve.server import DevServer, Snapshot
from .common import print_warnings


def _reporter() -> tuple[Callable[[Snapshot], None], list[int]]:
    """Return a build reporter for the terminal and the list it counts builds in."""
    builds: list[int] = []
    shown_warnings: tuple = ()
    shown_errors: tuple = ()  # the errors of the latest report: each is printed once per rebuild

    def report(snapshot: Snapshot) -> None:
        nonlocal shown_warnings, shown_errors
        change = snapshot.change
        why = f" after {', '.join(sorted(change.kinds))} change: {', '.join(change.paths[:3])}{' …' if len(change.paths) > 3 else ''}" if change else ""
        stamp = time.strftime("%H:%M:%S")
        if snapshot.late:
            why = f" when {snapshot.failed[-1]} was rendered"
        elif builds and builds[-1] == snapshot.number:
            click.echo(f"{stamp} no change to the site{why}")
            return
        else:
            builds.append(snapshot.number)
        if snapshot.errors:
            fresh = [error for error in snapshot.errors if error not in shown_errors] if snapshot.late else snapshot.errors
            for error in fresh:
                click.echo(str(error), err=True)
            count = len(snapshot.errors)
            click.echo(f"{stamp} build #{snapshot.number} failed{why}: {count} error{'s' if count != 1 else ''};"
                       " pages show them and feeds and files answer 500 until the site builds again", err=True)
            shown_errors = snapshot.errors
            return
        # Warnings once, not on every save.
        if snapshot.warnings != shown_warnings:
            print_warnings(snapshot.warnings)
            shown_warnings = snapshot.warnings
        pages = sum(1 for path in snapshot.files if path.endswith(".html") and not path.startswith("email/"))
        fixed = "; the site builds again" if shown_errors else ""
        shown_errors = ()
        click.echo(f"{stamp} build #{snapshot.number}{why}: {plural(pages, 'page')} in {snapshot.seconds:.2f} s{fixed}")

    return report, builds


def _interrupt(number: int, frame: object) -> None:
    raise KeyboardInterrupt


HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")


def _host_names(context: click.Context, parameter: click.Parameter, names: tuple[str, ...]) -> tuple[str, ...]:
    """Check each --allow-host is a bare host name, so a typo is told at once rather than answered 403 later."""
    for name in names:
        if not HOST_NAME.fullmatch(name.lower()):
            raise click.BadParameter(f"{name!r} is not a host name: give one like mybox.local, without scheme, port or path", context, parameter)
    return tuple(name.lower().removesuffix(".") for name in names)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; 0.0.0.0 exposes the preview to your network.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on (0 picks a free one).")
@click.option("--poll", is_flag=True, help="Poll for changes instead of OS events (network drives, containers, WSL).")
@click.option(
    "--allow-host", "allow_hosts", metavar="NAME", multiple=True, callback=_host_names,
    help="Also answer requests for this host name (repeatable). Only localhost, IP addresses and --host are answered"
         " otherwise, so that no web page can read the preview through DNS rebinding.",
)
@click.pass_obj
def serve_command(root: Path, host: str, port: int, poll: bool, allow_hosts: tuple[str, ...]) -> None:
    """Preview the site; rebuild and reload open pages on every save."""
    started = time.perf_counter()
    report, builds = _reporter()
    try:
        server = DevServer(root, host=host, port=port, poll=poll, allow_hosts=allow_hosts, report=report)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise click.ClickException(f"port {port} on {host} is in use: stop the other server or pick another with --port") from None
        raise click.ClickException(f"cannot serve on {host}:{port}: {error.strerror or error}") from None
    click.echo(f"Serving {root.name} at {server.url} (drafts and scheduled lessons shown); watching for changes, Ctrl-C to stop")
    if host in ("0.0.0.0", "::"):
        click.echo(f"Open it from another device by this machine's IP address (http://ADDRESS:{server.httpd.server_address[1]}/);"
                   " to open it by a name, add --allow-host NAME")
    # `kill`, systemd or a closed terminal stop the server as Ctrl-C does: with the summary line.
    previous = {number: signal.signal(number, _interrupt) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    click.echo(f"Stopped after {plural(len(builds), 'build')}, served for {time.perf_counter() - started:.1f} s")
