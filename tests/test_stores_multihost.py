"""What a shared store must guarantee across hosts and crashes, with real processes:

- 2 "hosts" (separate HOME and config dirs) x 10 processes that all start with an expired
  token against the sandbox make exactly one token request;
- a keepalive lease whose owner was SIGKILLed is taken over by another replica;
- SIGKILLs of processes in the middle of refreshing never leave a store that does not load,
  and lose no rotated token beyond the one in flight.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from byods_manager.sandbox import Sandbox
from byods_manager.stores.select import open_store
from byods_manager.tokens.manager import TokenManager
from tests.fixtures_stores import BACKENDS, PgStoreRef
from tests.fixtures_tokens import PAT, FakeWebexTokens, seed_store

REPO = Path(__file__).resolve().parent.parent
HOSTS = 2
PROCESSES_PER_HOST = 10
KILLS = int(os.environ.get("BYODS_TEST_KILLS", "100"))
LEASE_TTL = 2.0
BOTH_STORES = pytest.mark.parametrize("store_backend", BACKENDS, indirect=True)

# Build the token manager, say ready, wait for "go" so all ask at once, print the token.
TOKEN_WORKER = """
import sys, time
from pathlib import Path
from byods_manager.tokens.manager import TokenManager
config, base_url, ready, go = sys.argv[1:5]
manager = TokenManager.from_config(config, base_url=base_url)
manager.store.load()
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.005)
print(manager.get_token())
"""

# Take the lease, say so, then renew it eight times per lease period until killed (often
# enough that a loaded machine does not make a live owner lose it).
LEASE_HOLDER = """
import sys, time
from byods_manager.stores.select import open_store
location, name, owner, ttl = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
store = open_store(location)
assert store.acquire_lease(name, owner, ttl)
print("owned", flush=True)
while True:
    time.sleep(ttl / 8)
    assert store.renew_lease(name, owner, ttl)
"""


def _wait_for(paths: list[Path], workers: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 60
    while not all(path.exists() for path in paths):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(w.poll() is None for w in workers), [w.communicate() for w in workers]
        time.sleep(0.01)


def _token_requests(sandbox: Sandbox) -> dict[str, int]:
    requests: dict[str, int] = sandbox.stats_snapshot()["requests"]
    return {k: v for k, v in requests.items() if "access_token" in k or k.endswith("/token")}


@pytest.mark.slow
def test_two_hosts_of_ten_processes_make_one_token_request(
    sandbox: Sandbox, pg_url: str, tmp_path: Path
) -> None:
    config_text = json.dumps(sandbox.config_data())
    hosts = []
    for host in range(HOSTS):
        home = tmp_path / f"host-{host}"
        config = home / "config" / "byods-manager" / "token-config.json"
        config.parent.mkdir(parents=True)
        config.write_text(config_text)
        config.chmod(0o600)
        hosts.append((home, config))
    # The first run mints a pair; then its access token is made to look expired.
    first = TokenManager.from_config(hosts[0][1], base_url=sandbox.base_url, store=pg_url)
    first.refresh()
    with first.store.locked() as data:
        (entry,) = data.service_apps.values()
        entry.expires_at = time.time() - 60
        first.store.save(data)
    first.store.close()
    sandbox.reset()
    sandbox.set_latency(50)  # a refresh that takes a moment, so the others pile up
    go = tmp_path / "go"
    workers, ready = [], []
    for host, (home, config) in enumerate(hosts):
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "BYODS_STORE": pg_url,
        }
        for n in range(PROCESSES_PER_HOST):
            ready.append(tmp_path / f"ready-{host}-{n}")
            command = [sys.executable, "-c", TOKEN_WORKER, str(config), sandbox.base_url]
            workers.append(
                subprocess.Popen(
                    [*command, str(ready[-1]), str(go)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                )
            )
    _wait_for(ready, workers)
    go.touch()
    results = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0] * len(workers), results
    assert len({out.strip() for out, _err in results}) == 1
    # One request, counted by route and by grant: a service-app refresh (tier 1).
    assert _token_requests(sandbox) == {
        "POST /access_token": 1,
        "POST /access_token [refresh_token:service_app]": 1,
    }
    for host, _config in hosts:  # nothing was written to a local file on either host
        assert not list(host.rglob("tokens.json"))


@BOTH_STORES
@pytest.mark.slow
def test_a_killed_lease_owner_is_taken_over(tokens_store: Path | PgStoreRef) -> None:
    location = str(tokens_store)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    owner = subprocess.Popen(
        [sys.executable, "-c", LEASE_HOLDER, location, "org:1", "replica-a", str(LEASE_TTL)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert owner.stdout is not None
    assert owner.stdout.readline().strip() == "owned", owner.communicate()
    store = open_store(location)
    # While the owner lives (and renews), nobody else gets the lease, even past its TTL.
    deadline = time.monotonic() + LEASE_TTL
    while time.monotonic() < deadline:
        assert not store.acquire_lease("org:1", "replica-b", LEASE_TTL)
        time.sleep(LEASE_TTL / 10)
    assert owner.poll() is None, owner.communicate()
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    give_up = time.monotonic() + 20 * LEASE_TTL  # a guard against hanging, not a timing check
    while not store.acquire_lease("org:1", "replica-b", LEASE_TTL):
        assert time.monotonic() < give_up, "the dead owner's lease was never taken over"
        time.sleep(LEASE_TTL / 20)
    assert [(lease.name, lease.owner) for lease in store.leases()] == [("org:1", "replica-b")]
    store.close()


def _refresh_forever(manager: TokenManager) -> None:
    """Child process: force a refresh (a rotation) again and again until killed."""
    while True:
        manager.refresh(force=True)


@BOTH_STORES
@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork for a fast crash loop")
def test_refreshing_processes_killed_at_random_never_break_the_store(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path | PgStoreRef,
    tokens_config: Callable[..., Path],
) -> None:
    _access, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access="old", expires_at=time.time() - 60, refresh=refresh)
    tokens_fake.bearers_valid.add(PAT)  # after a lost rotation, tier 2 mints a new pair
    config = tokens_config()
    store = open_store(str(tokens_store))
    # Built once here (reading the config and the first imports of the HTTP stack cost more
    # than a refresh); each child starts from this unused copy and opens its own connections.
    idle_manager = TokenManager.from_config(config, base_url=tokens_fake.base_url)
    import byods_manager.http  # noqa: F401

    rng = random.Random(4321)
    lost = 0
    for _ in range(KILLS):
        valid_before = set(tokens_fake.sa_refresh_valid)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                _refresh_forever(idle_manager)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.005, 0.06))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        # The server answers one request at a time, in order: once this one is answered, a
        # request the dead process had already sent has been handled (and counted) too.
        requests.get(f"{tokens_fake.base_url}/dataSources/", timeout=10)
        entry = store.load().service_apps["app-123@org-456"]  # always loads
        assert entry.refresh_token is not None
        # Rotations the server made in this round that the store does not hold: at most
        # the one whose answer was in flight when the process died.
        unstored = (tokens_fake.sa_refresh_valid - valid_before) - {entry.refresh_token}
        assert len(unstored) <= 1, unstored
        lost += len(unstored)
    # Real progress: many kills landed while a refresh was under way.
    assert tokens_fake.calls["sa_refresh"] >= max(1, KILLS // 10), tokens_fake.calls
    # The survivor store still works for a normal process.
    manager = TokenManager.from_config(config, base_url=tokens_fake.base_url)
    assert manager.refresh(force=True).token in tokens_fake.sa_access_valid
    store.close()
    print(f"{KILLS} kills, {tokens_fake.calls['sa_refresh']} refreshes, {lost} in flight lost")
