"""Token-manager figures, printed (never asserted): `make bench`.

Runs against the project's own Webex sandbox on loopback (:class:`byods_manager.sandbox.Sandbox`),
which rotates refresh tokens (a used refresh token stops working), so the numbers include real
HTTP and file I/O. The config is the full one the sandbox writes (service app plus token
manager credentials), as users have it:

* tier-0 ``get_token()`` latency (a valid stored token: one stat, no network);
* forced tier-1 refresh latency (one POST /access_token plus an atomic store write);
* N processes starting together with an expired token: wall time, refreshes seen by the
  sandbox (should be 1), total token requests.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from byods_manager.sandbox import Sandbox  # noqa: E402
from byods_manager.tokens.config import load_config  # noqa: E402
from byods_manager.tokens.manager import TokenManager  # noqa: E402
from byods_manager.tokens.store import TokenStore  # noqa: E402

# The sandbox's counters: every token request, and the service app's tier-1 refreshes.
TOKEN_ENDPOINTS = ("POST /access_token", "POST /applications/{appId}/token")
SERVICE_APP_REFRESH = "POST /access_token [refresh_token:service_app]"


def counts(sandbox: Sandbox) -> tuple[int, int, int]:
    """(service-app refreshes, token requests, all API requests) the sandbox has seen."""
    seen = sandbox.stats_snapshot()["requests"]
    api = sum(n for key, n in seen.items() if "[" not in key)
    return seen.get(SERVICE_APP_REFRESH, 0), sum(seen.get(k, 0) for k in TOKEN_ENDPOINTS), api


def seed_expired(store_path: Path, key: str, refresh: str) -> None:
    store = TokenStore(store_path)
    with store.locked() as data:
        data.service_app(key).set_pair("expired", time.time() - 60, refresh, None, "bench")
        store.save(data)


def current_refresh(store_path: Path, key: str) -> str:
    return str(TokenStore(store_path).load().service_apps[key].refresh_token)


WORKER = """
import sys
from byods_manager.tokens.manager import TokenManager
TokenManager.from_config(sys.argv[1], base_url=sys.argv[2]).get_token()
"""


def bench_processes(
    count: int, config: Path, key: str, sandbox: Sandbox, env: dict[str, str]
) -> None:
    store_path = Path(env["BYODS_TOKEN_STORE"])
    seed_expired(store_path, key, current_refresh(store_path, key))
    refreshes_before, requests_before, _ = counts(sandbox)
    started = time.perf_counter()
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(config), sandbox.base_url], env=env)
        for _ in range(count)
    ]
    codes = [worker.wait() for worker in workers]
    elapsed = time.perf_counter() - started
    refreshes, requests, _ = counts(sandbox)
    print(
        f"{count:3d} processes, expired token: {elapsed:6.2f} s wall (incl. interpreter start), "
        f"refreshes seen by sandbox: {refreshes - refreshes_before}, "
        f"token requests: {requests - requests_before}, "
        f"failures: {sum(1 for c in codes if c)}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as temp, Sandbox() as sandbox:
        directory = Path(temp)
        store_path = directory / "tokens.json"
        os.environ["BYODS_TOKEN_STORE"] = str(store_path)
        config = sandbox.write_config(directory / "token-config.json")
        key = load_config(config).service_app.store_key

        seed_expired(store_path, key, sandbox.issue_refresh_token("service_app"))
        manager = TokenManager.from_config(config, base_url=sandbox.base_url)
        manager.get_token()

        _, _, api_before = counts(sandbox)
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
            f"(2000 calls, 0 network requests: sandbox saw {counts(sandbox)[2] - api_before})"
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
            bench_processes(count, config, key, sandbox, env)


if __name__ == "__main__":
    main()
