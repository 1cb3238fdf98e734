"""Config validation (every problem with its JSON path and a hint), older spellings,
profiles, warnings, and secrets kept out of reprs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from byods_manager.errors import ConfigError
from byods_manager.tokens.config import fingerprint, load_config
from tests.fixtures_tokens import (
    INTEG_CLIENT_ID,
    INTEG_CLIENT_SECRET,
    INTEG_REFRESH,
    PAT,
    SA_CLIENT_SECRET,
    SEED_REFRESH,
    assert_no_secrets,
    profile_dict,
)


def warnings_of(path: Path, profile: str | None = None) -> list[str]:
    seen: list[str] = []
    load_config(path, profile, warn=seen.append)
    return seen


@pytest.mark.parametrize("spelling", ["current", "legacy", "nested"])
def test_every_spelling_of_the_integration_is_read(
    tokens_config: Callable[..., Path], spelling: str
) -> None:
    path = tokens_config(integration=True, spelling=spelling)
    config = load_config(path)
    manager = config.token_manager
    assert manager.personal_access_token == PAT
    assert manager.oauth_client_id == INTEG_CLIENT_ID
    assert manager.oauth_client_secret == INTEG_CLIENT_SECRET
    assert manager.oauth_refresh_token == INTEG_REFRESH
    assert manager.has_integration
    assert warnings_of(path) == []


def test_service_app_seeds_are_read(tokens_config: Callable[..., Path]) -> None:
    config = load_config(tokens_config(seed_refresh=SEED_REFRESH, seed_access="seed-access"))
    assert config.service_app.seed_refresh_token == SEED_REFRESH
    assert config.service_app.seed_access_token == "seed-access"
    assert config.service_app.store_key == "app-123@org-456"


def test_all_problems_are_reported_at_once_with_json_paths_and_hints(
    tokens_config: Callable[..., Path],
) -> None:
    data = profile_dict()
    del data["serviceApp"]["clientSecret"]
    data["serviceApp"]["targetOrgId"] = 42
    data["serviceApp"]["appId"] = ""
    data["tokenManager"]["personalAccessToken"] = ["not", "a", "string"]
    with pytest.raises(ConfigError) as caught:
        load_config(tokens_config(data))
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert "4 problems" in message
    assert "$.serviceApp.clientSecret: required key is missing; hint:" in message
    assert "$.serviceApp.targetOrgId: must be of type string" in message
    assert "$.serviceApp.appId: must not be empty" in message
    assert "$.tokenManager.personalAccessToken: must be of type string or null" in message
    assert "developer.webex.com" in message  # a hint, not just a complaint


def test_paths_inside_a_profile_name_the_profile(tokens_config: Callable[..., Path]) -> None:
    broken = profile_dict()
    del broken["serviceApp"]["clientId"]
    path = tokens_config({"profiles": {"prod": broken, "lab": profile_dict()}})
    with pytest.raises(ConfigError, match=r"\$\.profiles\.prod\.serviceApp\.clientId"):
        load_config(path, "prod")
    assert load_config(path, "lab").profile == "lab"  # one broken profile spoils no other


def test_profile_selection(tokens_config: Callable[..., Path]) -> None:
    other = profile_dict()
    other["serviceApp"]["targetOrgId"] = "org-b"
    path = tokens_config({"defaultProfile": "b", "profiles": {"a": profile_dict(), "b": other}})
    assert load_config(path).service_app.target_org_id == "org-b"
    assert load_config(path, "a").service_app.target_org_id == "org-456"
    with pytest.raises(ConfigError, match="profile 'zzz' not found"):
        load_config(path, "zzz")
    single = tokens_config(name="single.json")
    with pytest.raises(ConfigError, match="no 'profiles' section"):
        load_config(single, "a")


def test_half_an_integration_is_an_error(tokens_config: Callable[..., Path]) -> None:
    data = profile_dict()
    data["tokenManager"]["oauthClientId"] = INTEG_CLIENT_ID
    with pytest.raises(ConfigError, match=r"\$\.tokenManager\.oauthClientSecret"):
        load_config(tokens_config(data))


def test_unknown_keys_and_open_permissions_only_warn(tokens_config: Callable[..., Path]) -> None:
    data = profile_dict()
    data["serviceApp"]["colour"] = "blue"
    data["extra"] = 1
    path = tokens_config(data)
    path.chmod(0o644)
    seen = warnings_of(path)
    assert any("$.serviceApp.colour" in w for w in seen)
    assert any("$.extra" in w for w in seen)
    assert any("chmod 600" in w and "0644" in w for w in seen)


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config not found"):
        load_config(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(bad)


def test_reprs_and_errors_hold_no_secrets(tokens_config: Callable[..., Path]) -> None:
    config = load_config(
        tokens_config(integration=True, seed_refresh=SEED_REFRESH, seed_access="seed-SECRETX")
    )
    assert_no_secrets(repr(config), extra=("seed-SECRETX",))
    data = profile_dict(integration=True)
    data["serviceApp"]["targetOrgId"] = None
    with pytest.raises(ConfigError) as caught:
        load_config(tokens_config(data))
    assert_no_secrets(str(caught.value))


def test_fingerprint_is_stable_and_not_the_value() -> None:
    assert fingerprint(SA_CLIENT_SECRET) == fingerprint(SA_CLIENT_SECRET)
    assert fingerprint(SA_CLIENT_SECRET) != fingerprint(SA_CLIENT_SECRET + "x")
    assert SA_CLIENT_SECRET not in str(fingerprint(SA_CLIENT_SECRET))
    assert fingerprint(None) is None and fingerprint("") is None


def test_cli_reports_config_problems_with_exit_2(
    tokens_config: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    data = profile_dict()
    del data["serviceApp"]["targetOrgId"]
    result = run_cli(["--config", str(tokens_config(data)), "token", "status"])
    assert result.exit_code == 2
    assert "$.serviceApp.targetOrgId" in result.stderr
    assert "Traceback" not in result.output
    assert_no_secrets(result.output)


def test_cli_profile_option(
    tokens_config: Callable[..., Path], run_cli: Callable[..., Result], tokens_store: Path
) -> None:
    other = profile_dict()
    other["serviceApp"]["targetOrgId"] = "org-b"
    path = tokens_config({"profiles": {"a": profile_dict(), "b": other}})
    result = run_cli(["--config", str(path), "--profile", "b", "token", "status", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["profile"], data["targetOrgId"]) == ("b", "org-b")
    ambiguous = run_cli(["--config", str(path), "token", "status"])
    assert ambiguous.exit_code == 2 and "--profile" in ambiguous.stderr
