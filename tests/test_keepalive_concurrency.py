"""The keepalive service keeps orgs concurrently: an org stuck before its first request
holds up no other (the library's service over the real multi-org sandbox)."""

from __future__ import annotations

import io
import time
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
from byods_manager.tokens.config import load_config
from byods_manager.tokens.store import TokenStore

GATE_SECONDS = 15.0


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[Sandbox, Fleet]]:
    with Sandbox(orgs=2) as box:
        config = load_config(box.write_config(tmp_path / "token-config.json"))
        fleet = Fleet(config, base_url=box.base_url, store=TokenStore(tmp_path / "tokens.json"))
        fleet.add(box.org_ids[1], name="beta")
        try:
            yield box, fleet
        finally:
            fleet.close()


def service_for(source: list[OrgTarget], concurrency: int) -> KeepaliveService:
    log = EventLog(stream=io.StringIO())
    return KeepaliveService(
        lambda: source,
        settings=Settings(),
        metrics=KeepaliveMetrics(),
        alerter=Alerter(AlertSender([], None, log), log),
        log=log,
        concurrency=concurrency,
    )


def test_a_stuck_org_does_not_hold_up_the_next(fleet: tuple[Sandbox, Fleet]) -> None:
    """With one org at a time (``concurrency=1``) home's gate gives up and this fails."""
    box, fleet_ = fleet
    home, beta = box.org_ids
    box.reset()
    released: list[bool] = []

    def home_client() -> DataSourceClient:
        """Home's first request waits until beta has been served (or the gate gives up)."""
        deadline = time.monotonic() + GATE_SECONDS
        while time.monotonic() < deadline:
            if box.stats_snapshot()["requestsByOrg"].get(beta, 0) >= 1:
                released.append(True)
                break
            time.sleep(0.05)
        return fleet_.client_for_org(home)

    targets = list(fleet_org_source(fleet_)())
    assert [t.org_id for t in targets] == [home, beta]  # home comes first
    stuck = OrgTarget(home, "home", targets[0].tokens, home_client)
    service = service_for([stuck, targets[1]], concurrency=2)
    try:
        result = service.run_once()
    finally:
        service.close()

    assert released == [True]  # beta was served while home was still waiting
    assert result.ok, result.problems()
    assert [report.org for report in result.reports] == [home, beta]
    assert all(report.lists == 1 for report in result.reports)
