"""The config spelling table: values are found where users keep them, and written back there."""

from __future__ import annotations

import pytest

from byods_manager.errors import ConfigError
from byods_manager.tokens.config_keys import (
    TOKEN_MANAGER_FIELDS,
    lookup,
    select_profile,
    spelling_in_use,
    write_location,
)


def test_current_spelling_is_found() -> None:
    profile = {"tokenManager": {"oauthRefreshToken": "r1", "refreshToken": "old"}}
    assert lookup(profile, TOKEN_MANAGER_FIELDS["oauthRefreshToken"]) == (
        ("tokenManager", "oauthRefreshToken"),
        "r1",
    )


def test_legacy_and_nested_spellings_are_found() -> None:
    legacy = {"tokenManager": {"clientId": "legacy-id"}}
    nested = {"tokenManager": {"integration": {"clientSecret": "nested-secret"}}}
    assert lookup(legacy, TOKEN_MANAGER_FIELDS["oauthClientId"]) == (
        ("tokenManager", "clientId"),
        "legacy-id",
    )
    assert lookup(nested, TOKEN_MANAGER_FIELDS["oauthClientSecret"]) == (
        ("tokenManager", "integration", "clientSecret"),
        "nested-secret",
    )


def test_empty_values_count_as_missing() -> None:
    profile = {"tokenManager": {"personalAccessToken": ""}}
    assert lookup(profile, TOKEN_MANAGER_FIELDS["personalAccessToken"]) is None


@pytest.mark.parametrize(
    ("profile", "expected_spelling", "expected_path"),
    [
        ({}, "current", ("tokenManager", "oauthRefreshToken")),
        ({"tokenManager": {"clientId": "x"}}, "legacy", ("tokenManager", "refreshToken")),
        (
            {"tokenManager": {"integration": {}}},
            "nested",
            ("tokenManager", "integration", "refreshToken"),
        ),
        (
            {"tokenManager": {"oauthClientId": "x"}},
            "current",
            ("tokenManager", "oauthRefreshToken"),
        ),
    ],
)
def test_new_values_follow_the_users_spelling(
    profile: dict[str, object], expected_spelling: str, expected_path: tuple[str, ...]
) -> None:
    assert spelling_in_use(profile) == expected_spelling
    assert write_location(profile, "oauthRefreshToken") == expected_path


def test_existing_value_is_rewritten_in_place() -> None:
    profile = {"tokenManager": {"oauthClientId": "a", "refreshToken": "old"}}
    assert write_location(profile, "oauthRefreshToken") == ("tokenManager", "refreshToken")


def test_single_profile_file_is_its_own_profile() -> None:
    raw = {"serviceApp": {"appId": "a"}}
    assert select_profile(raw, None) == (raw, ())
    assert select_profile(raw, "default") == (raw, ())
    with pytest.raises(ConfigError, match="no 'profiles' section"):
        select_profile(raw, "prod")


def test_multi_profile_selection() -> None:
    prod = {"serviceApp": {"appId": "p"}}
    lab = {"serviceApp": {"appId": "l"}}
    raw = {"defaultProfile": "prod", "profiles": {"prod": prod, "lab": lab}}
    assert select_profile(raw, None) == (prod, ("profiles", "prod"))
    assert select_profile(raw, "lab") == (lab, ("profiles", "lab"))
    with pytest.raises(ConfigError, match="'nope' not found"):
        select_profile(raw, "nope")
    with pytest.raises(ConfigError, match="choose one with --profile"):
        select_profile({"profiles": {"prod": prod, "lab": lab}}, None)
