"""Zero-touch onboarding end to end: the sandbox delivers signed ``serviceApp`` events over
real HTTP to the receiver, which mints and drops org tokens through the sandbox."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests

from byods_manager.errors import ConfigError
from byods_manager.http import HttpClient
from byods_manager.sandbox import Sandbox
from byods_manager.service.onboarding_actions import build_receiver, org_store_key
from byods_manager.service.onboarding_server import serve_onboarding
from byods_manager.service.signature import sign
from byods_manager.tokens.bearer import TokenManagerBearer
from byods_manager.tokens.config import load_config
from byods_manager.tokens.manager import TokenManager
from byods_manager.tokens.store import TokenStore
from byods_manager.webhooks_api import OnboardingWebhooks
from tests.fixtures_onboarding import MINT_KEY, WEBHOOK_SECRET, Onboarding, wait_until


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


def test_the_mint_is_retried_while_authorization_settles(onboarding: Onboarding) -> None:
    """Webex may refuse the first mints right after the admin clicks Authorize."""
    onboarding.sandbox.add_fault(403, count=2, path="/applications/", method="POST")
    before = onboarding.mints()
    org_id = onboarding.sandbox.authorize_org()
    assert wait_until(lambda: org_id in onboarding.stored_orgs())
    onboarding.settle()
    assert onboarding.mints() == before + 3  # two refused, one granted
    assert onboarding.receiver.failures == 0


def test_a_definitive_refusal_is_not_retried(onboarding: Onboarding) -> None:
    onboarding.sandbox.add_fault(400, count=1, path="/applications/", method="POST")
    before = onboarding.mints()
    org_id = onboarding.sandbox.authorize_org()
    onboarding.settle()
    assert onboarding.mints() == before + 1
    assert org_id not in onboarding.stored_orgs()
    assert onboarding.receiver.failures == 1


def test_hooks_run_after_the_tokens_are_saved_or_dropped(sandbox: Sandbox, tmp_path: Path) -> None:
    config = load_config(sandbox.write_config(tmp_path / "token-config.json"))
    manager = TokenManager(
        config, base_url=sandbox.base_url, store=TokenStore(tmp_path / "tokens.json")
    )
    seen: list[tuple[str, str, bool]] = []

    def stored(org_id: str) -> bool:
        return org_store_key(config.service_app.app_id, org_id) in manager.store.load().service_apps

    webhooks = OnboardingWebhooks(
        HttpClient(sandbox.base_url, None),
        TokenManagerBearer(manager),
        config.service_app.app_id,
        manager.store,
    )
    webhooks_secret = "hooks-secret-000000000"
    receiver = build_receiver(
        manager,
        webhooks_secret,
        apply_template=lambda org: seen.append(("template", org, stored(org))),
        after_deauthorize=lambda org: seen.append(("deauthorized", org, stored(org))),
    )
    with serve_onboarding(receiver) as server:
        webhooks.register(server.url, webhooks_secret)
        org_id = sandbox.authorize_org()
        assert wait_until(lambda: len(seen) == 1)
        sandbox.deauthorize_org(org_id)
        sandbox.wait_for_webhooks()
        receiver.drain()
        # Authorized and at once deauthorized: the first event is moot, nothing is minted.
        mints = sandbox.stats_snapshot()["requests"][MINT_KEY]
        sandbox.add_fault(403, count=1, path="/applications/", method="POST")
        quick = sandbox.authorize_org()
        sandbox.deauthorize_org(quick)
        sandbox.wait_for_webhooks()
        receiver.drain()
    webhooks.http.close()
    assert seen == [
        ("template", org_id, True),
        ("deauthorized", org_id, False),
        ("deauthorized", quick, False),
    ]
    assert sandbox.stats_snapshot()["requests"][MINT_KEY] <= mints + 1
    assert receiver.failures == 0


def test_build_receiver_uses_the_secrets_register_saved(
    onboarding: Onboarding,
) -> None:
    receiver = build_receiver(onboarding.manager)
    body = json.dumps(onboarding.envelope("updated", "some-org")).encode()
    status, answer = receiver.handle(body, {"X-Spark-Signature": sign(WEBHOOK_SECRET, body)})
    assert (status, answer["status"]) == (200, "ignored")


def test_build_receiver_without_any_secret_is_a_config_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = load_config(sandbox.write_config(tmp_path / "token-config.json"))
    manager = TokenManager(
        config, base_url=sandbox.base_url, store=TokenStore(tmp_path / "tokens.json")
    )
    with pytest.raises(ConfigError, match="webhooks register"):
        build_receiver(manager)


def test_deliveries_signed_with_another_secret_change_nothing(onboarding: Onboarding) -> None:
    """The sandbox itself signs with a secret the receiver does not have: every delivery
    is refused with 401 and nothing is minted or stored."""
    for webhook in onboarding.webhooks.list_webhooks():
        onboarding.webhooks.delete(webhook.id)
    onboarding.webhooks.register(onboarding.server.url, "a-secret-the-receiver-lacks")
    before = (onboarding.mints(), onboarding.stored_orgs())
    org_id = onboarding.sandbox.authorize_org()
    outcomes = onboarding.sandbox.wait_for_webhooks()
    onboarding.receiver.drain()
    assert outcomes[-1] == {
        "webhookId": outcomes[-1]["webhookId"],
        "delivered": False,
        "status": 401,
    }
    assert (onboarding.mints(), onboarding.stored_orgs()) == before
    assert org_id not in onboarding.stored_orgs()


def test_no_secret_or_token_reaches_the_logs(
    onboarding: Onboarding, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    onboarding.sandbox.add_fault(403, count=1, path="/applications/", method="POST")
    org_id = onboarding.sandbox.authorize_org()
    assert wait_until(lambda: org_id in onboarding.stored_orgs())
    minted = onboarding.manager.store.load().service_apps[f"{onboarding.app_id}@{org_id}"]
    onboarding.sandbox.deauthorize_org(org_id)
    onboarding.settle()
    assert "retrying" in caplog.text  # the log was captured
    config = onboarding.manager.config
    secrets = [
        WEBHOOK_SECRET,
        config.service_app.client_secret,
        config.token_manager.personal_access_token or "",
        config.token_manager.oauth_client_secret or "",
        minted.access_token or "",
        minted.refresh_token or "",
    ]
    for secret in filter(None, secrets):
        assert secret not in caplog.text
