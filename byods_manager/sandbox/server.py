"""HTTP plumbing: parse each request, apply injected trouble, dispatch, answer in JSON."""

from __future__ import annotations

import json
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .protocol import HttpProblem, Reply, Request, new_tracking_id

if TYPE_CHECKING:
    from .app import Sandbox

API_PREFIX = "/v1"
ADMIN_PREFIX = "/_sandbox"
MAX_BODY = 1_000_000


class SandboxHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
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

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the sandbox reports one safe line per request via its ``log`` hook."""

    def _read_request(self) -> Request:
        parts = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise HttpProblem(413, "Request body too large.")
        body = self.rfile.read(length) if length > 0 else b""
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in self.headers.items()}
        return Request(self.command, parts.path, query, headers, body)

    def _handle(self) -> None:
        sandbox = self.server.sandbox
        tracking_id = new_tracking_id()
        try:
            request = self._read_request()
            path = request.path
            if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
                reply = sandbox.admin.dispatch(request)
            elif path.startswith(API_PREFIX + "/"):
                request.path = path[len(API_PREFIX) :]
                reply = self._api(request)
            else:
                raise HttpProblem(404, "The requested resource could not be found.")
        except HttpProblem as problem:
            reply = Reply(problem.status, problem.body(tracking_id), problem.headers)
        except Exception as exc:  # a sandbox bug must still answer like a server would
            message = f"Internal sandbox error: {type(exc).__name__}"
            reply = Reply(500, HttpProblem(500, message).body(tracking_id))
        self._send(reply, tracking_id)
        sandbox.log_request(self.command, urllib.parse.urlsplit(self.path).path, reply.status)

    def _api(self, request: Request) -> Reply:
        """Count, delay, maybe fail (before or after doing the work), else answer."""
        sandbox = self.server.sandbox
        key, handler, params = sandbox.api.match(request.method, request.path)
        sandbox.stats.bump(key)
        plan = sandbox.faults
        if plan.latency_seconds > 0:
            time.sleep(plan.latency_seconds)
        fault = plan.take(request.method, request.path, after=False)
        if fault is None:
            reply = handler(request, params)
            fault = plan.take(request.method, request.path, after=True)
            if fault is None:
                return reply
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        raise HttpProblem(fault.status, f"Injected fault: HTTP {fault.status}", headers=headers)

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
        self.end_headers()
        if payload:
            self.wfile.write(payload)
