"""The shared integration is rotated once, however many orgs (worker threads) and
replicas find it due at the same time: `byods keepalive --once --all-orgs` over four
sandbox orgs, with the integration's refresh token of unknown expiry (due at once),
judged by the sandbox's own count of integration refresh requests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from byods_manager.sandbox import Sandbox
from tests.keepalive_helpers import byods, keepalive_env

INTEGRATION_REFRESH = "POST /access_token [refresh_token:integration]"
ORGS = 4


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(orgs=ORGS) as sandbox:
        yield sandbox


@pytest.fixture
def env(box: Sandbox, tmp_path: Path) -> dict[str, str]:
    env = keepalive_env(box, box.write_config(tmp_path / "token-config.json"), tmp_path)
    _, *others = box.org_ids
    for number, org in enumerate(others):
        added = byods(env, "orgs", "add", org, "--name", f"org{number}")
        assert added.returncode == 0, added.stderr
    return env


def keepalive_once(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "byods_manager", "keepalive", "--once", "--all-orgs"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("replicas", [1, 2])
def test_the_integration_is_rotated_once_across_orgs_and_replicas(
    box: Sandbox, env: dict[str, str], replicas: int
) -> None:
    box.reset()
    # Every token request is slow: each org's worker reads the integration as due before
    # any rotation has finished (as with a Webex that answers in a few hundred ms).
    box.set_latency(300)
    processes = [keepalive_once(env) for _ in range(replicas)]
    outputs = [process.communicate(timeout=120) for process in processes]
    requests = box.stats_snapshot()["requests"]
    logs = "\n".join(err for _, err in outputs)

    assert [process.returncode for process in processes] == [0] * replicas, logs
    assert requests.get(INTEGRATION_REFRESH, 0) == 1, requests
    assert logs.count(" integration_refreshed ") == 1, logs
    # The other orgs' workers that had found it due saw the rotation done, sent nothing.
    skipped = [line for line in logs.splitlines() if " integration_refresh_skipped " in line]
    assert all("reason=already_refreshed" in line for line in skipped), logs
    assert "Traceback" not in logs
