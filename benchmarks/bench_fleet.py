"""Fleet figures, printed (never asserted): `make bench`.

A small loopback Webex of its own runs in a child process (so the client's CPU time is
measured alone): ``/dataSources`` per bearer token (one token per org), a fixed latency per
request, and optionally a server-wide limit of R requests per 1 s window answered with 429
and ``Retry-After: 1``. The client is the library behind ``byods extend --all`` /
``--all-orgs`` (:func:`byods_manager.fleet.extend.extend_orgs` with a shared pacer):

* ``extend --all``: 1,000 data sources, 50 ms per round trip, 8 workers, against the latency
  bound ``(1 + 2N/8) x 50 ms``;
* the same under a 20 requests/s limit, against the rate bound ``2N / 20`` s (N smaller, to
  keep the run short), and the failed items (should be 0);
* ``--all-orgs``: 10 orgs x 100 data sources, one of them deauthorized (its token is
  refused), against ``(ceil(orgs/8) + 2N/8) x 50 ms``;
* client CPU per extended item.

With ``--sandbox`` (``make bench`` passes it) the ``--all-orgs`` case also runs against the
project's own sandbox (``Sandbox(orgs=10)``, ``set_latency(50)``, in a child process): real
tokens per org (each org added with ``Fleet.add``, one Applications-API mint each), real JWS
signing, one org deauthorized before the run. Its ratio to the same bound is printed with
the sandbox's request counts.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from byods_manager.auth import StaticTokenProvider  # noqa: E402
from byods_manager.client import DataSourceClient  # noqa: E402
from byods_manager.fleet.extend import extend_orgs  # noqa: E402
from byods_manager.fleet.pacing import SharedPacer  # noqa: E402
from byods_manager.http import HttpClient  # noqa: E402
from byods_manager.jws import b64url_encode  # noqa: E402

LATENCY = 0.05
WORKERS = 8
SCHEMA_ID = "78efc775-dccb-45ca-9acf-989a4a59f788"


def _jws(claims: dict[str, Any]) -> str:
    head = b64url_encode(json.dumps({"alg": "RS256", "kid": "bench"}).encode())
    return f"{head}.{b64url_encode(json.dumps(claims).encode())}.{b64url_encode(b'sig' * 80)}"


def _data_source(org: str) -> dict[str, Any]:
    now = int(time.time())
    ds_id = str(uuid.uuid4())
    claims = {"aud": "bench", "sub": "calls", "iat": now, "exp": now + 3600, "jti": "n"}
    return {
        "id": ds_id,
        "orgId": org,
        "jwsToken": _jws(claims),
        "status": "active",
        "audience": "bench",
        "subject": "calls",
        "schemaId": SCHEMA_ID,
        "url": "https://dap.example/ingest",
        "nonce": "n",
        "tokenLifetimeMinutes": 60,
    }


def serve(orgs: dict[str, int], revoked: list[str], limit: int | None, conn: Any) -> None:
    """The child process: a threaded loopback server until the parent closes the pipe."""
    data = {
        org: {d["id"]: d for d in (_data_source(org) for _ in range(n))} for org, n in orgs.items()
    }
    tokens = {f"token-{org}": org for org in orgs if org not in revoked}
    lock = threading.Lock()
    window = {"start": 0.0, "count": 0, "refused": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            time.sleep(LATENCY)
            org = tokens.get(self.headers.get("Authorization", "")[7:])
            if org is None:
                return self._send(401, {"message": "invalid token"})
            with lock:
                if limit is not None:
                    now = time.monotonic()
                    if now - window["start"] >= 1.0:
                        window["start"], window["count"] = now, 0
                    window["count"] += 1
                    if window["count"] > limit:
                        window["refused"] += 1
                        return self._send(429, {"message": "slow down"}, {"Retry-After": "1"})
                if self.path.rstrip("/") == "/dataSources":
                    return self._send(200, {"items": list(data[org].values())})
                item = data[org].get(self.path.rsplit("/", 1)[1])
                if item is None:
                    return self._send(404, {"message": "not found"})
                if self.command == "PUT" and isinstance(body, dict):
                    item.update(body)
                return self._send(200, item)

        do_GET = do_PUT = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send(server.server_address[1])
    conn.recv()  # the parent asks for the count of 429s, then we stop
    conn.send(window["refused"])
    server.shutdown()


def run(
    orgs: dict[str, int], revoked: list[str] = (), limit: int | None = None
) -> dict[str, float]:  # type: ignore[assignment]
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=serve, args=(orgs, list(revoked), limit, child))
    process.start()
    port = parent.recv()
    base = f"http://127.0.0.1:{port}"
    pacer = SharedPacer()

    def factory(org: str) -> DataSourceClient:
        provider = StaticTokenProvider(f"token-{org}")
        return DataSourceClient(HttpClient(base, provider, pacer=pacer))

    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = extend_orgs(factory, [(o, o) for o in orgs], concurrency=WORKERS)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    parent.send("done")
    refused = parent.recv()
    process.join()
    return {
        "wall": wall,
        "cpu": cpu,
        "extended": result.count("extended"),
        "failed": result.count("failed"),
        "org_failures": len(result.org_failures),
        "refused": refused,
    }


def report(name: str, figures: dict[str, float], bound: float) -> None:
    per_item = figures["cpu"] / max(1, figures["extended"]) * 1000
    ratio = figures["wall"] / bound
    print(
        f"{name}: {figures['wall']:.2f} s, bound {bound:.2f} s, ratio {ratio:.3f} "
        f"(target <= 1.15); extended {figures['extended']:.0f}, failed {figures['failed']:.0f}, "
        f"orgs failed {figures['org_failures']:.0f}, 429s {figures['refused']:.0f}, "
        f"client CPU {per_item:.2f} ms/item"
    )


def sandbox_child(orgs: int, per_org: int, conn: Any) -> None:
    """The child process: a started ``Sandbox(orgs=...)`` with ``per_org`` data sources in
    each org, driven by the parent's messages until ``stop``."""
    import requests

    from byods_manager.sandbox import Sandbox

    with Sandbox(orgs=orgs) as box, requests.Session() as session:
        for org in box.org_ids:
            session.headers["Authorization"] = "Bearer " + box.issue_access_token(
                "service_app", org_id=org
            )
            for n in range(per_org):
                body = {
                    "url": f"https://dap.example/{n}",
                    "schemaId": SCHEMA_ID,
                    "audience": f"bench{n}",
                    "subject": "calls",
                    "nonce": str(uuid.uuid4()),
                    "tokenLifetimeMinutes": 60,
                }
                session.post(box.base_url + "/dataSources", json=body, timeout=30)
        conn.send((box.base_url, box.config_data(), box.org_ids))
        cpu_from = time.process_time()
        while True:
            message, argument = conn.recv()
            if message == "stop":
                return
            if message == "deauthorize":
                box.deauthorize_org(argument)
            elif message == "latency":
                box.set_latency(argument)
            elif message == "reset":
                box.reset()
                cpu_from = time.process_time()
            if message == "stats":
                conn.send({**box.stats_snapshot(), "cpuSeconds": time.process_time() - cpu_from})
            else:
                conn.send(None)


def run_sandbox(orgs: int, per_org: int) -> tuple[dict[str, float], dict[str, Any]]:
    """``extend --all-orgs`` through :class:`Fleet` against the sandbox in a child process."""
    from byods_manager.fleet.orgs import Fleet
    from byods_manager.tokens.config import load_config
    from byods_manager.tokens.store import TokenStore

    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=sandbox_child, args=(orgs, per_org, child))
    process.start()
    base_url, config_data, org_ids = parent.recv()

    def ask(message: str, argument: Any = None) -> Any:
        parent.send((message, argument))
        return parent.recv()

    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "token-config.json"
        config_path.write_text(json.dumps(config_data))
        config_path.chmod(0o600)
        fleet = Fleet(
            load_config(config_path), base_url=base_url, store=TokenStore(Path(tmp) / "t.json")
        )
        fleet.token_manager(org_ids[0]).get_token()
        for org in org_ids[1:]:
            fleet.add(org)
        ask("deauthorize", org_ids[3])
        ask("reset")  # counters (and latency) from here
        ask("latency", LATENCY * 1000)
        pacer = SharedPacer()

        def factory(org: str) -> DataSourceClient:
            return fleet.client_for_org(org, pacer=pacer)

        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = extend_orgs(factory, [(o, o) for o in org_ids], concurrency=WORKERS)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        stats = ask("stats")
        fleet.close()
    parent.send(("stop", None))
    process.join()
    figures = {
        "wall": wall,
        "cpu": cpu,
        "extended": result.count("extended"),
        "failed": result.count("failed"),
        "org_failures": len(result.org_failures),
        "refused": 0,
    }
    return figures, stats


def main() -> None:
    parser = argparse.ArgumentParser(description="Fleet figures (printed, never asserted).")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="also run --all-orgs 10 x 100 against the project's sandbox (latency 50 ms)",
    )
    parser.add_argument("--sandbox-only", action="store_true", help="run only the sandbox case")
    options = parser.parse_args()
    if not options.sandbox_only:
        bench_fake_server()
    if options.sandbox or options.sandbox_only:
        bench_sandbox()


def bench_sandbox() -> None:
    orgs, per_org = 10, 100
    figures, stats = run_sandbox(orgs, per_org)
    extended = per_org * (orgs - 1)
    bound = (math.ceil(orgs / WORKERS) + 2 * extended / WORKERS) * LATENCY
    report(f"sandbox extend --all-orgs, {orgs} orgs x {per_org} (one deauthorized)", figures, bound)
    seen = stats["requests"]
    puts = seen.get("PUT /dataSources/{id}", 0)
    token_calls = sum(count for route, count in seen.items() if "token" in route)
    print(
        f"  sandbox counted: {puts} PUT, {seen.get('GET /dataSources/{id}', 0)} GET by id, "
        f"{seen.get('GET /dataSources', 0)} list pages, {token_calls} token requests; "
        f"sandbox CPU {stats['cpuSeconds']:.2f} s (JWS signing, one process: when it nears the "
        "wall time, the server, not the client, sets the pace)"
    )


def bench_fake_server() -> None:
    n = 1000
    figures = run({"org-1": n})
    report(
        f"extend --all, {n} data sources, {LATENCY * 1000:.0f} ms, {WORKERS} workers",
        figures,
        (1 + 2 * n / WORKERS) * LATENCY,
    )

    n_rate, limit = 300, 20
    figures = run({"org-1": n_rate}, limit=limit)
    report(
        f"extend --all, {n_rate} data sources, server limit {limit} req/s",
        figures,
        2 * n_rate / limit,
    )

    orgs = {f"org-{i:02d}": 100 for i in range(10)}
    figures = run(orgs, revoked=("org-03",))
    extended = 100 * (len(orgs) - 1)
    bound = (math.ceil(len(orgs) / WORKERS) + 2 * extended / WORKERS) * LATENCY
    report("extend --all-orgs, 10 orgs x 100 (one deauthorized)", figures, bound)


if __name__ == "__main__":
    main()
