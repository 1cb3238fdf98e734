"""End to end: the real CLI over real HTTP against the sandbox, token-manager tiers included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

from byods_manager.cli.main import cli
from byods_manager.sandbox import Sandbox

MINT = "POST /applications/{appId}/token"
SERVICE_APP_REFRESH = "POST /access_token [refresh_token:service_app]"
INTEGRATION_REFRESH = "POST /access_token [refresh_token:integration]"


def byods(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def requests_made(sandbox: Sandbox) -> dict[str, int]:
    counts: dict[str, int] = sandbox.stats_snapshot()["requests"]
    return counts


def register(schema: str = "5397013b-7920-4ffc-807c-e8a3e0a18f43") -> dict[str, Any]:
    result = byods(
        "register",
        "--url",
        "https://dap.example.com/e2e",
        "--schema-id",
        schema,
        "--audience",
        "E2E",
        "--subject",
        "callAudioData",
        "--lifetime-minutes",
        "30",
        "--json",
    )
    assert result.exit_code == 0, result.output
    created: dict[str, Any] = json.loads(result.stdout)
    return created


@pytest.mark.usefixtures("sandbox_env")
def test_the_whole_lifecycle(sandbox: Sandbox) -> None:
    created = register()
    stored = {ds["id"]: ds for ds in sandbox.data_sources()}
    assert stored[created["id"]]["tokenLifetimeMinutes"] == 30

    listed = byods("list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [item["id"] for item in json.loads(listed.stdout)] == [created["id"]]

    shown = byods("show", created["id"])
    assert shown.exit_code == 0
    assert "com.cisco.org.uuid" in shown.stdout
    assert stored[created["id"]]["jwsToken"] not in shown.output

    before = stored[created["id"]]["nonce"]
    assert byods("extend", created["id"]).exit_code == 0
    after = sandbox.data_sources()[0]
    assert after["nonce"] != before
    assert after["jwsToken"] != stored[created["id"]]["jwsToken"]

    assert byods("disable", created["id"], "--reason", "maintenance").exit_code == 0
    assert sandbox.data_sources()[0]["status"] == "disabled"
    assert sandbox.data_sources()[0]["errorMessage"] == "maintenance"
    assert byods("enable", created["id"]).exit_code == 0
    assert sandbox.data_sources()[0]["status"] == "active"

    deleted = byods("delete", created["id"], "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert sandbox.data_sources() == []
    assert byods("show", created["id"]).exit_code == 1


@pytest.mark.usefixtures("sandbox_env")
def test_the_token_manager_climbs_the_tiers_as_the_sandbox_takes_tokens_away(
    sandbox: Sandbox,
) -> None:
    # First call: no stored token, so tier 2 mints one with the personal access token.
    assert byods("list").exit_code == 0
    assert requests_made(sandbox)[MINT] == 1

    # The stored access token dies on the server: 401, then tier 1 (its refresh token).
    sandbox.expire_access_tokens("service_app")
    assert byods("list").exit_code == 0
    assert requests_made(sandbox)[SERVICE_APP_REFRESH] == 1
    assert requests_made(sandbox)[MINT] == 1

    # Access and refresh tokens revoked: tier 1 fails, tier 2 mints again.
    sandbox.revoke_tokens("service_app", refresh=True)
    assert byods("list").exit_code == 0
    assert requests_made(sandbox)[MINT] == 2

    # The personal token has expired too: tier 3 refreshes the integration, then mints.
    sandbox.revoke_tokens("service_app", refresh=True)
    sandbox.expire_access_tokens("personal")
    result = byods("list")
    assert result.exit_code == 0, result.output
    assert requests_made(sandbox)[INTEGRATION_REFRESH] == 1
    assert requests_made(sandbox)[MINT] >= 3


@pytest.mark.usefixtures("sandbox_env")
def test_when_every_tier_fails_the_exit_code_is_3(sandbox: Sandbox) -> None:
    assert byods("list").exit_code == 0
    sandbox.revoke_tokens(None, refresh=True)
    result = byods("list")
    assert result.exit_code == 3, result.output
    assert "byods auth setup" in result.output


@pytest.mark.usefixtures("sandbox_env")
def test_a_rotated_integration_refresh_token_is_kept_for_the_next_run(sandbox: Sandbox) -> None:
    """Tier 3 twice in a row only works if the rotated refresh token was saved."""
    for expected in (1, 2):
        sandbox.revoke_tokens("service_app", refresh=True)
        sandbox.expire_access_tokens("personal")
        sandbox.expire_access_tokens("integration")
        result = byods("list")
        assert result.exit_code == 0, result.output
        assert requests_made(sandbox)[INTEGRATION_REFRESH] == expected


@pytest.mark.usefixtures("sandbox_env")
def test_the_cli_rides_out_injected_gateway_errors(sandbox: Sandbox) -> None:
    assert byods("list").exit_code == 0
    sandbox.add_fault(503, count=1, path="/dataSources", method="GET", retry_after=0)
    result = byods("list", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert requests_made(sandbox)["GET /dataSources"] == 3


@pytest.mark.usefixtures("sandbox_env")
def test_out_of_range_lifetimes_are_stopped_before_anything_is_sent(sandbox: Sandbox) -> None:
    created = register()
    result = byods("update", created["id"], "--lifetime-minutes", "2000")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "PUT /dataSources/{id}" not in requests_made(sandbox)
