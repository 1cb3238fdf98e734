"""The whole-command deadline (``--timeout``, default 5 minutes) never ends the keepalive
service; ``--once`` follows the bulk rule (only a given ``--timeout`` bounds it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from byods_manager.sandbox import Sandbox
from tests.keepalive_helpers import (
    KeepaliveProcess,
    keepalive_env,
    register_data_sources,
    run_once,
    wait_for,
)


@pytest.fixture
def env(sandbox: Sandbox, sandbox_config: Path, tmp_path: Path) -> dict[str, str]:
    return keepalive_env(sandbox, sandbox_config, tmp_path)


def test_the_service_outlives_the_command_deadline(sandbox: Sandbox, env: dict[str, str]) -> None:
    """Regression: the service's clients shared the command's deadline, so every request
    failed once it passed (5 minutes by default; 1 second here)."""
    register_data_sources(sandbox, 1, lifetime_minutes=60)
    sandbox.reset()
    service = KeepaliveProcess({**env, "BYODS_TIMEOUT": "1s"}, "--interval", "1s")
    try:
        # more than a second of cycles: the deadline has passed long before the last one
        wait_for(lambda: service.count("cycle") >= 4, "four cycles")
        health = service.get("/healthz")
        lists = sandbox.stats_snapshot()["requests"]["GET /dataSources"]
        cycle_lines = [line for line in service.lines if " cycle " in line + " "]
    finally:
        code = service.stop()

    assert code == 0
    assert health.status_code == 200, health.text
    assert lists >= 4
    assert all("failures=0" in line for line in cycle_lines), cycle_lines
    assert not service.find("list_failed")


def test_once_honours_a_given_timeout(sandbox: Sandbox, env: dict[str, str]) -> None:
    register_data_sources(sandbox, 1, lifetime_minutes=60)
    sandbox.set_latency(1500)

    result = run_once(env)
    bounded = run_once({**env, "BYODS_TIMEOUT": "1s"})

    assert result.returncode == 0, result.stderr
    assert bounded.returncode == 1, bounded.stderr
    assert "Traceback" not in bounded.stderr
    assert "--timeout 1s" in bounded.stderr or "timed out waiting" in bounded.stderr
