"""Keepalive over many orgs (`byods keepalive --all-orgs`) against the multi-org sandbox.

Prints: the time of one idle pass over N orgs with one org at a time and with the default
concurrency (the sandbox adds a fixed latency per request), the requests per org of an idle
pass, and threads/fds/RSS over repeated concurrent passes (the pool is made per pass and
must not leak).

    python benchmarks/bench_keepalive_fleet.py [--orgs 12] [--latency-ms 50] [--cycles 200]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from byods_manager.fleet.orgs import Fleet  # noqa: E402
from byods_manager.fleet.runner import DEFAULT_CONCURRENCY  # noqa: E402
from byods_manager.sandbox import Sandbox  # noqa: E402
from byods_manager.service.alerts import Alerter, AlertSender  # noqa: E402
from byods_manager.service.cycle import Settings  # noqa: E402
from byods_manager.service.keepalive import KeepaliveService  # noqa: E402
from byods_manager.service.logs import EventLog  # noqa: E402
from byods_manager.service.metrics import KeepaliveMetrics  # noqa: E402
from byods_manager.service.orgs import fleet_org_source  # noqa: E402
from byods_manager.tokens.config import load_config  # noqa: E402
from byods_manager.tokens.store import TokenStore  # noqa: E402


def figures() -> dict[str, float]:
    status = Path("/proc/self/status").read_text()
    rss_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return {
        "rss_mib": rss_kib / 1024,
        "threads": len(os.listdir("/proc/self/task")),
        "fds": len(os.listdir("/proc/self/fd")),
    }


def service(fleet: Fleet, concurrency: int) -> KeepaliveService:
    log = EventLog(stream=io.StringIO())
    return KeepaliveService(
        fleet_org_source(fleet),
        settings=Settings(),
        metrics=KeepaliveMetrics(),
        alerter=Alerter(AlertSender([], None, log), log),
        log=log,
        concurrency=concurrency,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=12)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--cycles", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Sandbox(orgs=args.orgs) as box:
        os.environ["XDG_STATE_HOME"] = str(Path(tmp) / "state")
        config = load_config(box.write_config(Path(tmp) / "token-config.json"))
        fleet = Fleet(config, base_url=box.base_url, store=TokenStore(Path(tmp) / "tokens.json"))
        for org_id in box.org_ids[1:]:
            fleet.add(org_id)
        print(f"keepalive over {args.orgs} orgs, {args.latency_ms:g} ms sandbox latency")
        for concurrency in (1, DEFAULT_CONCURRENCY):
            keeper = service(fleet, concurrency)
            keeper.run_once()  # warm-up: tokens, sessions
            box.reset()  # counters (and latency): set it after
            box.set_latency(args.latency_ms)
            started = time.perf_counter()
            result = keeper.run_once()
            elapsed = time.perf_counter() - started
            box.set_latency(0)
            per_org = box.stats_snapshot()["requestsByOrg"]
            keeper.close()
            print(
                f"  concurrency {concurrency}: idle pass {elapsed:.2f} s, ok={result.ok}, "
                f"requests per org {min(per_org.values())}..{max(per_org.values())}"
            )
        keeper = service(fleet, DEFAULT_CONCURRENCY)
        for _ in range(20):
            keeper.run_once()
        before = figures()
        for _ in range(args.cycles):
            keeper.run_once()
        after = figures()
        keeper.close()
        fleet.close()
    print(
        f"  {args.cycles} concurrent passes: RSS {before['rss_mib']:.1f} -> "
        f"{after['rss_mib']:.1f} MiB, threads {before['threads']:.0f} -> {after['threads']:.0f}, "
        f"fds {before['fds']:.0f} -> {after['fds']:.0f}"
    )


if __name__ == "__main__":
    main()
