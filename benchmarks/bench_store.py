"""Store figures, printed (never asserted): `make bench`.

Starts a private PostgreSQL server from the ``pgserver`` wheel (Unix socket, so network
latency to a real database server comes on top) and the project's Webex sandbox:

* token read latency: ``store.load()`` and a tier-0 ``get_token()`` on the file store and
  on PostgreSQL;
* refreshes per expiry: 2 "hosts" (separate HOME and config dirs) x 10 processes start
  together with an expired token in one PostgreSQL store; the sandbox counts refreshes;
* two orgs refreshing at once: one process, one thread per org, both with an expired
  token; a token endpoint that takes :data:`REFRESH_SECONDS` per refresh counts how many
  refreshes it had in flight at once (the file store's one lock serialises them; PostgreSQL
  locks each credential on its own);
* lease takeover time: a replica holding a lease (TTL 2 s, renewed every 0.5 s) is
  SIGKILLed; another polls every 50 ms; time from the kill to the takeover;
* keepalive replica takeover: two `byods keepalive --lease 3s` replicas on one PostgreSQL
  store; the org's owner is SIGKILLed; time until the other logs ``took_over`` (held
  leases are renewed by a heartbeat every third of a lease, passes or not);
* passes longer than the lease: the same two replicas while every pass extends six data
  sources through a slow sandbox (each pass several times the lease); ownership changes
  while the owner is alive (each one lets a second replica extend in the same window) and
  the sandbox's PUTs made outside the window of the token they replaced.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from byods_manager.sandbox import Sandbox  # noqa: E402
from byods_manager.stores.select import open_store  # noqa: E402
from byods_manager.tokens.config import load_config  # noqa: E402
from byods_manager.tokens.manager import TokenManager  # noqa: E402

READS = 500
ROUNDS = 3
HOSTS, PROCESSES = 2, 10
LEASE_TTL = 2.0
REPLICA_LEASE = 3.0
LONG_PASS_DATA_SOURCES = 6
LONG_PASS_LATENCY_MS = 300
LONG_PASS_SECONDS = 20.0
SCHEMA = "5397013b-7920-4ffc-807c-e8a3e0a18f43"
SERVICE_APP_REFRESH = "POST /access_token [refresh_token:service_app]"
REFRESH_SECONDS = 0.3

WORKER = """
import sys, time
from pathlib import Path
from byods_manager.tokens.manager import TokenManager
manager = TokenManager.from_config(sys.argv[1], base_url=sys.argv[2])
manager.store.load()
Path(sys.argv[3]).touch()
while not Path(sys.argv[4]).exists():
    time.sleep(0.002)
manager.get_token()
"""

HOLDER = """
import sys, time
from byods_manager.stores.select import open_store
store = open_store(sys.argv[1])
ttl = float(sys.argv[2])
assert store.acquire_lease("org:bench", "replica-a", ttl)
print("owned", flush=True)
while True:
    time.sleep(ttl / 4)
    store.renew_lease("org:bench", "replica-a", ttl)
"""


def new_database(admin_url: str) -> str:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.replace("/postgres?", f"/{name}?", 1)


def timed(action: Callable[[], object], n: int) -> tuple[float, float]:
    """(median, p95) in milliseconds."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def read_latency(sandbox: Sandbox, work: Path, pg_url: str) -> None:
    config = sandbox.write_config(work / "token-config.json")
    print(f"Token read latency ({READS} reads, warm; median / p95 ms):")
    for label, location in (("file", str(work / "tokens.json")), ("postgres", pg_url)):
        manager = TokenManager.from_config(config, base_url=sandbox.base_url, store=location)
        manager.refresh()
        load = timed(manager.store.load, READS)
        token = timed(manager.get_token, READS)
        with_lock = timed(lambda m=manager: _lock_once(m), 50)
        print(
            f"  {label:9} load() {load[0]:6.3f} / {load[1]:6.3f}   "
            f"get_token() {token[0]:6.3f} / {token[1]:6.3f}   "
            f"lock+re-read {with_lock[0]:6.3f} / {with_lock[1]:6.3f}"
        )
        manager.store.close()
        manager.close()


def _lock_once(manager: TokenManager) -> None:
    with manager.store.locked():
        pass


def refreshes_per_expiry(sandbox: Sandbox, work: Path, admin_url: str) -> None:
    print(f"Refreshes per expiry, {HOSTS} hosts x {PROCESSES} processes, one PostgreSQL store:")
    config_text = json.dumps(sandbox.config_data())
    for round_number in range(1, ROUNDS + 1):
        pg_url = new_database(admin_url)
        homes = []
        for host in range(HOSTS):
            home = work / f"round-{round_number}" / f"host-{host}"
            config = home / "token-config.json"
            config.parent.mkdir(parents=True)
            config.write_text(config_text)
            config.chmod(0o600)
            homes.append((home, config))
        first = TokenManager.from_config(homes[0][1], base_url=sandbox.base_url, store=pg_url)
        first.refresh()
        with first.store.locked() as data:
            for entry in data.service_apps.values():
                entry.expires_at = time.time() - 60
            first.store.save(data)
        first.store.close()
        before = sandbox.stats_snapshot()["requests"].get(SERVICE_APP_REFRESH, 0)
        go = work / f"go-{round_number}"
        ready, workers = [], []
        for host, (home, config) in enumerate(homes):
            env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(home), "BYODS_STORE": pg_url}
            env["XDG_STATE_HOME"] = str(home / "state")
            for n in range(PROCESSES):
                ready.append(work / f"ready-{round_number}-{host}-{n}")
                workers.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-c",
                            WORKER,
                            str(config),
                            sandbox.base_url,
                            str(ready[-1]),
                            str(go),
                        ],
                        env=env,
                    )
                )
        while not all(path.exists() for path in ready):
            time.sleep(0.01)
        start = time.perf_counter()
        go.touch()
        codes = [w.wait() for w in workers]
        wall = time.perf_counter() - start
        after = sandbox.stats_snapshot()["requests"].get(SERVICE_APP_REFRESH, 0)
        print(
            f"  round {round_number}: {after - before} refresh(es) for {len(workers)} processes, "
            f"all got a token in {wall:.2f} s, exit codes {sorted(set(codes))}"
        )


class SlowTokenEndpoint(ThreadingHTTPServer):
    """``POST /access_token`` answering every refresh after :data:`REFRESH_SECONDS`, and
    counting the most refreshes it had in flight at once."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SlowHandler)
        self.guard = threading.Lock()
        self.in_flight = self.most_in_flight = self.served = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _SlowHandler(BaseHTTPRequestHandler):
    server: SlowTokenEndpoint

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        endpoint = self.server
        with endpoint.guard:
            endpoint.in_flight += 1
            endpoint.most_in_flight = max(endpoint.most_in_flight, endpoint.in_flight)
            endpoint.served += 1
            serial = endpoint.served
        time.sleep(REFRESH_SECONDS)
        with endpoint.guard:
            endpoint.in_flight -= 1
        body = json.dumps(
            {
                "access_token": f"bench-access-{serial}",
                "expires_in": 3600,
                "refresh_token": f"bench-refresh-{serial}",
                "refresh_token_expires_in": 86400,
                "token_type": "Bearer",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def two_orgs_at_once(work: Path, admin_url: str) -> None:
    print(
        f"2 orgs refreshing at once (one thread each, {REFRESH_SECONDS:g} s per refresh at "
        "the token endpoint):"
    )
    orgs = ("org-a", "org-b")
    for label, location in (
        ("file", str(work / "two-orgs.json")),
        ("postgres", new_database(admin_url)),
    ):
        endpoint = SlowTokenEndpoint()
        threading.Thread(target=endpoint.serve_forever, daemon=True).start()
        store = open_store(location)
        managers = []
        with store.locked() as data:
            for org in orgs:
                entry = data.service_app(f"bench-app@{org}")
                entry.set_pair(f"old-{org}", time.time() - 60, f"seed-{org}", None, "bench")
            store.save(data)
        for org in orgs:
            config = work / f"{label}-{org}.json"
            service = {"appId": "bench-app", "clientId": "c", "clientSecret": "s"}
            config.write_text(json.dumps({"serviceApp": {**service, "targetOrgId": org}}))
            config.chmod(0o600)
            managers.append(
                TokenManager(load_config(config), base_url=endpoint.base_url, store=store)
            )
        start = time.perf_counter()
        with ThreadPoolExecutor(len(managers)) as pool:
            list(pool.map(lambda manager: manager.get_token(), managers))
        wall = time.perf_counter() - start
        overlapped = "yes" if endpoint.most_in_flight > 1 else "no"
        print(
            f"  {label:9} overlapped: {overlapped} (at most {endpoint.most_in_flight} in "
            f"flight), both tokens in {wall:.2f} s"
        )
        for manager in managers:
            manager.close()
        store.close()
        endpoint.shutdown()
        endpoint.server_close()


def takeover_time(work: Path, admin_url: str) -> None:
    print(f"Lease takeover after SIGKILL of the owner (TTL {LEASE_TTL:g} s, polled every 50 ms):")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for label, location in (
        ("file", str(work / "leases.json")),
        ("postgres", new_database(admin_url)),
    ):
        samples = []
        for _ in range(ROUNDS):
            holder = subprocess.Popen(
                [sys.executable, "-c", HOLDER, location, str(LEASE_TTL)],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            assert holder.stdout is not None and holder.stdout.readline().strip() == "owned"
            store = open_store(location)
            time.sleep(LEASE_TTL / 2)
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            killed = time.perf_counter()
            while not store.acquire_lease("org:bench", "replica-b", LEASE_TTL):
                time.sleep(0.05)
            samples.append(time.perf_counter() - killed)
            store.release_lease("org:bench", "replica-b")
            store.close()
        text = ", ".join(f"{s:.2f}" for s in samples)
        print(f"  {label:9} {text} s  (bound: one TTL after the last renewal + one poll)")


class Replica:
    """A `byods keepalive` process whose stderr lines are collected as they come."""

    def __init__(self, env: dict[str, str], store_url: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "byods_manager", "keepalive"),
                *("--listen", "127.0.0.1:0", "--lease", f"{REPLICA_LEASE:g}s"),
                *("--store", store_url, *args),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[tuple[float, str]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append((time.perf_counter(), line))

    def seen(self, event: str) -> float | None:
        return next((when for when, line in self.lines if f" {event} " in line), None)

    def count(self, event: str) -> int:
        return sum(1 for _, line in self.lines if f" {event} " in line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def wait_until(condition: Callable[[], object], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.02)


def replica_takeover(sandbox: Sandbox, work: Path, admin_url: str) -> None:
    bound = 2 * REPLICA_LEASE
    print(f"Keepalive replica takeover after SIGKILL (2 replicas, --lease {REPLICA_LEASE:g}s):")
    env = replica_env(sandbox, work)
    samples = [_one_takeover(env, new_database(admin_url)) for _ in range(ROUNDS)]
    text = ", ".join(f"{s:.2f}" for s in samples)
    print(f"  postgres  {text} s  (guarantee: within two lease periods, {bound:g} s)")


def replica_env(sandbox: Sandbox, work: Path) -> dict[str, str]:
    config = sandbox.write_config(work / "replicas" / "token-config.json")
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "BYODS_CONFIG": str(config),
        "WEBEX_API_BASE_URL": sandbox.base_url,
        "BYODS_AUDIT_LOG": str(work / "replicas" / "audit.jsonl"),
    }


def long_passes(sandbox: Sandbox, work: Path, admin_url: str) -> None:
    """Two replicas while every pass lasts several lease periods."""
    print(
        f"Passes longer than the lease (2 replicas, --lease {REPLICA_LEASE:g}s, "
        f"{LONG_PASS_DATA_SOURCES} data sources due on every pass, "
        f"{LONG_PASS_LATENCY_MS} ms per request, {LONG_PASS_SECONDS:g} s):"
    )
    env = replica_env(sandbox, work)
    register(sandbox, LONG_PASS_DATA_SOURCES)
    sandbox.reset()
    sandbox.set_latency(LONG_PASS_LATENCY_MS)
    # Due on every pass: a window longer than the 1-minute lifetime covers all of it.
    args = ("--renew-before", "2m", "--interval", "1s")
    store_url = new_database(admin_url)
    replicas = [Replica(env, store_url, *args) for _ in range(2)]
    try:
        time.sleep(LONG_PASS_SECONDS)
    finally:
        for replica in replicas:
            replica.stop()
        sandbox.set_latency(0)
    first = min(replicas, key=lambda r: r.seen("owns") or float("inf"))
    other = next(r for r in replicas if r is not first)
    passes = sum(1 for _, line in first.lines if " cycle orgs=1 " in line)
    moves = sum(r.count("took_over") + r.count("lost") for r in replicas)
    puts = sum(len(items) for items in sandbox.extensions().values())
    print(f"  passes of the first owner: {passes}; takeovers/losses while it lived: {moves}")
    print(
        f"  PUTs: {puts}; extensions by the first owner: {first.count('extended')}, "
        f"by the other replica: {other.count('extended')}"
    )


def register(sandbox: Sandbox, count: int) -> None:
    token = sandbox.issue_access_token("service_app")
    for index in range(count):
        body = {
            "url": f"https://dap.example.com/bench/{index}",
            "schemaId": SCHEMA,
            "audience": "bench",
            "subject": f"s{index}",
            "nonce": str(uuid.uuid4()),
            "tokenLifetimeMinutes": 1,
        }
        answer = requests.post(
            sandbox.base_url + "/dataSources",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        answer.raise_for_status()


def _one_takeover(env: dict[str, str], store_url: str) -> float:
    """Seconds from the SIGKILL of the org's owner to the other replica's ``took_over``."""
    replicas = [Replica(env, store_url) for _ in range(2)]
    try:
        wait_until(lambda: all(r.seen("cycle") for r in replicas))
        owner = next(r for r in replicas if r.seen("owns"))
        other = next(r for r in replicas if r is not owner)
        owner.process.send_signal(signal.SIGKILL)
        owner.process.wait()
        killed = time.perf_counter()
        wait_until(lambda: other.seen("took_over"))
        return (other.seen("took_over") or killed) - killed
    finally:
        for replica in replicas:
            replica.stop()


def main() -> None:
    import pgserver

    with tempfile.TemporaryDirectory(prefix="byods-bench-store-") as tmp:
        work = Path(tmp)
        pgdata = Path(tempfile.mkdtemp(prefix="byods-bench-pg-"))
        server = pgserver.get_server(pgdata, cleanup_mode="delete")
        try:
            admin_url = server.get_uri("postgres")
            with Sandbox() as sandbox:
                read_latency(sandbox, work, new_database(admin_url))
                refreshes_per_expiry(sandbox, work, admin_url)
                two_orgs_at_once(work, admin_url)
                replica_takeover(sandbox, work, admin_url)
                long_passes(sandbox, work, admin_url)
            takeover_time(work, admin_url)
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
