"""Zero-touch onboarding end to end: the sandbox delivers signed ``serviceApp`` events over
real HTTP to the receiver, which mints and drops org tokens through the sandbox."""

from __future__ import annotations

from tests.fixtures_onboarding import Onboarding, wait_until


def test_a_new_org_is_onboarded_with_exactly_one_mint(onboarding: Onboarding) -> None:
    before = onboarding.mints()
    org_id = onboarding.sandbox.authorize_org()
    assert wait_until(lambda: org_id in onboarding.stored_orgs())
    onboarding.settle()
    assert onboarding.mints() == before + 1
    entry = onboarding.manager.store.load().service_apps[f"{onboarding.app_id}@{org_id}"]
    assert entry.source == "webhook" and entry.access_token and entry.refresh_token
    # The minted token really works for that org.
    token = entry.access_token
    import requests

    answer = requests.get(
        onboarding.sandbox.base_url + "/dataSources/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert onboarding.sandbox.stats_snapshot()["requestsByOrg"].get(org_id, 0) >= 1


def test_deauthorize_drops_the_tokens_and_reauthorize_mints_again(
    onboarding: Onboarding,
) -> None:
    sandbox = onboarding.sandbox
    org_id = sandbox.authorize_org()
    assert wait_until(lambda: org_id in onboarding.stored_orgs())
    sandbox.deauthorize_org(org_id)
    assert wait_until(lambda: org_id not in onboarding.stored_orgs())
    onboarding.settle()
    mints = onboarding.mints()
    sandbox.authorize_org(org_id)
    assert wait_until(lambda: org_id in onboarding.stored_orgs())
    onboarding.settle()
    assert onboarding.mints() == mints + 1
    assert onboarding.receiver.failures == 0


def test_the_default_org_keeps_its_tokens_when_another_org_leaves(
    onboarding: Onboarding,
) -> None:
    sandbox = onboarding.sandbox
    default_key = onboarding.manager.config.service_app.store_key
    onboarding.manager.get_token()  # the default org's pair, via the refresh chain
    other = sandbox.authorize_org()
    assert wait_until(lambda: other in onboarding.stored_orgs())
    sandbox.deauthorize_org(other)
    assert wait_until(lambda: other not in onboarding.stored_orgs())
    assert default_key in onboarding.manager.store.load().service_apps


def test_every_delivery_was_answered_with_a_success(onboarding: Onboarding) -> None:
    org_id = onboarding.sandbox.authorize_org()
    onboarding.sandbox.deauthorize_org(org_id)
    outcomes = onboarding.sandbox.wait_for_webhooks()
    assert len(outcomes) == 2
    assert {outcome.get("status") for outcome in outcomes} == {202}
    assert all(outcome["delivered"] for outcome in outcomes)
