"""Onboarding wired to the fleet, end to end with the sandbox: an org that authorizes
appears in the registry (source webhook) with the template's data sources registered, one
mint; one that deauthorizes is marked so and left out of --all-orgs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from byods_manager.fleet.desired import parse_desired
from byods_manager.fleet.orgs import Fleet
from byods_manager.http import HttpClient
from byods_manager.sandbox import Sandbox
from byods_manager.sandbox.schemas import VOICE_VIRTUAL_AGENT_GRPC
from byods_manager.service.onboarding import WebhookReceiver
from byods_manager.service.onboarding_fleet import FleetOnboarding, build_fleet_receiver
from byods_manager.service.onboarding_server import OnboardingHttpServer, serve_onboarding
from byods_manager.stores.orgs import DEAUTHORIZED, SOURCE_WEBHOOK, OrgRecord
from byods_manager.stores.select import open_store
from byods_manager.tokens.bearer import TokenManagerBearer
from byods_manager.tokens.config import load_config
from byods_manager.webhooks_api import OnboardingWebhooks
from tests.fixtures_onboarding import MINT_KEY, WEBHOOK_SECRET, wait_until
from tests.fixtures_stores import BACKENDS

TEMPLATE = parse_desired(
    [
        {
            "url": "https://dap.example.com/voice",
            "schemaId": VOICE_VIRTUAL_AGENT_GRPC,
            "audience": "dap-voice",
            "subject": "calls",
            "lifetimeMinutes": 60,
        },
        {
            "url": "https://dap.example.com/voice-2",
            "schemaId": VOICE_VIRTUAL_AGENT_GRPC,
            "audience": "dap-voice",
            "subject": "calls-2",
            "status": "disabled",
        },
    ],
    "template",
)


@dataclass
class FleetSetup:
    sandbox: Sandbox
    fleet: Fleet
    receiver: WebhookReceiver
    onboarding: FleetOnboarding
    server: OnboardingHttpServer
    events: list[tuple[str, str]]

    def mints(self) -> int:
        return int(self.sandbox.stats_snapshot()["requests"].get(MINT_KEY, 0))

    def record(self, org_id: str) -> OrgRecord | None:
        return next((r for r in self.fleet.registry.load_orgs() if r.org_id == org_id), None)

    def settle(self) -> None:
        self.sandbox.wait_for_webhooks()
        self.receiver.drain()


@pytest.fixture
def fleet_setup(
    sandbox: Sandbox, tmp_path: Path, store_backend: str, request: pytest.FixtureRequest
) -> Iterator[FleetSetup]:
    config = load_config(sandbox.write_config(tmp_path / "token-config.json"))
    location = (
        request.getfixturevalue("pg_url")
        if store_backend == "postgres"
        else str(tmp_path / "tokens.json")
    )
    fleet = Fleet(config, base_url=sandbox.base_url, store=open_store(location))
    events: list[tuple[str, str]] = []
    receiver, onboarding = build_fleet_receiver(
        fleet, WEBHOOK_SECRET, TEMPLATE, on_event=lambda name, org: events.append((name, org))
    )
    http = HttpClient(sandbox.base_url, None)
    manager = fleet.token_manager(fleet.default_org_id)
    with serve_onboarding(receiver) as server:
        OnboardingWebhooks(
            http, TokenManagerBearer(manager), config.service_app.app_id, fleet.store
        ).register(server.url, WEBHOOK_SECRET)
        yield FleetSetup(sandbox, fleet, receiver, onboarding, server, events)
    http.close()
    fleet.close()


def test_an_authorized_org_gets_the_template_with_one_mint(fleet_setup: FleetSetup) -> None:
    setup = fleet_setup
    before = setup.mints()
    org_id = setup.sandbox.authorize_org()
    assert wait_until(lambda: len(setup.sandbox.data_sources(org_id)) == 2)
    setup.settle()
    assert setup.mints() == before + 1
    record = setup.record(org_id)
    assert record is not None
    assert (record.status, record.source) == ("active", SOURCE_WEBHOOK)
    statuses = sorted(ds["status"] for ds in setup.sandbox.data_sources(org_id))
    assert statuses == ["active", "disabled"]
    assert setup.events == [("org_authorized", org_id)]
    assert setup.receiver.failures == 0
    assert org_id in [org.org_id for org in setup.fleet.active_orgs()]


@pytest.mark.parametrize("store_backend", BACKENDS, indirect=True)
def test_deauthorize_then_authorize_again(fleet_setup: FleetSetup) -> None:
    """On PostgreSQL the org's entry is added and dropped under that org's own lock."""
    setup = fleet_setup
    sandbox = setup.sandbox
    org_id = sandbox.authorize_org()
    # settle, not just "two data sources exist": the second one is created, then disabled,
    # and a deauthorize between the two would fail that first template run
    setup.settle()
    assert len(sandbox.data_sources(org_id)) == 2
    sandbox.deauthorize_org(org_id)
    setup.settle()
    record = setup.record(org_id)
    assert record is not None and record.status == DEAUTHORIZED
    assert org_id not in [org.org_id for org in setup.fleet.active_orgs()]
    key = setup.fleet.config_for(org_id).service_app.store_key
    assert key not in setup.fleet.store.load().service_apps
    assert len(sandbox.data_sources(org_id)) == 2  # data sources are not deleted
    mints = setup.mints()
    writes_before = {
        k: v for k, v in sandbox.stats_snapshot()["requests"].items() if k.startswith("POST /data")
    }
    sandbox.authorize_org(org_id)
    assert wait_until(lambda: getattr(setup.record(org_id), "status", "") == "active")
    setup.settle()
    assert setup.mints() == mints + 1
    writes_after = {
        k: v for k, v in sandbox.stats_snapshot()["requests"].items() if k.startswith("POST /data")
    }
    assert writes_after == writes_before  # the template was already true: nothing created
    assert len(sandbox.data_sources(org_id)) == 2
    assert [name for name, _ in setup.events] == [
        "org_authorized",
        "org_deauthorized",
        "org_authorized",
    ]
    assert setup.receiver.failures == 0


def test_a_deauthorize_during_the_template_run_then_authorize_again_heals(
    fleet_setup: FleetSetup,
) -> None:
    """The ordering that made the test above flaky, forced: the org deauthorizes while its
    first template run is under way (tokens revoked before the run writes). That run fails;
    authorizing again mints a fresh pair and makes the whole template true."""
    setup = fleet_setup
    sandbox = setup.sandbox
    record_event = setup.onboarding.on_event
    assert record_event is not None

    def deauthorize_on_first_arrival(name: str, org_id: str) -> None:
        record_event(name, org_id)
        if len(setup.events) == 1:
            sandbox.deauthorize_org(org_id)  # runs before the template is applied

    setup.onboarding.on_event = deauthorize_on_first_arrival
    org_id = sandbox.authorize_org()
    setup.settle()
    assert setup.receiver.failures == 1  # the interrupted first run
    assert sandbox.data_sources(org_id) == []
    record = setup.record(org_id)
    assert record is not None and record.status == DEAUTHORIZED
    mints = setup.mints()
    sandbox.authorize_org(org_id)
    setup.settle()
    assert setup.mints() == mints + 1
    assert setup.receiver.failures == 1  # the second authorize succeeded
    statuses = sorted(ds["status"] for ds in sandbox.data_sources(org_id))
    assert statuses == ["active", "disabled"]
    record = setup.record(org_id)
    assert record is not None and record.status == "active"
    assert [name for name, _ in setup.events] == [
        "org_authorized",
        "org_deauthorized",
        "org_authorized",
    ]


def test_the_default_org_deauthorizing_is_recorded(fleet_setup: FleetSetup) -> None:
    setup = fleet_setup
    default = setup.fleet.default_org_id
    setup.sandbox.deauthorize_org(default)
    setup.settle()
    assert default not in [org.org_id for org in setup.fleet.active_orgs()]
    record = setup.record(default)
    assert record is not None and record.source == "config"
