"""Benchmark: requests per second that `lessonpress endpoint` (waitress, 4 threads) answers for one-click unsubscribe POSTs.

Run from the repository root:  python bench/endpoint.py [--requests 2000] [--clients 1 4]
Each POST names a different reader, so each is verified and handed to the list as one SMTP message to
aiosmtpd's Sink (its own process); the endpoint runs in its own process too, as in production. A second
figure repeats one reader's POST: the endpoint answers it without mail (a replay), which is the ceiling
of the HTTP side alone.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from send_rate import REPO, free_port, start_sink

from lessonpress.send.personal import unsubscribe_link

SECRET = "bench"
PUBLIC = "https://letters.example.org/list"
BODY = b"List-Unsubscribe=One-Click"
HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def site(folder: Path) -> Path:
    root = folder / "site"
    root.mkdir()
    shutil.copy(REPO / "lessonpress.toml", root)
    shutil.copytree(REPO / "lessons", root / "lessons")
    if (REPO / "data").is_dir():
        shutil.copytree(REPO / "data", root / "data")
    with (root / "lessonpress.toml").open("a", encoding="utf-8") as config:
        config.write(f'\n[list]\naddress = "letters@retention.example.org"\nendpoint = "{PUBLIC}"\n')
    return root


def post_all(port: int, paths: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for path in paths:
        connection.request("POST", path, BODY, HEADERS)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"POST {path} answered {response.status}")
    connection.close()


def rate(port: int, paths: list[str], clients: int) -> float:
    """Requests per second for `paths` POSTed over `clients` keep-alive connections at once."""
    shares = [paths[index::clients] for index in range(clients)]
    threads = [threading.Thread(target=post_all, args=(port, share)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(paths) / (time.perf_counter() - started)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    smtp_port = free_port()
    sink = start_sink(smtp_port)
    with tempfile.TemporaryDirectory() as folder:
        environment = {**os.environ, "LESSONPRESS_SECRET": SECRET, "LESSONPRESS_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "PYTHONUNBUFFERED": "1"}
        endpoint = subprocess.Popen(
            [sys.executable, "-m", "lessonpress", "-C", str(site(Path(folder))), "endpoint", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=environment,  # waitress logs "Task queue depth" while all threads are busy
        )
        try:
            assert endpoint.stdout is not None
            port = int(endpoint.stdout.readline().split("http://127.0.0.1:")[1].split("/")[0])
            print(f"{args.requests} one-click POSTs to lessonpress endpoint (waitress, 4 threads), hand-offs to aiosmtpd Sink on 127.0.0.1")
            for clients in args.clients:
                paths = [path_of(unsubscribe_link(f"{PUBLIC}/unsubscribe", SECRET, f"c{clients}-reader{n}@example.org")) for n in range(args.requests)]
                handed = rate(port, paths, clients)
                repeated = rate(port, [paths[0]] * args.requests, clients)
                print(f"  {clients} client{'s' if clients != 1 else ' '}: {handed:7.1f} requests/s, each handed off by SMTP; {repeated:7.1f} requests/s for a replayed one (no mail)")
        finally:
            endpoint.terminate()
            endpoint.wait()
            sink.terminate()
            sink.wait()


if __name__ == "__main__":
    main()
