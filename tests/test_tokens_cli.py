"""`byods token status/refresh`, the reactive 401 path through real commands, the root
scripts, and the rule that secrets never reach stdout, stderr or the audit file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.fixtures_core import data_source_payload
from tests.fixtures_tokens import (
    PAT,
    FakeWebexTokens,
    assert_no_secrets,
    seed_store,
    service_entry,
)

REPO = Path(__file__).resolve().parent.parent
HOUR = 3600.0
RunCli = Callable[..., Result]


def base_args(config: Path, fake: FakeWebexTokens, audit: Path | None = None) -> list[str]:
    args = ["--config", str(config), "--base-url", fake.base_url]
    if audit is not None:
        args += ["--audit-log", str(audit)]
    return args


def test_401_on_an_api_call_refreshes_once_and_retries_once(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: RunCli,
    tmp_path: Path,
) -> None:
    _a, refresh = tokens_fake.new_service_pair()
    seed_store(
        tokens_store, access="revoked-SECRETX", expires_at=time.time() + HOUR, refresh=refresh
    )
    payload = data_source_payload()
    tokens_fake.data_sources[payload["id"]] = payload
    audit = tmp_path / "audit.jsonl"
    config = tokens_config()
    result = run_cli([*base_args(config, tokens_fake, audit), "-v", "extend", payload["id"]])
    assert result.exit_code == 0, result.output
    # The GET got a 401, one refresh, the GET once more, then the PUT with the new token.
    assert tokens_fake.calls == {"item_get": 2, "sa_refresh": 1, "item_put": 1}
    new_token = service_entry(tokens_store)["accessToken"]
    assert new_token in tokens_fake.sa_access_valid
    everything = result.stdout + result.stderr + audit.read_text()
    assert_no_secrets(everything, extra=("revoked-SECRETX", refresh, new_token))
    assert audit.stat().st_mode & 0o777 == 0o600


def test_a_second_401_exits_3(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: RunCli,
) -> None:
    _a, refresh = tokens_fake.new_service_pair()
    seed_store(
        tokens_store, access="revoked-SECRETX", expires_at=time.time() + HOUR, refresh=refresh
    )
    tokens_fake.list_status = 401  # even the fresh token is refused
    result = run_cli([*base_args(tokens_config(), tokens_fake), "list"])
    assert result.exit_code == 3
    assert tokens_fake.calls == {"list": 2, "sa_refresh": 1}
    assert "401" in result.stderr and "byods auth setup" in result.stderr
    assert_no_secrets(result.stdout + result.stderr, extra=("revoked-SECRETX", refresh))


def test_all_tiers_failing_exits_3_listing_each_tier(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: RunCli,
) -> None:
    seed_store(tokens_store, access="old", expires_at=time.time() - 1, refresh="dead-SECRETX")
    result = run_cli([*base_args(tokens_config(), tokens_fake), "list"])
    assert result.exit_code == 3
    for tier in range(3):
        assert f"- tier {tier} " in result.stderr
    assert "byods auth setup" in result.stderr
    assert_no_secrets(result.stdout + result.stderr, extra=("dead-SECRETX",))


def test_token_status_text_and_json(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: RunCli,
) -> None:
    seed_store(
        tokens_store,
        access="sa-access-SECRETX",
        expires_at=time.time() + 2 * HOUR,
        refresh="sa-refresh-SECRETX",
        refresh_expires_at=time.time() + 5 * 86400,
    )
    args = base_args(tokens_config(integration=True), tokens_fake)
    text = run_cli([*args, "token", "status"])
    assert text.exit_code == 0, text.output
    assert "Tier 0 - service-app access token: present (sa-acc…)" in text.stdout
    # One time format: UTC, then how far away (issue 9 item 16).
    assert re.search(r"    expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 1h 59m\)\n", text.stdout)
    assert "WARNING: the service-app refresh token expires in 4d" in text.stdout
    as_json = run_cli([*args, "token", "status", "--json"])
    data = json.loads(as_json.stdout)
    assert [t["present"] for t in data["tiers"]] == [True, True, True, True]
    assert data["tiers"][3]["note"] is None
    assert_no_secrets(text.stdout + text.stderr + as_json.stdout + as_json.stderr)
    assert tokens_fake.server.log == []


def test_token_status_check_validates_against_the_real_endpoints(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: RunCli,
) -> None:
    tokens_fake.bearers_valid.add(PAT)
    result = run_cli(
        [*base_args(tokens_config(), tokens_fake), "token", "status", "--check", "--json"]
    )
    assert result.exit_code == 0, result.output
    checks = json.loads(result.stdout)["checks"]
    assert [c["ok"] for c in checks] == [True, True]
    assert [kind for kind, _ in tokens_fake.log] == ["mint", "list", "mint"]
    assert "people" not in str(tokens_fake.server.log)


def test_token_status_check_failure_exits_3(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: RunCli,
) -> None:
    result = run_cli([*base_args(tokens_config(), tokens_fake), "token", "status", "--check"])
    assert result.exit_code == 3
    assert "FAIL" in result.stdout
    assert_no_secrets(result.stdout + result.stderr)


def test_token_refresh_reports_the_tier_and_keeps_a_valid_token(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: RunCli,
) -> None:
    _a, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access="old", expires_at=time.time() - 1, refresh=refresh)
    args = base_args(tokens_config(), tokens_fake)
    first = run_cli([*args, "token", "refresh", "--json"])
    assert first.exit_code == 0, first.output
    outcome = json.loads(first.stdout)
    assert (outcome["tier"], outcome["refreshed"]) == (1, True)
    kept = run_cli([*args, "token", "refresh"])
    assert "still valid" in kept.stdout and "kept it" in kept.stdout
    forced = run_cli([*args, "token", "refresh", "--force"])
    assert "Refreshed via tier 1" in forced.stdout
    assert tokens_fake.calls == {"sa_refresh": 2}
    # Every time shown is in the one format: UTC, then how far away.
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((in [0-9dhm ]+|[0-9dhm ]+ ago)\)"
    assert re.search(rf"\(expires {when}\); kept it", kept.stdout)
    assert re.search(rf"New access token expires {when}\.\n", forced.stdout)
    assert_no_secrets(first.stdout + kept.stdout + forced.stdout + forced.stderr)


def test_token_refresh_asks_on_a_terminal(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: RunCli,
    assume_tty: None,
) -> None:
    _a, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access="valid", expires_at=time.time() + HOUR, refresh=refresh)
    args = base_args(tokens_config(), tokens_fake)
    declined = run_cli([*args, "token", "refresh"], input="n\n")
    assert "Refresh it anyway?" in declined.stderr and "kept it" in declined.stdout
    assert tokens_fake.calls == {}
    accepted = run_cli([*args, "token", "refresh"], input="y\n")
    assert "Refreshed via tier 1" in accepted.stdout
    assert tokens_fake.calls == {"sa_refresh": 1}


def test_env_token_bypass_is_reported(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", "env-token-SECRETX")
    with_config = run_cli([*base_args(tokens_config(), tokens_fake), "token", "status"])
    assert with_config.exit_code == 0
    assert "bypass the token manager" in with_config.stderr
    without = run_cli(["--config", "missing.json", "token", "status"])
    assert without.exit_code == 0
    assert "bypassed" in without.stdout and "env-to…" in without.stdout
    assert_no_secrets(with_config.output + without.output)


def _script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": ""}
    return subprocess.run(
        [sys.executable, str(REPO / name), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )


def test_refresh_token_script_is_byods_token_refresh(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    _a, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access="valid", expires_at=time.time() + HOUR, refresh=refresh)
    config = tokens_config()
    done = _script(
        "refresh_token.py",
        "--force",
        "--json",
        "--config",
        str(config),
        "--base-url",
        tokens_fake.base_url,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tier"] == 1
    assert tokens_fake.calls == {"sa_refresh": 1}


def test_token_manager_script_prints_the_status_and_exits_2_on_bad_config(
    tokens_store: Path, tokens_config: Callable[..., Path], tmp_path: Path
) -> None:
    done = _script("token_manager.py", "--config", str(tokens_config()))
    assert done.returncode == 0, done.stderr
    assert "Tier 1 - service-app refresh token: missing" in done.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"serviceApp": {"appId": "x"}}))
    failed = _script("token_manager.py", "--config", str(bad))
    assert failed.returncode == 2
    assert "$.serviceApp.clientSecret" in failed.stderr


def test_token_status_check_failure_lists_only_the_tiers_it_tried(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: RunCli,
) -> None:
    access, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access=access, expires_at=time.time() + 24 * HOUR, refresh=refresh)
    args = [*base_args(tokens_config(), tokens_fake), "token", "status", "--check", "--json"]
    result = run_cli(args)  # the personal token is refused: the second check fails
    assert result.exit_code == 3
    first, second = json.loads(result.stdout)["checks"]
    assert first["ok"] and not second["ok"]
    assert "- tier 2 (Applications API" in second["detail"]
    assert "tier 0" not in second["detail"] and "tier 1" not in second["detail"]


def test_env_token_bypass_note_is_printed_once_on_stderr(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", "env-token-SECRETX")
    args = [*base_args(tokens_config(), tokens_fake), "token", "status"]
    text = run_cli(args)
    assert text.exit_code == 0, text.output
    assert text.stderr.count("bypass the token manager") == 1
    assert "bypass the token manager" not in text.stdout
    assert json.loads(run_cli([*args, "--json"]).stdout)["envTokenBypass"] is True
