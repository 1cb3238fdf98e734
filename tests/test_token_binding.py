"""Stored tokens are bound to the API base URL that issued them and never sent elsewhere."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from byods_manager.fileio import atomic_write_json
from tests.fixtures_tokens import APP_ID, ORG_ID, PAT, FakeWebexTokens, service_entry

RunCli = Callable[..., Result]
PRODUCTION = "https://webexapis.com/v1"


def store_issued_by(path: Path, base_url: str, access: str, refresh: str) -> None:
    entry = {
        "accessToken": access,
        "expiresAt": time.time() + 86400,
        "refreshToken": refresh,
        "refreshExpiresAt": time.time() + 30 * 86400,
        "source": "refresh-token",
        "baseUrl": base_url,
    }
    atomic_write_json(
        path, {"version": 1, "serviceApps": {f"{APP_ID}@{ORG_ID}": entry}, "integrations": {}}
    )


def sent_credentials(fake: FakeWebexTokens) -> str:
    return json.dumps(
        [
            (dict(request.headers).get("Authorization"), request.get_data(as_text=True))
            for request, _ in fake.server.log
        ]
    )


def test_tokens_from_another_base_url_are_never_sent(
    tokens_fake: FakeWebexTokens,
    tokens_config: Callable[..., Path],
    tokens_store: Path,
    run_cli: RunCli,
) -> None:
    tokens_fake.bearers_valid.add(PAT)
    store_issued_by(tokens_store, PRODUCTION, "prod-access-token-0001", "prod-refresh-token-0001")
    config = tokens_config()
    result = run_cli(["--config", str(config), "--base-url", tokens_fake.base_url, "list"])
    assert result.exit_code == 0, result.output
    sent = sent_credentials(tokens_fake)
    assert "prod-access-token-0001" not in sent
    assert "prod-refresh-token-0001" not in sent
    # A pair from this base URL (tier 2) replaced them, bound to where it came from.
    assert service_entry(tokens_store)["baseUrl"] == tokens_fake.base_url


def test_tokens_are_bound_to_the_base_url_that_issued_them(
    tokens_fake: FakeWebexTokens,
    tokens_config: Callable[..., Path],
    tokens_store: Path,
    run_cli: RunCli,
) -> None:
    _, refresh = tokens_fake.new_service_pair()
    store_issued_by(tokens_store, tokens_fake.base_url, "old-access-token-0001", refresh)
    config = tokens_config()
    args = ["--config", str(config), "--base-url", tokens_fake.base_url]
    assert run_cli([*args, "token", "refresh", "--force"]).exit_code == 0
    assert tokens_fake.calls["sa_refresh"] == 1  # its own refresh token was used
    assert service_entry(tokens_store)["baseUrl"] == tokens_fake.base_url


def test_the_tier_0_line_says_the_token_belongs_to_another_base_url(
    tokens_fake: FakeWebexTokens,
    tokens_config: Callable[..., Path],
    tokens_store: Path,
    run_cli: RunCli,
) -> None:
    """A valid token from elsewhere is not 'within the refresh threshold': say why it is
    not used."""
    store_issued_by(tokens_store, PRODUCTION, "prod-access-token-0001", "prod-refresh-token-0001")
    config = tokens_config()
    result = run_cli(["--config", str(config), "--base-url", tokens_fake.base_url, "list"])
    assert result.exit_code == 3, result.output
    tier_0 = next(line for line in result.output.splitlines() if "tier 0" in line)
    assert f"issued by {PRODUCTION}, not sent to {tokens_fake.base_url}" in tier_0
    assert "within the refresh threshold" not in tier_0
    assert "prod-access-token-0001" not in result.output
