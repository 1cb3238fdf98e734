"""A one-shot loopback HTTP server that receives the authorization redirect.

It listens on the redirect URI's port on the loopback interface only (on every address
``localhost`` resolves to, or not at all), accepts only a
callback whose ``state`` matches this run (others get a 400 page and the wait goes on),
and never puts a token or code on a page or in a log line.
"""

from __future__ import annotations

import contextlib
import errno
import html
import ipaddress
import queue
import socket
import socketserver
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .redirect import (
    AuthorizationDenied,
    AuthorizationTimeout,
    MalformedRedirect,
    RedirectTarget,
    code_from_query,
)

# A browser may open idle speculative connections; never let one block the server.
REQUEST_READ_TIMEOUT = 10.0


class CallbackUnavailable(Exception):
    """The wizard cannot listen for the redirect itself (port taken, non-loopback URI)."""


# What a handler hands to the waiting thread: the code, or the denial to raise.
_Outcome = str | AuthorizationDenied


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        family: socket.AddressFamily,
        *,
        target: RedirectTarget,
        expected_state: str,
        outcomes: queue.Queue[_Outcome],
    ) -> None:
        self.address_family = family
        self.target = target
        self.expected_state = expected_state
        self.outcomes = outcomes
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse-DNS lookup of the address (it can stall)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family: sans-serif; margin: 3em'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(body)}</p></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_READ_TIMEOUT
    server_version = "byods-setup"
    sys_version = ""

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        if parts.path != self.server.target.path:
            self._reply(404, "Not found", "This address is not the setup callback.")
            return
        params = urllib.parse.parse_qs(parts.query)
        try:
            code = code_from_query(params, self.server.expected_state)
        except AuthorizationDenied as denied:
            self._reply(
                200,
                "Authorization not granted",
                f"Webex answered: {denied.error}. Return to the terminal for details.",
            )
            self.server.outcomes.put(denied)
            return
        except MalformedRedirect as exc:
            self._reply(
                400,
                "Unexpected authorization response",
                f"{exc}. If a setup is running, finish it from the browser tab it opened.",
            )
            return
        self._reply(
            200,
            "Authorization complete",
            "You can close this tab and return to the terminal.",
        )
        self.server.outcomes.put(code)

    def _reply(self, status: int, title: str, body: str) -> None:
        content = _page(title, body)
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default access log: its request line carries the code."""


def _bind_addresses(target: RedirectTarget) -> list[tuple[str, socket.AddressFamily]]:
    """Every address the redirect host names. For ``localhost`` that is whatever it
    resolves to (often 127.0.0.1 and ::1): listening on only one would let another local
    process take the other and receive the code. Each must be a loopback address."""
    if target.host == "::1":
        return [("::1", socket.AF_INET6)]
    if target.host == "127.0.0.1":
        return [("127.0.0.1", socket.AF_INET)]
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise CallbackUnavailable(f"cannot resolve {target.host} ({exc})") from None
    addresses: list[tuple[str, socket.AddressFamily]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        if not ipaddress.ip_address(address).is_loopback:
            raise CallbackUnavailable(
                f"{target.host} resolves to {address}, not a loopback address"
            )
        if (address, family) not in addresses:
            addresses.append((address, family))
    if not addresses:
        raise CallbackUnavailable(f"{target.host} resolves to no address")
    return addresses


class CallbackServer:
    """Listens for the redirect; use as a context manager, then call :meth:`wait`."""

    def __init__(self, target: RedirectTarget, expected_state: str) -> None:
        if not target.listenable:
            raise CallbackUnavailable(
                f"{target.uri} is not a plain-http loopback address the wizard can listen on"
            )
        self.target = target
        self._servers: list[_Server] = []
        self._running: list[tuple[_Server, threading.Thread]] = []
        self._outcomes: queue.Queue[_Outcome] = queue.Queue()
        try:
            for address, family in _bind_addresses(target):
                try:
                    server = _Server(
                        (address, target.port),
                        family,
                        target=target,
                        expected_state=expected_state,
                        outcomes=self._outcomes,
                    )
                except OSError as exc:
                    raise CallbackUnavailable(_bind_problem(address, target, exc)) from None
                self._servers.append(server)
        except BaseException:
            self.close()
            raise

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """The (host, port) pairs listened on: loopback addresses only."""
        return [(str(s.server_address[0]), int(s.server_address[1])) for s in self._servers]

    def __enter__(self) -> CallbackServer:
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="byods-oauth-callback",
                daemon=True,
            )
            thread.start()
            self._running.append((server, thread))
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def wait(self, timeout: float) -> str:
        """Block until a matching callback arrives; return its code."""
        deadline = time.monotonic() + timeout
        remaining = timeout
        while remaining > 0:
            try:
                outcome = self._outcomes.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                remaining = deadline - time.monotonic()
                continue
            if isinstance(outcome, AuthorizationDenied):
                raise outcome
            return outcome
        raise AuthorizationTimeout(
            f"no authorization arrived at {self.target.uri} within {timeout:g}s "
            "(use --timeout to wait longer, or --manual to paste the redirected URL)"
        )

    def close(self) -> None:
        for server, thread in self._running:
            server.shutdown()
            thread.join(timeout=2)
        for server in self._servers:
            with contextlib.suppress(OSError):
                server.server_close()
        self._running.clear()
        self._servers.clear()


def _bind_problem(address: str, target: RedirectTarget, exc: OSError) -> str:
    where = f"[{address}]:{target.port}" if ":" in address else f"{address}:{target.port}"
    if exc.errno == errno.EADDRINUSE:
        return f"port {target.port} is already in use (on {where})"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {target.port}"
    return f"cannot listen on {where} ({exc.strerror or exc})"
