"""The service's HTTP listener: ``GET /metrics``, ``GET /healthz`` and room for more routes.

Routes are registered with :meth:`Listener.route`; the Webex webhook receiver
(``POST /webhooks/service-app``) plugs in the same way. Handlers get the raw body and
the request headers and return a :class:`Response`; they run on the listener's threads.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..errors import InputError

DEFAULT_LISTEN = "127.0.0.1:9464"
MAX_BODY_BYTES = 1_000_000


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any) -> Response:
        return cls(status, (json.dumps(data) + "\n").encode("utf-8"))


Handler = Callable[[bytes, Mapping[str, str]], Response]


def parse_listen(value: str) -> tuple[str, int] | None:
    """``HOST:PORT`` (``[::1]:9464`` for IPv6) -> (host, port); ``''`` -> None (disabled)."""
    text = value.strip()
    if not text:
        return None
    host, separator, port_text = text.rpartition(":")
    if not separator or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise InputError(f"invalid --listen {value!r}: use HOST:PORT, e.g. {DEFAULT_LISTEN}")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port_text)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], routes: dict[tuple[str, str], Handler]) -> None:
        self.routes = routes
        if ":" in address[0]:
            import socket

            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "byods-keepalive"
    sys_version = ""
    timeout = 10
    # Headers and body leave in one write; otherwise Nagle + delayed ACK add ~40 ms.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: scrapes every few seconds would drown the event log."""

    def _dispatch(self) -> None:
        path = self.path.split("?", 1)[0]
        handler = self.server.routes.get((self.command, path))
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            response = Response.json(413, {"error": "request body too large"})
        elif handler is None:
            known = any(route_path == path for _, route_path in self.server.routes)
            status = 405 if known else 404
            response = Response.json(
                status, {"error": "not found" if status == 404 else "method not allowed"}
            )
        else:
            body = self.rfile.read(length) if length > 0 else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                response = handler(body, headers)
            except Exception as exc:  # a handler bug must not kill the listener thread
                response = Response.json(500, {"error": type(exc).__name__})
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)


class Listener:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.requested_port = port
        self._routes: dict[tuple[str, str], Handler] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Serve ``method path`` with ``handler`` (register before or after start)."""
        self._routes[(method.upper(), path)] = handler

    def start(self) -> None:
        try:
            self._server = _Server((self.host, self.requested_port), self._routes)
        except OSError as exc:
            raise InputError(
                f"cannot listen on {self.host}:{self.requested_port}: {exc.strerror}"
            ) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="byods-listener",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        assert self._server is not None, "the listener is not started"
        return int(self._server.server_address[1])

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
