"""Serve the endpoint with waitress: a production WSGI server in pure Python, so it runs wherever lessonpress does."""

from __future__ import annotations

from collections.abc import Callable

from waitress.server import MultiSocketServer, TcpWSGIServer, create_server

from .app import EndpointApp

HEADER_LIMIT = 16 * 1024  # a request line and headers; a proxy's are well under it
BODY_LIMIT = 64 * 1024  # waitress refuses larger bodies itself (413); the app reads at most settings.BODY_LIMIT
IDLE_SECONDS = 30


def make_server(app: EndpointApp, host: str, port: int, *, trusted_proxy: str = "", threads: int = 4) -> TcpWSGIServer:
    """Bind the server (port 0 picks a free one: see `.effective_port`) without starting to serve."""
    # Only from the trusted proxy is X-Forwarded-For believed: it says which client a proxied request came from, for the per-client limit.
    server = create_server(
        app, host=host, port=port, threads=threads, ident="lessonpress", max_request_header_size=HEADER_LIMIT,
        max_request_body_size=BODY_LIMIT, channel_timeout=IDLE_SECONDS, expose_tracebacks=False,
        trusted_proxy=trusted_proxy or None, trusted_proxy_headers={"x-forwarded-for"} if trusted_proxy else None, clear_untrusted_proxy_headers=True,
    )
    assert isinstance(server, TcpWSGIServer) and not isinstance(server, MultiSocketServer)  # one host and one port make one TCP socket
    return server


def serve(server: TcpWSGIServer, ready: Callable[[], None]) -> None:
    """Serve until interrupted (Ctrl-C, or SIGTERM turned into SystemExit by the command)."""
    ready()
    try:
        server.run()
    finally:
        server.close()


def bound_port(server: TcpWSGIServer) -> int:
    """The port the server listens on (the one the system picked for port 0)."""
    assert server.socket is not None  # bound by make_server
    return int(server.socket.getsockname()[1])
