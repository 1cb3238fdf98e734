"""What a replica does with an org another replica took over (the library's service over
the real sandbox, leases in a real store): mid-pass, the lease is renewed right before
each extension and a refusal means no PUT is sent; afterwards, the alerts it had open
about the org are closed saying who keeps the org now, and the new owner announces again
what is still wrong."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pytest_httpserver import HTTPServer

from byods_manager.client import DataSourceClient
from byods_manager.fleet.orgs import Fleet
from byods_manager.sandbox import Sandbox
from byods_manager.service.alerts import Alerter, AlertSender
from byods_manager.service.cycle import Settings
from byods_manager.service.keepalive import KeepaliveService
from byods_manager.service.logs import EventLog
from byods_manager.service.metrics import KeepaliveMetrics
from byods_manager.service.orgs import OrgSource, OrgTarget, fleet_org_source
from byods_manager.service.ownership import Ownership, lease_name, replica_id
from byods_manager.stores.base import StateStore
from byods_manager.stores.select import open_store
from tests.keepalive_helpers import register_data_sources

LEASE_SECONDS = 60.0


def test_an_org_taken_over_mid_pass_gets_no_extension_from_the_old_owner(
    sandbox_fleet: tuple[Sandbox, Fleet], tmp_path: Path
) -> None:
    box, fleet_ = sandbox_fleet
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


def replica_service(
    source: OrgSource, leases: StateStore, hook: str
) -> tuple[KeepaliveService, Ownership]:
    """One replica: its own ownership, alert state (memory) and log; alerts to ``hook``."""
    log = EventLog(stream=io.StringIO())
    ownership = Ownership(source, leases, replica_id(), LEASE_SECONDS, log)
    service = KeepaliveService(
        ownership,
        settings=Settings(renew_before=120),
        metrics=KeepaliveMetrics(),
        alerter=Alerter(AlertSender([hook], None, log), log),
        log=log,
        owner_elsewhere=ownership.owner_elsewhere,
    )
    return service, ownership


def test_alerts_of_an_org_taken_over_are_closed_naming_the_new_owner(
    sandbox_fleet: tuple[Sandbox, Fleet], tmp_path: Path, httpserver: HTTPServer
) -> None:
    box, fleet_ = sandbox_fleet
    (ds_id,) = register_data_sources(box, 1, lifetime_minutes=1)
    box.add_fault(500, count=1000, path="/dataSources/", method="PUT")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    leases = open_store(str(tmp_path / "leases" / "tokens.json"))
    source = fleet_org_source(fleet_)
    (home,) = [target.org_id for target in source()]
    first, first_ownership = replica_service(source, leases, httpserver.url_for("/hook"))
    second, second_ownership = replica_service(source, leases, httpserver.url_for("/hook"))
    try:
        assert not first.run_once().ok  # the extension fails: announced by the first
        # The first replica stalls past its lease; the second takes the org over.
        leases.release_lease(lease_name(home), first_ownership.owner_id)
        assert not second.run_once().ok  # still failing: announced again by the new owner
        first.run_once()  # the first notices and lets go of the org
    finally:
        first.close()
        second.close()
        leases.close()
    posted = [json.loads(request.data) for request, _ in httpserver.log]

    fired = [("extend_failed", "warning"), ("data_source_expiring", "critical")]
    closed = [("extend_failed", "resolved"), ("data_source_expiring", "resolved")]
    assert [(a["event"], a["severity"]) for a in posted] == fired + fired + closed
    assert {a["dataSourceId"] for a in posted} == {ds_id}
    for closing in posted[4:]:
        assert f"now kept by replica {second_ownership.owner_id}" in closing["text"]
        assert "no longer kept" not in closing["text"]
    assert first.alerter.active() == [] and len(second.alerter.active()) == 2
    assert first.health()[1]["activeAlerts"] == 0
