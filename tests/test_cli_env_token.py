"""An empty WEBEX_SERVICE_APP_ACCESS_TOKEN counts as unset: the token manager is used."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.fixtures_core import data_source_payload
from tests.fixtures_tokens import FakeWebexTokens, seed_store


@pytest.mark.parametrize("value", ["", "  "])
def test_empty_env_token_is_unset(
    value: str,
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    access, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access=access, expires_at=time.time() + 3600, refresh=refresh)
    payload = data_source_payload()
    tokens_fake.data_sources[payload["id"]] = payload
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", value)
    args = ["--config", str(tokens_config()), "--base-url", tokens_fake.base_url]
    listed = run_cli([*args, "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert payload["id"] in listed.stdout
    status = run_cli([*args, "token", "status", "--json"])
    assert '"envTokenBypass": false' in status.stdout
    assert "bypass" not in status.stderr
