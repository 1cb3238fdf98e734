"""The token manager against the project's sandbox (a fuller Webex stand-in), end to end
through `python -m byods_manager` subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures_sandbox import RunByods


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tokens.json"
    monkeypatch.setenv("BYODS_TOKEN_STORE", str(path))
    return path


def test_tiers_against_the_sandbox(
    sandbox_env: dict[str, str], run_byods: RunByods, store: Path, sandbox_config: Path
) -> None:
    first = run_byods("token", "refresh", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["tier"] == 2  # nothing stored yet: Applications API
    listed = run_byods("list", "--json")
    assert listed.returncode == 0, listed.stderr
    kept = run_byods("token", "refresh", "--json")
    assert json.loads(kept.stdout)["tier"] == 0
    forced = run_byods("token", "refresh", "--force", "--json")
    assert json.loads(forced.stdout)["tier"] == 1
    checked = run_byods("token", "status", "--check", "--json")
    assert checked.returncode == 0, checked.stderr
    assert [c["ok"] for c in json.loads(checked.stdout)["checks"]] == [True, True]
    assert store.stat().st_mode & 0o777 == 0o600
    secrets = [
        value
        for section in json.loads(sandbox_config.read_text()).values()
        for key, value in section.items()
        if "ecret" in key or "oken" in key
    ]
    stored = json.loads(store.read_text())["serviceApps"]
    secrets += [e["accessToken"] for e in stored.values()]
    secrets += [e["refreshToken"] for e in stored.values()]
    output = "".join(r.stdout + r.stderr for r in (first, listed, kept, forced, checked))
    for secret in secrets:
        assert secret not in output
