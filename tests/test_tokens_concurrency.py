"""Rotation safety across processes, and a store that survives writers killed mid-save."""

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

from byods_manager.tokens.store import TokenStore
from tests.fixtures_stores import BACKENDS
from tests.fixtures_tokens import FakeWebexTokens, seed_store, service_entry

REPO = Path(__file__).resolve().parent.parent
PROCESSES = 8

# Each worker builds the token manager, signals it is ready, waits for "go" so that all
# of them ask for a token at the same moment, and prints what it got.
WORKER = """
import sys, time
from pathlib import Path
from byods_manager.tokens.manager import TokenManager
config, base_url, ready, go = sys.argv[1:5]
manager = TokenManager.from_config(config, base_url=base_url)
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.005)
print(manager.get_token())
"""

BOTH_STORES = pytest.mark.parametrize("store_backend", BACKENDS, indirect=True)


@BOTH_STORES
@pytest.mark.slow
def test_concurrent_processes_share_one_rotation(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    tmp_path: Path,
) -> None:
    _access, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access="expired", expires_at=time.time() - 60, refresh=refresh)
    tokens_fake.delay = 0.05  # a refresh that takes a moment, so the others pile up
    config = tokens_config()
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(config),
                tokens_fake.base_url,
                str(tmp_path / f"ready-{i}"),
                str(go),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(PROCESSES)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{i}").exists() for i in range(PROCESSES)):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(w.poll() is None for w in workers), [w.communicate() for w in workers]
        time.sleep(0.01)
    go.touch()
    results = [w.communicate(timeout=60) for w in workers]
    assert [w.returncode for w in workers] == [0] * PROCESSES, results
    tokens = {out.strip() for out, _err in results}
    assert len(tokens) == 1
    assert tokens_fake.calls == {"sa_refresh": 1}
    entry = service_entry(tokens_store)
    (token,) = tokens
    assert entry["accessToken"] == token
    assert entry["refreshToken"] in tokens_fake.sa_refresh_valid  # the newest pair
    assert refresh not in tokens_fake.sa_refresh_valid


def _writer(path: Path, start: int) -> None:
    """Child process: save pair N, N+1, ... under the lock until killed."""
    store = TokenStore(path)
    n = start
    while True:
        with store.locked() as data:
            entry = data.service_app("app@org")
            entry.set_pair(f"access-{n}", time.time() + 3600, f"refresh-{n}", None, "test")
            store.save(data)
        n += 1


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork for a fast crash loop")
def test_writer_killed_mid_save_never_leaves_a_broken_store(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store = TokenStore(path)
    with store.locked() as data:
        data.service_app("app@org").set_pair("access-0", 1e10, "refresh-0", None, "test")
        store.save(data)
    last = 0
    rng = random.Random(1234)
    kills = 0
    while kills < 120:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                _writer(path, last + 1)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0, 0.02))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        kills += 1
        raw = json.loads(path.read_text())  # always complete JSON
        entry = TokenStore(path).load().service_apps["app@org"]
        n = int(str(entry.access_token).split("-")[1])
        assert entry.refresh_token == f"refresh-{n}", raw  # a consistent pair
        assert n >= last  # old or new, never older
        last = n
    assert path.stat().st_mode & 0o777 == 0o600
    assert last > 0, "the writers never got to save"
    # Kills that landed mid-write left temp files; the next locked access removes them.
    with store.locked():
        pass
    assert list(tmp_path.glob(".tokens.json.*.tmp")) == []
