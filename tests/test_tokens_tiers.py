"""Each refresh tier is used exactly when it should be, counted by the requests the local
server received (real HTTP over loopback)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from byods_manager.errors import AuthRequiredError, ByodsError
from byods_manager.tokens.manager import TokenManager
from tests.fixtures_stores import BACKENDS
from tests.fixtures_tokens import (
    INTEG_REFRESH,
    PAT,
    SEED_REFRESH,
    FakeWebexTokens,
    assert_no_secrets,
    read_store,
    seed_store,
    service_entry,
    write_document,
)

HOUR = 3600.0

BOTH_STORES = pytest.mark.parametrize("store_backend", BACKENDS, indirect=True)


def manager_for(config: Path, fake: FakeWebexTokens, **kw: object) -> TokenManager:
    return TokenManager.from_config(config, base_url=fake.base_url, **kw)  # type: ignore[arg-type]


@BOTH_STORES
def test_valid_stored_token_makes_no_call(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    seed_store(tokens_store, access="stored-access", expires_at=time.time() + HOUR, refresh="r")
    manager = manager_for(tokens_config(), tokens_fake)
    assert manager.get_token() == "stored-access"
    assert manager.get_token() == "stored-access"
    assert tokens_fake.server.log == []


@BOTH_STORES
def test_expired_token_makes_exactly_one_refresh_and_stores_the_rotated_pair(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    _access, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access="old", expires_at=time.time() - 10, refresh=refresh)
    manager = manager_for(tokens_config(), tokens_fake)
    token = manager.get_token()
    assert tokens_fake.calls == {"sa_refresh": 1}
    assert token in tokens_fake.sa_access_valid
    entry = service_entry(tokens_store)
    assert entry["accessToken"] == token
    assert (
        entry["refreshToken"] != refresh and entry["refreshToken"] in tokens_fake.sa_refresh_valid
    )
    assert entry["expiresAt"] == pytest.approx(time.time() + tokens_fake.expires_in, abs=60)
    assert entry["refreshExpiresAt"] == pytest.approx(
        time.time() + tokens_fake.refresh_expires_in, abs=60
    )
    # The next call is tier 0 again.
    assert manager.get_token() == token
    assert tokens_fake.calls == {"sa_refresh": 1}


@BOTH_STORES
@pytest.mark.parametrize(("remaining", "calls"), [(4 * 60, 1), (6 * 60, 0)])
def test_refresh_threshold_is_five_minutes(
    tokens_fake: FakeWebexTokens,
    tokens_store: Path,
    tokens_config: Callable[..., Path],
    remaining: float,
    calls: int,
) -> None:
    _a, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access="stored", expires_at=time.time() + remaining, refresh=refresh)
    manager_for(tokens_config(), tokens_fake).get_token()
    assert tokens_fake.calls["sa_refresh"] == calls


@BOTH_STORES
def test_rejected_refresh_token_falls_to_applications_api(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.bearers_valid.add(PAT)
    seed_store(tokens_store, access="old", expires_at=time.time() - 10, refresh="dead-refresh")
    token = manager_for(tokens_config(), tokens_fake).get_token()
    assert [kind for kind, _ in tokens_fake.log] == ["sa_refresh", "mint"]
    assert tokens_fake.log[1][1]["bearer"] == PAT
    entry = service_entry(tokens_store)
    assert entry["accessToken"] == token and entry["source"] == "applications-api"
    assert entry["refreshToken"] in tokens_fake.sa_refresh_valid


@BOTH_STORES
def test_no_refresh_token_goes_straight_to_tier_2(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.bearers_valid.add(PAT)
    manager_for(tokens_config(), tokens_fake).get_token()
    assert tokens_fake.calls == {"mint": 1}
    if isinstance(tokens_store, Path):
        assert tokens_store.stat().st_mode & 0o777 == 0o600


@BOTH_STORES
def test_tier_3_refreshes_the_integration_persists_it_and_retries_tier_2_once(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.integ_refresh_valid.add(INTEG_REFRESH)  # the PAT is not valid: 401
    config = tokens_config(integration=True)
    token = manager_for(config, tokens_fake).get_token()
    assert [kind for kind, _ in tokens_fake.log] == ["mint", "integration_refresh", "mint"]
    assert tokens_fake.log[0][1]["bearer"] == PAT
    integration_token = tokens_fake.log[2][1]["bearer"]
    assert integration_token.startswith("integ-access-")
    store = read_store(tokens_store)
    integration = store["integrations"]["integ-client-id"]
    assert integration["accessToken"] == integration_token
    assert integration["refreshToken"] in tokens_fake.integ_refresh_valid  # rotated, kept
    assert service_entry(tokens_store)["accessToken"] == token
    # The config was not touched by the routine refresh.
    assert INTEG_REFRESH in config.read_text()


@BOTH_STORES
def test_stored_integration_token_is_preferred_once_the_pat_has_been_seen(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.integ_refresh_valid.add(INTEG_REFRESH)
    config = tokens_config(integration=True)
    manager = manager_for(config, tokens_fake)
    manager.get_token()  # PAT 401 -> tier 3 -> tier 2
    tokens_fake.log.clear()
    manager.refresh(force=True)
    assert [kind for kind, _ in tokens_fake.log] == ["sa_refresh"]
    # Tier 1 is skipped by a dead refresh token: the integration token is used, not the PAT.
    tokens_fake.sa_refresh_valid.clear()
    tokens_fake.log.clear()
    manager.refresh(force=True)
    assert [kind for kind, _ in tokens_fake.log] == ["sa_refresh", "mint"]
    assert tokens_fake.log[1][1]["bearer"].startswith("integ-access-")


@BOTH_STORES
def test_every_tier_failing_raises_auth_required_with_one_line_per_tier(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    seed_store(tokens_store, access="old", expires_at=time.time() - 10, refresh="dead-refresh")
    config = tokens_config(integration=True)  # integration refresh token unknown to server
    with pytest.raises(AuthRequiredError) as caught:
        manager_for(config, tokens_fake).get_token()
    error = caught.value
    assert error.exit_code == 3
    assert [line.split(" ", 2)[:2] for line in error.attempts] == [
        ["tier", "0"],
        ["tier", "1"],
        ["tier", "2"],
        ["tier", "3"],
    ]
    assert "byods auth setup" in str(error) and "setup_oauth.py" in str(error)
    assert "HTTP 400" in error.attempts[1] and "HTTP 401" in error.attempts[2]
    assert_no_secrets(str(error), extra=("dead-refresh",))
    assert [kind for kind, _ in tokens_fake.log] == ["sa_refresh", "mint", "integration_refresh"]


@BOTH_STORES
def test_nothing_configured_beyond_the_service_app_needs_a_person(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    with pytest.raises(AuthRequiredError) as caught:
        manager_for(tokens_config(pat=None), tokens_fake).get_token()
    assert "none stored" in caught.value.attempts[1]
    assert "no usable token-manager token" in caught.value.attempts[2]
    assert tokens_fake.server.log == []


@BOTH_STORES
def test_temporary_failures_are_not_reported_as_needing_a_person(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.server.clear()
    tokens_fake.server.expect_request("/access_token").respond_with_data("busy", status=503)
    tokens_fake.server.expect_request(f"/applications/{'app-123'}/token").respond_with_data(
        "busy", status=503
    )
    seed_store(tokens_store, access="old", expires_at=time.time() - 10, refresh="r")
    with pytest.raises(ByodsError) as caught:
        manager_for(tokens_config(), tokens_fake).get_token()
    assert not isinstance(caught.value, AuthRequiredError)
    assert caught.value.exit_code == 1
    assert "temporary failure" in str(caught.value)


@BOTH_STORES
def test_invalidate_then_get_token_refreshes_once(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    _a, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access="revoked", expires_at=time.time() + HOUR, refresh=refresh)
    manager = manager_for(tokens_config(), tokens_fake)
    assert manager.get_token() == "revoked"
    assert manager.invalidate("revoked") is True
    assert service_entry(tokens_store)["accessToken"] is None
    new = manager.get_token()
    assert new != "revoked" and tokens_fake.calls == {"sa_refresh": 1}


@BOTH_STORES
def test_refresh_keeps_a_valid_token_unless_forced(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    _a, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, access="valid", expires_at=time.time() + HOUR, refresh=refresh)
    manager = manager_for(tokens_config(), tokens_fake)
    kept = manager.refresh()
    assert (kept.tier, kept.refreshed) == (0, False)
    assert tokens_fake.server.log == []
    forced = manager.refresh(force=True)
    assert forced.tier == 1 and forced.expires_at is not None
    assert tokens_fake.calls == {"sa_refresh": 1}


@BOTH_STORES
def test_seed_refresh_token_in_config_is_used_and_then_the_store_wins(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.sa_refresh_valid.add(SEED_REFRESH)
    config = tokens_config(seed_refresh=SEED_REFRESH)
    manager = manager_for(config, tokens_fake)
    manager.get_token()
    assert tokens_fake.log[0][1]["refresh_token"] == SEED_REFRESH
    rotated = service_entry(tokens_store)["refreshToken"]
    # The config still holds the (now used) seed; the store's newer value must win.
    tokens_fake.log.clear()
    manager_for(config, tokens_fake).refresh(force=True)
    assert tokens_fake.log[0][1]["refresh_token"] == rotated


@BOTH_STORES
def test_config_wins_when_a_person_puts_a_new_refresh_token_in_it(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.sa_refresh_valid.add(SEED_REFRESH)
    manager_for(tokens_config(seed_refresh=SEED_REFRESH), tokens_fake).get_token()
    _a, pasted = tokens_fake.new_service_pair()
    config = tokens_config(seed_refresh=pasted)
    tokens_fake.log.clear()
    manager_for(config, tokens_fake).refresh(force=True)
    assert tokens_fake.log[0][1]["refresh_token"] == pasted


@BOTH_STORES
def test_a_newly_pasted_personal_token_wins_over_the_stored_integration_token(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.integ_refresh_valid.add(INTEG_REFRESH)
    manager_for(tokens_config(integration=True), tokens_fake).get_token()
    new_pat = "pat-new-one-SECRETX-9999"
    tokens_fake.bearers_valid.add(new_pat)
    config = tokens_config(integration=True, pat=new_pat)
    tokens_fake.sa_refresh_valid.clear()
    tokens_fake.log.clear()
    manager_for(config, tokens_fake).refresh(force=True)
    assert [kind for kind, _ in tokens_fake.log] == ["sa_refresh", "mint"]
    assert tokens_fake.log[1][1]["bearer"] == new_pat


@BOTH_STORES
def test_profiles_sharing_one_store_keep_separate_entries(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    from tests.fixtures_tokens import profile_dict

    other = profile_dict()
    other["serviceApp"]["targetOrgId"] = "org-other"
    config = tokens_config(
        {"defaultProfile": "main", "profiles": {"main": profile_dict(), "other": other}}
    )
    tokens_fake.bearers_valid.add(PAT)
    tokens_fake.orgs.add("org-other")
    main_token = manager_for(config, tokens_fake).get_token()
    other_manager = TokenManager.from_config(config, profile="other", base_url=tokens_fake.base_url)
    other_token = other_manager.get_token()
    assert other_token != main_token
    store = read_store(tokens_store)
    assert store["serviceApps"]["app-123@org-456"]["accessToken"] == main_token
    assert store["serviceApps"]["app-123@org-other"]["accessToken"] == other_token
    assert tokens_fake.calls == {"mint": 2}
    # Each profile now finds its own token without a call.
    assert manager_for(config, tokens_fake).get_token() == main_token
    assert other_manager.get_token() == other_token
    assert tokens_fake.calls == {"mint": 2}


@BOTH_STORES
def test_check_lists_data_sources_and_saves_the_minted_pair(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.bearers_valid.add(PAT)
    manager = manager_for(tokens_config(), tokens_fake)
    results = manager.check()
    assert [r.ok for r in results] == [True, True]
    assert [kind for kind, _ in tokens_fake.log] == ["mint", "list", "mint"]
    minted_last = service_entry(tokens_store)["accessToken"]
    assert minted_last in tokens_fake.sa_access_valid
    assert minted_last != tokens_fake.log[1][1]["bearer"]  # the second pair was kept


@BOTH_STORES
def test_status_reports_each_tier_without_secrets(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    seed_store(
        tokens_store,
        access="sa-access-SECRETX-a",
        expires_at=time.time() + HOUR,
        refresh="sa-refresh-SECRETX-b",
        refresh_expires_at=time.time() + 3 * 86400,
    )
    status = manager_for(tokens_config(integration=True), tokens_fake).status()
    tiers = status.to_dict()["tiers"]
    assert [t["present"] for t in tiers] == [True, True, True, True]
    assert tiers[0]["prefix"] == "sa-acc…"
    assert any("under 14 days" in w for w in tiers[1]["warnings"])
    assert_no_secrets(repr(status) + str(status.to_dict()))
    assert tokens_fake.server.log == []


ROTATIONS = 12  # each rotation records two fingerprints; the store kept only 16 of them


@BOTH_STORES
def test_a_config_refresh_token_stays_known_across_many_rotations(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.sa_refresh_valid.add(SEED_REFRESH)
    config = tokens_config(pat=None, seed_refresh=SEED_REFRESH)
    for _ in range(ROTATIONS):
        assert manager_for(config, tokens_fake).refresh(force=True).tier == 1
    newest = service_entry(tokens_store)["refreshToken"]
    assert newest in tokens_fake.sa_refresh_valid and newest != SEED_REFRESH
    assert tokens_fake.calls == {"sa_refresh": ROTATIONS}


@BOTH_STORES
def test_a_config_integration_refresh_token_stays_known_across_many_rotations(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.integ_refresh_valid.add(INTEG_REFRESH)
    tokens_fake.expires_in = 60  # within the refresh threshold: every round needs tier 3
    config = tokens_config(pat=None, integration=True)
    for _ in range(ROTATIONS):
        tokens_fake.sa_refresh_valid.clear()
        assert manager_for(config, tokens_fake).refresh(force=True).tier == 3
    integration = read_store(tokens_store)["integrations"]["integ-client-id"]
    assert integration["refreshToken"] in tokens_fake.integ_refresh_valid
    assert tokens_fake.calls["integration_refresh"] == ROTATIONS


@BOTH_STORES
def test_a_store_without_config_fingerprints_keeps_the_config_value_known(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    from byods_manager.tokens.config import fingerprint

    _a, rotated = tokens_fake.new_service_pair()
    seed_store(tokens_store, access="old", expires_at=time.time() - 10, refresh=rotated)
    old = read_store(tokens_store)  # as written before configKnown existed
    old["serviceApps"]["app-123@org-456"]["known"] = [fingerprint(SEED_REFRESH)]
    write_document(tokens_store, old)
    config = tokens_config(pat=None, seed_refresh=SEED_REFRESH)  # the seed was used long ago
    for _ in range(ROTATIONS):
        assert manager_for(config, tokens_fake).refresh(force=True).tier == 1
    assert service_entry(tokens_store)["refreshToken"] in tokens_fake.sa_refresh_valid


@BOTH_STORES
def test_status_shows_the_token_manager_token_the_chain_would_use(
    tokens_fake: FakeWebexTokens, tokens_store: Path, tokens_config: Callable[..., Path]
) -> None:
    tokens_fake.integ_refresh_valid.add(INTEG_REFRESH)
    manager_for(tokens_config(integration=True), tokens_fake).get_token()  # integration kept
    new_pat = "pat-new-one-SECRETX-9999"
    config = tokens_config(integration=True, pat=new_pat)
    tier2 = manager_for(config, tokens_fake).status().tiers[2]
    assert (tier2.source, tier2.prefix) == ("personalAccessToken (config)", "pat-ne…")
    tokens_fake.bearers_valid.add(new_pat)
    tokens_fake.sa_refresh_valid.clear()
    tokens_fake.log.clear()
    manager_for(config, tokens_fake).refresh(force=True)
    assert tokens_fake.log[-1] == (
        "mint",
        {"bearer": new_pat, "path": "/applications/app-123/token"},
    )
