"""A minimal loopback HTTP server for the webhook receiver: ``POST /webhooks/service-app``.

For tests and for running the receiver on its own; the keep-alive listener can route the
same path to :meth:`WebhookReceiver.handle` instead. Bodies larger than the receiver's
limit are refused from ``Content-Length`` before they are read.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..base_url import is_loopback_host
from ..errors import ConfigError
from .onboarding import WebhookReceiver

WEBHOOK_PATH = "/webhooks/service-app"
DRAIN_LIMIT = 1024 * 1024


class OnboardingHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], receiver: WebhookReceiver) -> None:
        self.receiver = receiver
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host_text}]" if ":" in host_text else host_text
        return f"http://{shown}:{port}{WEBHOOK_PATH}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "byods-onboarding"
    sys_version = ""
    timeout = 30
    server: OnboardingHttpServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: request lines may be noisy and bodies are never logged."""

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != WEBHOOK_PATH:
            self._reply(404, {"error": "not found"})
            return
        raw_length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or raw_length is None:
            self._reply(411, {"error": "send a Content-Length"}, close=True)
            return
        if not raw_length.strip().isdigit():
            self._reply(400, {"error": "malformed Content-Length"}, close=True)
            return
        length = int(raw_length)
        receiver = self.server.receiver
        if length > receiver.max_body_bytes:
            # Read (and drop) a moderately large body so the client sees the answer rather
            # than a reset; anything bigger is cut off.
            if length <= DRAIN_LIMIT:
                self._discard(length)
            self._reply(413, {"error": "body too large"}, close=True)
            return
        body = self.rfile.read(length) if length else b""
        status, answer = receiver.handle(body, dict(self.headers.items()))
        self._reply(status, answer)

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 64 * 1024))
            if not chunk:
                return
            length -= len(chunk)

    def do_GET(self) -> None:
        self._reply(405, {"error": "method not allowed"}, allow="POST")

    def _reply(
        self, status: int, body: dict[str, Any], *, close: bool = False, allow: str = ""
    ) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if allow:
            self.send_header("Allow", allow)
        if close:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


def _check_loopback(host: str) -> None:
    if not is_loopback_host(host):
        raise ConfigError(
            f"the stand-alone webhook server binds loopback only, not {host!r}; "
            "put a reverse proxy with HTTPS in front of it"
        )


@contextlib.contextmanager
def serve_onboarding(
    receiver: WebhookReceiver, host: str = "127.0.0.1", port: int = 0
) -> Iterator[OnboardingHttpServer]:
    """Serve ``receiver`` on a background thread for the duration of the block; on exit,
    stop listening and let the receiver finish the events it accepted."""
    _check_loopback(host)
    server = OnboardingHttpServer((host, port), receiver)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="byods-onboarding-http",
        daemon=True,
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        receiver.close()
