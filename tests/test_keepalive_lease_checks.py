"""A replica that loses an org in the middle of a pass stops working on it: the lease is
renewed in the store right before each extension, and a refusal means no PUT is sent
(the library's service over the real sandbox, leases in a real token store)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from byods_manager.client import DataSourceClient
from byods_manager.fleet.orgs import Fleet
from byods_manager.sandbox import Sandbox
from byods_manager.service.alerts import Alerter, AlertSender
from byods_manager.service.cycle import Settings
from byods_manager.service.keepalive import KeepaliveService
from byods_manager.service.logs import EventLog
from byods_manager.service.metrics import KeepaliveMetrics
from byods_manager.service.orgs import OrgTarget, fleet_org_source
from byods_manager.service.ownership import Ownership, lease_name, replica_id
from byods_manager.stores.select import open_store
from byods_manager.tokens.config import load_config
from byods_manager.tokens.store import TokenStore
from tests.keepalive_helpers import register_data_sources

LEASE_SECONDS = 60.0


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[Sandbox, Fleet]]:
    with Sandbox() as box:
        config = load_config(box.write_config(tmp_path / "token-config.json"))
        fleet = Fleet(config, base_url=box.base_url, store=TokenStore(tmp_path / "tokens.json"))
        try:
            yield box, fleet
        finally:
            fleet.close()


def test_an_org_taken_over_mid_pass_gets_no_extension_from_the_old_owner(
    fleet: tuple[Sandbox, Fleet], tmp_path: Path
) -> None:
    box, fleet_ = fleet
    ids = register_data_sources(box, 2, lifetime_minutes=1)
    leases = open_store(str(tmp_path / "leases" / "tokens.json"))
    stream = io.StringIO()
    log = EventLog(stream=stream)
    ownership = Ownership(fleet_org_source(fleet_), leases, replica_id(), LEASE_SECONDS, log)
    other = replica_id()
    (home,) = [target.org_id for target in fleet_org_source(fleet_)()]

    def source() -> list[OrgTarget]:
        def client() -> DataSourceClient:
            # While this replica starts its pass, the org changes hands (its lease was
            # handed to another replica, as after an expiry during a stall).
            leases.release_lease(lease_name(home), ownership.owner_id)
            assert leases.acquire_lease(lease_name(home), other, LEASE_SECONDS)
            return fleet_.client_for_org(home)

        return [OrgTarget(t.org_id, t.name, t.tokens, client, t.lease) for t in ownership()]

    service = KeepaliveService(
        source,
        # Due at once: the renewal window is the whole lifetime.
        settings=Settings(renew_before=120),
        metrics=KeepaliveMetrics(),
        alerter=Alerter(AlertSender([], None, log), log),
        log=log,
    )
    box.reset()
    try:
        result = service.run_once()
    finally:
        service.close()
        leases.close()
    requests = box.stats_snapshot()["requests"]
    events = [line.split()[2] for line in stream.getvalue().splitlines()]

    assert requests.get("GET /dataSources", 0) == 1
    assert "PUT /dataSources/{id}" not in requests
    assert box.extensions() == {}
    assert events.count("lost") == 1
    assert events.count("extend_skipped") == 1  # the pass ends at the first refusal
    assert result.reports[0].extended == 0 and len(ids) == 2
