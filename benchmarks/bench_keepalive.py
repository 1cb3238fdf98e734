"""Keepalive figures, printed (never asserted): `make soak` (and the leak check in `make bench`).

Soak: the real `byods keepalive` service against the sandbox, data sources with a 3-minute
lifetime and a 1-minute renewal window (`--renew-before 1m`). Prints the data sources that
ever expired (should be 0), double renewals (two extensions of one data source less than a
window apart; should be 0), list requests per idle cycle (should be 1 per org), and with
`--fault-rate` the injected faults, alerts and resolutions (each failure that outlives its
retries: one alert, one resolution). It also prints the service's RSS, threads and fds.

Leak check (`--cycles N`): N keepalive cycles in this process against the sandbox (each
cycle lists, and scrapes /metrics and /healthz once): resident memory growth, threads and
file descriptors before and after.

    python benchmarks/bench_keepalive.py                 # 3-minute soak + 1,000 cycles
    python benchmarks/bench_keepalive.py --full          # the 10-minute soak
    python benchmarks/bench_keepalive.py --fault-rate 0.3
    python benchmarks/bench_keepalive.py --cycles-only   # leak check only (seconds)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from byods_manager.auth import StaticTokenProvider  # noqa: E402
from byods_manager.client import DataSourceClient  # noqa: E402
from byods_manager.http import HttpClient  # noqa: E402
from byods_manager.models import DataSource  # noqa: E402
from byods_manager.sandbox import Sandbox  # noqa: E402
from byods_manager.service.alerts import Alerter, AlertSender  # noqa: E402
from byods_manager.service.cycle import Settings  # noqa: E402
from byods_manager.service.keepalive import KeepaliveService  # noqa: E402
from byods_manager.service.listener import Listener, Response  # noqa: E402
from byods_manager.service.logs import EventLog  # noqa: E402
from byods_manager.service.metrics import KeepaliveMetrics  # noqa: E402
from byods_manager.service.orgs import OrgTarget  # noqa: E402
from byods_manager.tokens.manager import TokenManager  # noqa: E402

FAULT_STATUSES = (429, 500, 502, 503)


def process_figures(pid: int | str = "self") -> dict[str, float]:
    """Resident memory (MiB), threads and open file descriptors of a process (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return {
        "rss_mib": rss_kib / 1024,
        "threads": len(os.listdir(f"/proc/{pid}/task")),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


def register(sandbox: Sandbox, count: int, lifetime_minutes: int) -> list[str]:
    token = sandbox.issue_access_token("service_app")
    client = DataSourceClient(HttpClient(sandbox.base_url, StaticTokenProvider(token)))
    schema_id = client.list_schemas()[0].id
    ids = [
        client.register(
            url=f"https://dap.example.com/soak/{index}",
            schema_id=schema_id,
            audience="Soak",
            subject=f"s{index}",
            lifetime_minutes=lifetime_minutes,
        ).id
        for index in range(count)
    ]
    client.close()
    return ids


class AlertReceiver:
    """A local incoming webhook that keeps every alert it receives."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alert"

    def close(self) -> None:
        self.server.shutdown()


class FaultInjector(threading.Thread):
    """Keeps roughly ``rate`` of the sandbox's API requests failing (one fault per request
    seen, with probability ``rate``, for the request after it)."""

    def __init__(self, sandbox: Sandbox, rate: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.sandbox, self.rate, self.stop_event = sandbox, rate, stop
        self.injected = 0

    def run(self) -> None:
        seen = 0
        while not self.stop_event.wait(0.02):
            total = sum(self.sandbox.stats_snapshot()["requests"].values())
            for _ in range(total - seen):
                if random.random() < self.rate:  # noqa: S311 - not security related
                    self.sandbox.add_fault(random.choice(FAULT_STATUSES))  # noqa: S311
                    self.injected += 1
            seen = total


def watch_expiries(
    sandbox: Sandbox, stop: threading.Event, expired: set[tuple[str, float]]
) -> None:
    while not stop.wait(0.5):
        now = time.time()
        for item in sandbox.data_sources():
            ds = DataSource.from_api(item)
            if ds.expires_at is not None and ds.expires_at.timestamp() < now:
                expired.add((ds.id, ds.expires_at.timestamp()))


def soak(minutes: float, data_sources: int, fault_rate: float) -> None:
    print(
        f"soak: {minutes:g} min, {data_sources} data sources, lifetime 3 min, window 1 min, "
        f"fault rate {fault_rate:.0%}"
    )
    with tempfile.TemporaryDirectory() as tmp, Sandbox() as sandbox:
        config = sandbox.write_config(Path(tmp) / "token-config.json")
        ids = register(sandbox, data_sources, lifetime_minutes=3)
        receiver = AlertReceiver()
        env = dict(
            os.environ,
            BYODS_CONFIG=str(config),
            WEBEX_API_BASE_URL=sandbox.base_url,
            XDG_STATE_HOME=str(Path(tmp) / "state"),
            XDG_CACHE_HOME=str(Path(tmp) / "cache"),
        )
        service = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "byods_manager",
                "keepalive",
                "--renew-before",
                "1m",
                "--interval",
                "30s",
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
                "--alert-webhook",
                receiver.url,
            ],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        events: list[dict[str, Any]] = []

        def read() -> None:
            assert service.stderr is not None
            for line in service.stderr:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    events.append({"event": "text", "line": line.strip()})

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        stop = threading.Event()
        expired: set[tuple[str, float]] = set()
        watcher = threading.Thread(
            target=watch_expiries, args=(sandbox, stop, expired), daemon=True
        )
        watcher.start()
        while not any(e.get("event") == "cycle" for e in events):
            time.sleep(0.1)
        sandbox.reset()  # count requests from the end of the first cycle on
        cycles_before = sum(1 for e in events if e.get("event") == "cycle")
        injector = FaultInjector(sandbox, fault_rate, stop)
        if fault_rate > 0:
            injector.start()
        start_figures = process_figures(service.pid)
        time.sleep(minutes * 60)
        stop.set()
        requests_seen = sandbox.stats_snapshot()["requests"]
        cycles_measured = sum(1 for e in events if e.get("event") == "cycle") - cycles_before
        if fault_rate > 0:
            injector.join()
            sandbox.reset()  # drop pending faults; give failures a last chance to resolve
            time.sleep(15)
        end_figures = process_figures(service.pid)
        service.terminate()
        code = service.wait(timeout=30)
        reader.join(timeout=5)
        receiver.close()

    extensions: dict[str, list[float]] = {ds_id: [] for ds_id in ids}
    for event in events:
        if event.get("event") == "extended":
            stamp = time.mktime(time.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
            extensions.setdefault(event["data_source"], []).append(stamp)
    doubles = sum(
        1
        for stamps in extensions.values()
        for earlier, later in itertools.pairwise(stamps)
        if later - earlier < 60
    )
    cycles = [e for e in events if e.get("event") == "cycle"]
    idle = [c for c in cycles if c["extended"] == 0 and c["failures"] == 0]
    alerts = receiver.received
    fired = [a for a in alerts if a["severity"] != "resolved"]
    resolved = [a for a in alerts if a["severity"] == "resolved"]
    print(f"  data sources that ever expired:      {len({ds for ds, _ in expired})}")
    print(
        f"  renewals: {sum(len(s) for s in extensions.values())} "
        f"(per data source: {sorted({len(s) for s in extensions.values()})})"
    )
    print(f"  double renewals (< 1 window apart):  {doubles}")
    print(
        f"  cycles: {len(cycles)}, idle: {len(idle)}, "
        f"lists per idle cycle (service log): "
        f"{(sum(c['lists'] for c in idle) / len(idle)) if idle else float('nan'):.2f} per org"
    )
    print(
        f"  GET /dataSources seen by the sandbox per cycle (incl. retries): "
        f"{requests_seen.get('GET /dataSources', 0) / max(1, cycles_measured):.2f}"
    )
    if fault_rate > 0:
        api_requests = sum(n for key, n in requests_seen.items() if "[" not in key)
        print(f"  faults injected: {injector.injected} over {api_requests} API requests")
        print(
            f"  alerts: {len(fired)} fired, {len(resolved)} resolved "
            f"(by event: {sorted({a['event'] for a in fired})})"
        )
    unresolved = {(a["event"], a["dataSourceId"]) for a in fired} - {
        (a["event"], a["dataSourceId"]) for a in resolved
    }
    print(f"  alerts still open at the end: {len(unresolved)}")
    print(
        f"  service RSS {start_figures['rss_mib']:.1f} -> {end_figures['rss_mib']:.1f} MiB, "
        f"threads {start_figures['threads']} -> {end_figures['threads']}, "
        f"fds {start_figures['fds']} -> {end_figures['fds']}"
    )
    print(f"  exit status after SIGTERM: {code}")


def cycles(count: int) -> None:
    print(f"leak check: {count} keepalive cycles in-process (list + /metrics + /healthz each)")
    with tempfile.TemporaryDirectory() as tmp, Sandbox() as sandbox:
        os.environ["XDG_STATE_HOME"] = str(Path(tmp) / "state")
        config = sandbox.write_config(Path(tmp) / "token-config.json")
        register(sandbox, 20, lifetime_minutes=60)
        manager = TokenManager.from_config(config, base_url=sandbox.base_url)
        target = OrgTarget(
            org_id=manager.config.service_app.target_org_id,
            name="default",
            tokens=manager,
            client_factory=lambda: DataSourceClient(HttpClient(sandbox.base_url, manager)),
        )
        log = EventLog("text", open(os.devnull, "w"))  # noqa: SIM115 - for the whole run
        service = KeepaliveService(
            lambda: [target],
            settings=Settings(),
            metrics=KeepaliveMetrics(),
            alerter=Alerter(AlertSender([], None, log), log),
            log=log,
        )
        listener = Listener("127.0.0.1", 0)
        listener.route("GET", "/metrics", lambda b, h: Response(200, service.metrics.exposition()))
        listener.route("GET", "/healthz", lambda b, h: Response.json(200, service.health()[1]))
        listener.start()
        scraper = requests.Session()
        base = f"http://127.0.0.1:{listener.port}"

        def one_cycle() -> None:
            service.run_once()
            scraper.get(base + "/metrics", timeout=5)
            scraper.get(base + "/healthz", timeout=5)

        for _ in range(50):  # warm-up: imports, caches, connection pools
            one_cycle()
        before = process_figures()
        started = time.perf_counter()
        for _ in range(count):
            one_cycle()
        elapsed = time.perf_counter() - started
        after = process_figures()
        listener.stop()
        service.close()
    print(f"  {count} cycles in {elapsed:.1f} s ({elapsed / count * 1000:.1f} ms per cycle)")
    print(
        f"  RSS {before['rss_mib']:.1f} -> {after['rss_mib']:.1f} MiB "
        f"(growth {after['rss_mib'] - before['rss_mib']:+.2f} MiB)"
    )
    threads = f"threads {before['threads']} -> {after['threads']}"
    print(f"  {threads}, fds {before['fds']} -> {after['fds']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the 10-minute soak")
    parser.add_argument("--minutes", type=float, default=None, help="soak length (default 3)")
    parser.add_argument("--data-sources", type=int, default=10)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="e.g. 0.3")
    parser.add_argument("--cycles", type=int, default=1000, help="leak-check cycles")
    parser.add_argument("--cycles-only", action="store_true", help="skip the soak")
    args = parser.parse_args()
    if not args.cycles_only:
        minutes = args.minutes if args.minutes is not None else (10.0 if args.full else 3.0)
        soak(minutes, args.data_sources, args.fault_rate)
    cycles(args.cycles)


if __name__ == "__main__":
    main()
