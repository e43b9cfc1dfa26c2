"""Benchmark: messages per second from `lessonpress send` to a local SMTP server, with 1 and 4 connections.

Run from the repository root:  python bench/send_rate.py [--recipients 2000] [--connections 1 4]
The server (aiosmtpd's Sink, which accepts and discards) runs in its own process, so it does not
compete with the sender for the GIL. The sender renders every message (personalised) as a real send does.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from lessonpress.send.campaign import SendRequest, send
from lessonpress.send.smtp import SmtpSettings

REPO = Path(__file__).resolve().parents[1]
LESSON = "retention/why-customers-leave"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_server(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the SMTP server on port {port} did not start")


def start_sink(port: int) -> subprocess.Popen[bytes]:
    """Start aiosmtpd's Sink (accepts every message and discards it) in a process of its own; return once it listens."""
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for_server(port, time.monotonic() + 30)
    return server


def one_run(workdir: Path, recipients: int, connections: int, port: int) -> tuple[float, float]:
    """Send to `recipients` fresh addresses; return (messages/s while delivering, messages/s overall)."""
    root = workdir / f"site-{connections}"
    root.mkdir()
    shutil.copy(REPO / "lessonpress.toml", root)
    shutil.copytree(REPO / "lessons", root / "lessons")
    shutil.copytree(REPO / "data", root / "data")  # a lesson `covers:` a backlog topic
    listed = root / "subscribers.csv"
    listed.write_text("email,name\n" + "".join(f"reader{n}@example.org,Reader {n}\n" for n in range(recipients)), encoding="utf-8")
    marks: list[float] = []
    request = SendRequest(
        root=root, now=datetime.now(UTC), list_path=listed, lesson=LESSON,
        secret="bench", connections=connections,
    )
    started = time.perf_counter()
    report = send(request, SmtpSettings(host="127.0.0.1", port=port, implicit_tls=False), planned=lambda count: marks.append(time.perf_counter()))
    finished = time.perf_counter()
    if report.sent != recipients:
        raise SystemExit(f"only {report.sent} of {recipients} were sent: {report.summary()}")
    return recipients / (finished - marks[0]), recipients / (finished - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    port = free_port()
    server = start_sink(port)
    try:
        with tempfile.TemporaryDirectory() as folder:
            print(f"{args.recipients} recipients, lesson {LESSON}, aiosmtpd Sink on 127.0.0.1 (separate process)")
            for connections in args.connections:
                delivering, overall = one_run(Path(folder), args.recipients, connections, port)
                print(f"  {connections} connection{'s' if connections != 1 else ' '}: {delivering:7.1f} messages/s while delivering, {overall:7.1f} messages/s including the site render")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
