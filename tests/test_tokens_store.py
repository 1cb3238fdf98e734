"""The token store file: versioned, 0600, never silently replaced, and the saving side the
setup wizard calls."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from byods_manager.errors import ConfigError
from byods_manager.tokens.endpoints import TokenResponse
from byods_manager.tokens.manager import TokenManager
from byods_manager.tokens.store import STORE_VERSION, TokenStore, default_store_path
from tests.fixtures_stores import BACKENDS
from tests.fixtures_tokens import (
    INTEG_CLIENT_ID,
    FakeWebexTokens,
    assert_no_secrets,
    read_store,
    service_entry,
)

BOTH_STORES = pytest.mark.parametrize("store_backend", BACKENDS, indirect=True)


def test_default_path_is_the_state_dir_unless_overridden(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert default_store_path() == isolated_home / "state" / "byods-manager" / "tokens.json"
    assert default_store_path(tmp_path / "x.json") == tmp_path / "x.json"
    monkeypatch.setenv("BYODS_TOKEN_STORE", str(tmp_path / "env.json"))
    assert default_store_path(tmp_path / "x.json") == tmp_path / "env.json"


def test_config_token_store_key_is_used(
    tokens_config: Callable[..., Path], tokens_fake: FakeWebexTokens, tmp_path: Path
) -> None:
    from tests.fixtures_tokens import PAT, profile_dict

    data = profile_dict()
    data["tokenStore"] = "my-tokens.json"  # relative to the config file
    manager = TokenManager.from_config(tokens_config(data), base_url=tokens_fake.base_url)
    tokens_fake.bearers_valid.add(PAT)
    manager.get_token()
    assert (tmp_path / "my-tokens.json").exists()


def test_saved_file_is_versioned_and_private(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "tokens.json"
    store = TokenStore(path)
    assert store.load().service_apps == {}
    with store.locked() as data:
        data.service_app("a@o").set_pair("acc-SECRETX", 1.0, "ref-SECRETX", 2.0, "test")
        store.save(data)
    raw = json.loads(path.read_text())
    assert raw["version"] == STORE_VERSION
    assert raw["serviceApps"]["a@o"]["refreshToken"] == "ref-SECRETX"
    assert path.stat().st_mode & 0o777 == 0o600
    assert Path(str(path) + ".lock").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{half", "not valid JSON"),
        ("[]", "not usable"),
        ('{"serviceApps": {}}', "no format version"),
        ('{"version": 99}', "newer byods-manager"),
        ('{"version": 1, "serviceApps": {"a@o": {"expiresAt": "soon"}}}', "must be a number"),
    ],
)
def test_a_broken_store_is_reported_and_left_alone(
    tmp_path: Path,
    tokens_config: Callable[..., Path],
    tokens_store: Path,
    tokens_fake: FakeWebexTokens,
    content: str,
    reason: str,
) -> None:
    tokens_store.parent.mkdir(parents=True, exist_ok=True)
    tokens_store.write_text(content)
    manager = TokenManager.from_config(tokens_config(), base_url=tokens_fake.base_url)
    with pytest.raises(ConfigError) as caught:
        manager.get_token()
    assert reason in str(caught.value) and str(tokens_store) in str(caught.value)
    assert caught.value.exit_code == 2
    with pytest.raises(ConfigError):
        manager.refresh(force=True)
    assert tokens_store.read_text() == content  # never silently replaced
    assert tokens_fake.server.log == []


def test_unknown_top_level_keys_survive_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"version": 1, "note": "kept"}))
    store = TokenStore(path)
    with store.locked() as data:
        store.save(data)
    assert json.loads(path.read_text())["note"] == "kept"


@BOTH_STORES
def test_wizard_saving_side(
    tokens_config: Callable[..., Path], tokens_store: Path, tokens_fake: FakeWebexTokens
) -> None:
    manager = TokenManager.from_config(
        tokens_config(integration=True), base_url=tokens_fake.base_url
    )
    now = time.time()
    manager.save_integration_tokens(
        TokenResponse("integ-acc-SECRETX", now + 3600, "integ-ref-SECRETX", now + 86400)
    )
    manager.save_minted_tokens(TokenResponse("sa-acc-SECRETX", now + 3600, "sa-ref-SECRETX", None))
    integration = read_store(tokens_store)["integrations"][INTEG_CLIENT_ID]
    assert integration["accessToken"] == "integ-acc-SECRETX"
    assert integration["refreshToken"] == "integ-ref-SECRETX"
    assert service_entry(tokens_store)["refreshToken"] == "sa-ref-SECRETX"
    # Tier 0 now, with no call; the config's older integration refresh token does not
    # override the one the wizard just saved.
    assert manager.get_token() == "sa-acc-SECRETX"
    assert tokens_fake.server.log == []
    assert read_store(tokens_store)["integrations"][INTEG_CLIENT_ID]["refreshToken"] == (
        "integ-ref-SECRETX"
    )
    assert_no_secrets(repr(manager.store.load()))


@BOTH_STORES
def test_saving_integration_tokens_needs_an_integration_client_id(
    tokens_config: Callable[..., Path], tokens_store: Path, tokens_fake: FakeWebexTokens
) -> None:
    manager = TokenManager.from_config(tokens_config(), base_url=tokens_fake.base_url)
    with pytest.raises(ConfigError, match="oauthClientId"):
        manager.save_integration_tokens(TokenResponse("a", time.time() + 60))
