"""`byods webhooks register|list|delete` against the sandbox's Webhooks API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from byods_manager.cli.main import cli
from byods_manager.errors import ApiError
from byods_manager.http import HttpClient
from byods_manager.sandbox import Sandbox
from byods_manager.sandbox.state import spark_id
from byods_manager.sandbox.webhooks import PORTAL_CLIENT_ID
from byods_manager.tokens.bearer import TokenManagerBearer
from byods_manager.tokens.config import load_config
from byods_manager.tokens.manager import TokenManager
from byods_manager.tokens.store import TokenStore
from byods_manager.webhooks_api import OnboardingWebhooks

TARGET = "http://127.0.0.1:9/webhooks/service-app"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tokens.json"
    monkeypatch.setenv("BYODS_TOKEN_STORE", str(path))
    return path


def byods(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def register_json(*extra: str, input: str | None = None) -> dict[str, Any]:
    result = byods("webhooks", "register", "--target-url", TARGET, "--json", *extra, input=input)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def server_webhooks(sandbox: Sandbox) -> list[dict[str, Any]]:
    with sandbox.state.lock:
        return [dict(w) for w in sandbox.state.webhooks.values()]


def test_register_creates_both_webhooks_with_a_generated_secret(
    sandbox: Sandbox, sandbox_env: dict[str, str], store: Path
) -> None:
    result = byods("webhooks", "register", "--target-url", TARGET)
    assert result.exit_code == 0, result.output
    created = server_webhooks(sandbox)
    assert sorted(w["event"] for w in created) == ["authorized", "deauthorized"]
    app_id = sandbox.state.identity.app_id
    for webhook in created:
        assert webhook["resource"] == "serviceApp"
        assert webhook["targetUrl"] == TARGET
        assert webhook["filter"] == f"id={app_id}"
    secret = created[0]["secret"]
    assert created[1]["secret"] == secret and len(secret) >= 32
    assert secret in result.output  # shown once
    saved = json.loads(store.read_text())["webhookSecrets"][TARGET]
    assert saved["secret"] == secret
    assert sorted(saved["webhookIds"]) == sorted(w["id"] for w in created)
    assert store.stat().st_mode & 0o777 == 0o600


def test_register_twice_creates_no_duplicates_and_never_shows_the_secret_again(
    sandbox: Sandbox, sandbox_env: dict[str, str], store: Path
) -> None:
    first = register_json()
    assert [w["action"] for w in first["webhooks"]] == ["created", "created"]
    assert first["secretGenerated"] is True
    ids = {w["id"] for w in server_webhooks(sandbox)}
    second = register_json()
    assert [w["action"] for w in second["webhooks"]] == ["kept", "kept"]
    assert second["secretGenerated"] is False and "secret" not in second
    assert {w["id"] for w in server_webhooks(sandbox)} == ids
    human = byods("webhooks", "register", "--target-url", TARGET)
    assert human.exit_code == 0
    assert first["secret"] not in human.output
    assert len(server_webhooks(sandbox)) == 2


def test_a_new_secret_replaces_the_webhooks_and_extra_copies_are_removed(
    sandbox: Sandbox, sandbox_env: dict[str, str], store: Path
) -> None:
    register_json()
    # Someone created a duplicate by hand.
    token = sandbox.issue_access_token("personal")
    existing = server_webhooks(sandbox)[0]
    import requests

    duplicate = {
        key: existing[key] for key in ("name", "targetUrl", "resource", "event", "filter", "secret")
    }
    requests.post(
        sandbox.base_url + "/webhooks",
        json=duplicate,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).raise_for_status()
    assert len(server_webhooks(sandbox)) == 3
    rotated = register_json("--secret", "-", input="a-brand-new-secret-0000000\n")
    assert sorted(w["action"] for w in rotated["webhooks"]) == ["replaced", "replaced"]
    assert len(rotated["removed"]) == 3
    now = server_webhooks(sandbox)
    assert len(now) == 2
    assert {w["secret"] for w in now} == {"a-brand-new-secret-0000000"}
    assert "a-brand-new-secret-0000000" not in json.dumps(rotated)
    saved = json.loads(store.read_text())["webhookSecrets"][TARGET]["secret"]
    assert saved == "a-brand-new-secret-0000000"


def test_an_explicit_secret_equal_to_the_saved_one_keeps_the_webhooks(
    sandbox: Sandbox, sandbox_env: dict[str, str], store: Path
) -> None:
    register_json("--secret", "the-same-secret-00000")
    again = register_json("--secret", "the-same-secret-00000")
    assert [w["action"] for w in again["webhooks"]] == ["kept", "kept"]


def test_list_and_delete(sandbox: Sandbox, sandbox_env: dict[str, str], store: Path) -> None:
    register_json()
    listed = byods("webhooks", "list", "--json")
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.stdout)
    assert sorted(w["event"] for w in items) == ["authorized", "deauthorized"]
    assert all(w["hasSecret"] and "secret" not in w for w in items)
    secret = server_webhooks(sandbox)[0]["secret"]
    table = byods("webhooks", "list")
    assert TARGET in table.output and secret not in table.output
    deleted = byods("webhooks", "delete", items[0]["id"])
    assert deleted.exit_code == 0 and items[0]["id"] in deleted.output
    assert [w["id"] for w in server_webhooks(sandbox)] == [items[1]["id"]]
    missing = byods("webhooks", "delete", items[0]["id"])
    assert missing.exit_code == 1 and "404" in missing.output
    for item in items[1:]:
        byods("webhooks", "delete", item["id"])
    assert byods("webhooks", "list").output.strip() == "No webhooks."


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--target-url", "http://example.com/hook"), "loopback"),
        (("--target-url", "ftp://example.com/hook"), "https://"),
        (("--target-url", "not a url"), "https://"),
        (("--target-url", TARGET, "--secret", "short"), "16 to 256"),
    ],
)
def test_bad_input_is_exit_2_and_sends_nothing(
    sandbox: Sandbox, sandbox_env: dict[str, str], store: Path, args: tuple[str, ...], needle: str
) -> None:
    before = sandbox.stats_snapshot()["requests"]
    result = byods("webhooks", "register", *args)
    assert result.exit_code == 2
    assert needle in result.output and "Traceback" not in result.output
    assert sandbox.stats_snapshot()["requests"] == before


def test_a_service_app_token_alone_cannot_manage_webhooks(
    sandbox: Sandbox, sandbox_env: dict[str, str], store: Path, sandbox_config: Path
) -> None:
    """With no token-manager token at all, the answer is exit 3 (a person must act)."""
    config = json.loads(sandbox_config.read_text())
    config["tokenManager"] = {}
    sandbox_config.write_text(json.dumps(config))
    result = byods("webhooks", "list")
    assert result.exit_code == 3, result.output
    assert "token-manager token" in result.output


def test_an_integration_token_is_used_when_the_personal_token_is_rejected(
    sandbox: Sandbox, sandbox_env: dict[str, str], store: Path
) -> None:
    sandbox.revoke_tokens("personal")
    first = register_json()
    assert [w["action"] for w in first["webhooks"]] == ["created", "created"]
    # The webhooks belong to the integration, not to the developer portal's app.
    portal = spark_id("APPLICATION", PORTAL_CLIENT_ID)
    assert (
        {w["appId"] for w in server_webhooks(sandbox)}
        == {spark_id("APPLICATION", sandbox.state.identity.integration_client_id)}
        != {portal}
    )
    integration = json.loads(store.read_text())["integrations"]
    assert any(entry["accessToken"] for entry in integration.values())


def test_list_follows_next_pages_only_below_the_base_url(
    sandbox: Sandbox, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """The token-manager token goes with each page request: a next link elsewhere is refused."""
    config = load_config(sandbox.write_config(tmp_path / "token-config.json"))
    manager = TokenManager(config, base_url=sandbox.base_url, store=TokenStore(tmp_path / "t.json"))
    item = {"id": "w1", "resource": "serviceApp", "event": "authorized", "targetUrl": TARGET}
    httpserver.expect_request("/v1/webhooks", query_string="").respond_with_json(
        {"items": [item]}, headers={"Link": '</v1/webhooks?cursor=2>; rel="next"'}
    )
    httpserver.expect_request("/v1/webhooks", query_string="cursor=2").respond_with_json(
        {"items": [{**item, "id": "w2"}]},
        headers={"Link": '<http://elsewhere.example/v1/webhooks?cursor=3>; rel="next"'},
    )
    http = HttpClient(httpserver.url_for("/v1"), None)
    api = OnboardingWebhooks(
        http, TokenManagerBearer(manager), config.service_app.app_id, manager.store
    )
    with pytest.raises(ApiError, match="outside the API base URL"):
        api.list_webhooks()
    assert len(httpserver.log) == 2
    http.close()
    manager.close()
