"""Token-manager figures, printed (never asserted): `make bench`.

Runs against a small threaded token server on loopback that rotates refresh tokens
(a used refresh token stops working), so the numbers include real HTTP and file I/O:

* tier-0 ``get_token()`` latency (a valid stored token: one stat, no network);
* forced tier-1 refresh latency (one POST /access_token plus an atomic store write);
* N processes starting together with an expired token: wall time, refreshes seen by the
  server (should be 1), total token requests.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"


class RotatingTokenServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.serial = itertools.count(1)
        self.valid_refresh = {"refresh-0"}
        self.refreshes = 0
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: RotatingTokenServer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        with self.server.lock:
            self.server.requests += 1
            refresh = (form.get("refresh_token") or [""])[0]
            body: dict[str, object]
            if self.path != "/access_token" or refresh not in self.server.valid_refresh:
                status, body = 400, {"message": "invalid_grant"}
            else:
                self.server.refreshes += 1
                self.server.valid_refresh.discard(refresh)
                n = next(self.server.serial)
                self.server.valid_refresh.add(f"refresh-{n}")
                status, body = (
                    200,
                    {
                        "access_token": f"access-{n}",
                        "expires_in": 1209600,
                        "refresh_token": f"refresh-{n}",
                        "refresh_token_expires_in": 7776000,
                    },
                )
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def write_config(directory: Path) -> Path:
    path = directory / "token-config.json"
    path.write_text(
        json.dumps(
            {
                "serviceApp": {
                    "appId": "bench-app",
                    "clientId": CLIENT_ID,
                    "clientSecret": CLIENT_SECRET,
                    "targetOrgId": "bench-org",
                }
            }
        )
    )
    path.chmod(0o600)
    return path


def seed_expired(store_path: Path, refresh: str) -> None:
    from byods_manager.tokens.store import TokenStore

    store = TokenStore(store_path)
    with store.locked() as data:
        entry = data.service_app("bench-app@bench-org")
        entry.set_pair("expired", time.time() - 60, refresh, None, "bench")
        store.save(data)


def current_refresh(store_path: Path) -> str:
    from byods_manager.tokens.store import TokenStore

    entry = TokenStore(store_path).load().service_apps["bench-app@bench-org"]
    return str(entry.refresh_token)


WORKER = """
import sys
from byods_manager.tokens.manager import TokenManager
TokenManager.from_config(sys.argv[1], base_url=sys.argv[2]).get_token()
"""


def bench_processes(
    count: int, config: Path, server: RotatingTokenServer, env: dict[str, str]
) -> None:
    store_path = Path(env["BYODS_TOKEN_STORE"])
    seed_expired(store_path, current_refresh(store_path))
    before_refreshes, before_requests = server.refreshes, server.requests
    started = time.perf_counter()
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(config), server.url], env=env)
        for _ in range(count)
    ]
    codes = [worker.wait() for worker in workers]
    elapsed = time.perf_counter() - started
    print(
        f"{count:3d} processes, expired token: {elapsed:6.2f} s wall (incl. interpreter start), "
        f"refreshes seen by server: {server.refreshes - before_refreshes}, "
        f"token requests: {server.requests - before_requests}, "
        f"failures: {sum(1 for c in codes if c)}"
    )


def main() -> None:
    server = RotatingTokenServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        store_path = directory / "tokens.json"
        os.environ["BYODS_TOKEN_STORE"] = str(store_path)
        config = write_config(directory)
        from byods_manager.tokens.manager import TokenManager

        seed_expired(store_path, "refresh-0")
        manager = TokenManager.from_config(config, base_url=server.url)
        manager.get_token()

        samples = []
        for _ in range(2000):
            started = time.perf_counter()
            manager.get_token()
            samples.append((time.perf_counter() - started) * 1e6)
        samples.sort()
        p50, p99 = samples[len(samples) // 2], samples[int(len(samples) * 0.99)]
        print(
            f"tier-0 get_token: mean {statistics.mean(samples):7.1f} us, "
            f"p50 {p50:7.1f} us, p99 {p99:7.1f} us "
            f"(2000 calls, 0 network requests: server saw {server.requests - 1} extra)"
        )

        refresh_samples = []
        for _ in range(50):
            started = time.perf_counter()
            manager.refresh(force=True)
            refresh_samples.append((time.perf_counter() - started) * 1e3)
        print(
            f"tier-1 forced refresh: mean {statistics.mean(refresh_samples):6.2f} ms, "
            f"max {max(refresh_samples):6.2f} ms (50 refreshes, POST + fsync'd atomic write)"
        )
        manager.close()

        env = {**os.environ, "PYTHONPATH": str(REPO)}
        for count in (8, 16):
            bench_processes(count, config, server, env)
    server.shutdown()


if __name__ == "__main__":
    main()
