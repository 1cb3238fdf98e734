"""``--state-file``: what the sandbox knows survives a restart; the file stays private."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import requests

from byods_manager.errors import ConfigError
from byods_manager.sandbox import Sandbox
from byods_manager.sandbox.schemas import VOICE_VIRTUAL_AGENT_GRPC
from byods_manager.sandbox.state import load_state


def test_state_survives_a_restart(tmp_path: Path) -> None:
    fields = ("schemaId", "url", "audience", "subject", "tokenLifetimeMinutes")
    state_file = tmp_path / "state" / "sandbox.json"
    with Sandbox(state_file=state_file) as first:
        config = first.config_data()
        token = first.issue_access_token("service_app")
        created = requests.post(
            first.base_url + "/dataSources",
            json={
                "schemaId": VOICE_VIRTUAL_AGENT_GRPC,
                "url": "https://dap.example.com/x",
                "audience": "a",
                "subject": "s",
                "nonce": "kept-nonce",
                "tokenLifetimeMinutes": 60,
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        kid = first.jwks()["keys"][0]["kid"]
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600

    with Sandbox(state_file=state_file) as second:
        headers = {"Authorization": f"Bearer {token}"}
        shown = requests.get(
            f"{second.base_url}/dataSources/{created['id']}", headers=headers, timeout=10
        )
        assert shown.status_code == 200
        assert shown.json()["jwsToken"] == created["jwsToken"]
        assert second.jwks()["keys"][0]["kid"] == kid
        assert second.config_data()["serviceApp"] == config["serviceApp"]
        reused = requests.put(
            f"{second.base_url}/dataSources/{created['id']}",
            json={**{k: created[k] for k in fields}, "nonce": "kept-nonce-2"},
            headers=headers,
            timeout=10,
        )
        assert reused.status_code == 200
        second.expire_access_tokens("service_app")

    with Sandbox(state_file=state_file) as third:
        expired = requests.get(
            third.base_url + "/dataSources",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert expired.status_code == 401
        org = third.state.identity.org_uuid
        assert third.state.used_nonces == {org: {"kept-nonce", "kept-nonce-2"}}


def test_without_a_state_file_nothing_is_written(tmp_path: Path) -> None:
    with Sandbox() as box:
        box.issue_access_token("service_app")
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]


@pytest.mark.parametrize(
    "content", ["{not json", json.dumps({"version": 99}), json.dumps({"version": 2})]
)
def test_a_damaged_state_file_is_a_config_error(tmp_path: Path, content: str) -> None:
    state_file = tmp_path / "sandbox.json"
    state_file.write_text(content)
    with pytest.raises(ConfigError):
        Sandbox(state_file=state_file)


def test_write_config_is_private_and_in_the_documented_format(tmp_path: Path) -> None:
    with Sandbox() as box:
        path = box.write_config(tmp_path / "cfg" / "token-config.json")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        data = json.loads(path.read_text())
        assert set(data) == {"serviceApp", "tokenManager", "sandbox"}
        assert data["sandbox"]["adminToken"] == box.admin_token
        assert data["sandbox"]["baseUrl"] == box.base_url
        assert set(data["serviceApp"]) == {"appId", "clientId", "clientSecret", "targetOrgId"}
        assert set(data["tokenManager"]) == {
            "personalAccessToken",
            "oauthClientId",
            "oauthClientSecret",
            "oauthRefreshToken",
        }


def test_the_sandbox_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ConfigError):
        Sandbox(host="0.0.0.0")


def test_a_busy_port_is_a_config_error() -> None:
    with Sandbox() as box, pytest.raises(ConfigError):
        Sandbox(port=box.port).start()


def test_saved_lifetimes_survive_a_restart_unless_an_option_overrides_them(
    tmp_path: Path,
) -> None:
    state_file = tmp_path / "sandbox.json"
    first = Sandbox(state_file=state_file)
    first.set_lifetimes(service_app=60, refresh=3600)

    kept = Sandbox(state_file=state_file)
    assert kept.state.lifetimes.service_app == 60
    assert kept.state.lifetimes.refresh == 3600

    overridden = Sandbox(state_file=state_file, access_token_lifetime=120)
    assert overridden.state.lifetimes.service_app == 120
    assert overridden.state.lifetimes.refresh == 3600
    assert Sandbox(state_file=state_file).state.lifetimes.service_app == 120


def test_a_transaction_saves_only_when_its_block_finishes(tmp_path: Path) -> None:
    state = load_state(tmp_path / "sandbox.json")
    org = state.identity.org_uuid
    with state.transaction():
        state.nonces_of(org).add("kept")
    with pytest.raises(ValueError), state.transaction():
        state.nonces_of(org).add("dropped")
        raise ValueError("the change failed half-way")
    saved = json.loads((tmp_path / "sandbox.json").read_text())
    assert saved["usedNonces"] == {org: ["kept"]}
