"""HTTP plumbing: read each request safely, hand it to a :class:`Responder`, answer in JSON.

It knows nothing about Webex or the sandbox: whatever implements :class:`Responder`
(the :class:`~byods_manager.sandbox.app.Sandbox`) decides every answer.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from .protocol import HttpProblem, Reply, Request, new_tracking_id

MAX_BODY = 1_000_000
MAX_CHUNK_LINE = 1024


class Responder(Protocol):
    def respond(self, request: Request) -> Reply: ...
    def log_request(self, method: str, path: str, status: int) -> None: ...


def loopback_host(value: str) -> bool:
    """Whether a ``Host`` header names this machine (``localhost``, 127.x, ``[::1]``)."""
    host = value.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else ""
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SandboxHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], responder: Responder) -> None:
        self.responder = responder
        super().__init__(address, SandboxHandler)


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "byods-sandbox"
    sys_version = ""
    timeout = 30
    # Headers and body leave in one write; otherwise Nagle + delayed ACK add ~40 ms.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: SandboxHttpServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._refuse_method()

    def do_OPTIONS(self) -> None:
        self._refuse_method()

    def do_TRACE(self) -> None:
        self._refuse_method()

    def do_CONNECT(self) -> None:
        self._refuse_method()

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the sandbox reports one safe line per request via its ``log`` hook."""

    def _refuse_method(self) -> None:
        self.close_connection = True  # any body it sent is left unread
        problem = HttpProblem(405, "Method Not Allowed")
        self._reply_problem(problem, new_tracking_id())

    def _body(self) -> bytes:
        encoding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        if encoding:
            if encoding != "chunked":
                raise HttpProblem(411, "Length Required: send Content-Length or a chunked body.")
            return self._chunked_body()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        if not raw.strip().isdigit():
            raise HttpProblem(400, "Malformed Content-Length header.")
        length = int(raw)
        if length > MAX_BODY:
            raise HttpProblem(413, "Request body too large.")
        return self.rfile.read(length) if length > 0 else b""

    def _chunked_body(self) -> bytes:
        body = b""
        while True:
            line = self.rfile.readline(MAX_CHUNK_LINE)
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise HttpProblem(400, "Malformed chunked body.") from None
            if size < 0 or len(body) + size > MAX_BODY:
                raise HttpProblem(413, "Request body too large.")
            if size == 0:
                while self.rfile.readline(MAX_CHUNK_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return body
            body += self.rfile.read(size)
            if self.rfile.readline(MAX_CHUNK_LINE) not in (b"\r\n", b"\n"):
                raise HttpProblem(400, "Malformed chunked body.")

    def _read_request(self) -> Request:
        host = self.headers.get("Host")
        if host is not None and not loopback_host(host):
            raise HttpProblem(403, "The sandbox answers only requests addressed to loopback.")
        parts = urllib.parse.urlsplit(self.path)
        body = self._body()
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in self.headers.items()}
        return Request(self.command, parts.path, query, headers, body)

    def _handle(self) -> None:
        responder = self.server.responder
        tracking_id = new_tracking_id()
        try:
            request = self._read_request()
        except HttpProblem as problem:
            self.close_connection = True  # the body may be unread or misread
            self._reply_problem(problem, tracking_id)
            responder.log_request(self.command, "(refused)", problem.status)
            return
        try:
            reply = responder.respond(request)
        except HttpProblem as problem:
            reply = Reply(problem.status, problem.body(tracking_id), problem.headers)
        except Exception as exc:  # a sandbox bug must still answer like a server would
            message = f"Internal sandbox error: {type(exc).__name__}"
            reply = Reply(500, HttpProblem(500, message).body(tracking_id))
        self._send(reply, tracking_id)
        responder.log_request(self.command, request.path, reply.status)

    def _reply_problem(self, problem: HttpProblem, tracking_id: str) -> None:
        self._send(Reply(problem.status, problem.body(tracking_id), problem.headers), tracking_id)

    def _send(self, reply: Reply, tracking_id: str) -> None:
        payload = b""
        if reply.body is not None and reply.status != 204:
            payload = json.dumps(reply.body).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("TrackingID", tracking_id)
        if payload:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
