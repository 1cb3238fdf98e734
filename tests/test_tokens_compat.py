"""`from token_manager import TokenManager`: the interface of the older sample."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures_core import data_source_payload
from tests.fixtures_tokens import FakeWebexTokens, seed_store, service_entry
from token_manager import TokenManager as LegacyTokenManager

HOUR = 3600.0


@pytest.fixture
def legacy(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> LegacyTokenManager:
    _a, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access="old", expires_at=time.time() - 1, refresh=refresh)
    return LegacyTokenManager(config_path=tokens_config(), base_url=tokens_fake.base_url)


def test_get_check_and_refresh(
    legacy: LegacyTokenManager, tokens_fake: FakeWebexTokens, tokens_store: Path
) -> None:
    assert legacy.is_token_valid() is False
    token = legacy.get_service_app_token()
    assert token in tokens_fake.sa_access_valid
    assert legacy.is_token_valid() is True
    assert tokens_fake.calls == {"sa_refresh": 1}
    newer = legacy.refresh_token()
    assert newer != token and service_entry(tokens_store)["accessToken"] == newer
    assert tokens_fake.calls == {"sa_refresh": 2}


def test_config_path_defaults_like_the_cli(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBEX_API_BASE_URL", tokens_fake.base_url)
    tokens_config()  # ./token-config.json (the tests run in tmp_path)
    manager = LegacyTokenManager()
    assert manager.config_path.name == "token-config.json"
    assert manager.base_url == tokens_fake.base_url


def test_extend_data_source_token(legacy: LegacyTokenManager, tokens_fake: FakeWebexTokens) -> None:
    payload = data_source_payload(nonce="nonce-old", lifetime=60)
    tokens_fake.data_sources[payload["id"]] = payload
    result = legacy.extend_data_source_token(payload["id"], token_lifetime_minutes=720)
    assert set(result) == {"success", "data", "nonce_updated", "token_expiry", "error"}
    assert result["success"] is True and result["error"] is None
    assert result["nonce_updated"] not in (None, "nonce-old")
    stored = tokens_fake.data_sources[payload["id"]]
    assert stored["nonce"] == result["nonce_updated"]
    assert stored["tokenLifetimeMinutes"] == 720
    assert result["data"]["id"] == payload["id"]
    assert "jwsToken" not in result["data"]
    assert result["token_expiry"] is not None


@pytest.mark.parametrize("minutes", [0, 1441])
def test_extend_rejects_bad_lifetimes_without_a_call(
    legacy: LegacyTokenManager, tokens_fake: FakeWebexTokens, minutes: int
) -> None:
    result = legacy.extend_data_source_token("some-id", token_lifetime_minutes=minutes)
    assert result["success"] is False and "1440" in result["error"]
    assert tokens_fake.server.log == []


def test_extend_reports_api_errors_in_the_result(
    legacy: LegacyTokenManager, tokens_fake: FakeWebexTokens
) -> None:
    result = legacy.extend_data_source_token("0f9e8d7c-0000-4000-8000-000000000000")
    assert result["success"] is False
    assert "404" in result["error"] or "not found" in result["error"].lower()
