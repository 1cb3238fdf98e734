"""A replica that stalls (GC pause, frozen VM) between an extension's GET and its PUT,
longer than its lease, while another replica takes the org over and extends the data
source: the stalled replica must not send its PUT (two extensions in one window).

The stall is injected in-process at the moment the GET's response arrives (the HTTP
layer's ``on_response`` hook, through the service's metrics), with a clock the ownership
reads instead of ``time.monotonic``: the leases live in a real store, the requests go to
the real sandbox, and the sandbox's own record of each PUT is what is judged.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from byods_manager.fleet.orgs import Fleet
from byods_manager.sandbox import Sandbox
from byods_manager.service.alerts import Alerter, AlertSender
from byods_manager.service.cycle import Settings
from byods_manager.service.keepalive import KeepaliveService
from byods_manager.service.logs import EventLog
from byods_manager.service.metrics import KeepaliveMetrics
from byods_manager.service.orgs import fleet_org_source
from byods_manager.service.ownership import Ownership, lease_name, replica_id
from byods_manager.stores.select import open_store
from tests.keepalive_helpers import register_data_sources, sandbox_client

LEASE_SECONDS = 15.0


class FrozenClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class StallOnRead(KeepaliveMetrics):
    """Counts responses as usual; at the first read of one data source (an extension's
    GET), runs ``stall`` before the response reaches the client."""

    def __init__(self, stall: object) -> None:
        super().__init__()
        self.stall = stall
        self.stalled_on: str | None = None

    def observe_response(self, method: str, path: str, status: int) -> None:
        super().observe_response(method, path, status)
        is_item = method == "GET" and path.rstrip("/").count("/") >= 2
        if is_item and "schemas" not in path and self.stalled_on is None:
            self.stalled_on = path.rstrip("/").rsplit("/", 1)[1]
            assert callable(self.stall)
            self.stall(self.stalled_on)


@pytest.mark.parametrize("heartbeat_noticed", [False, True], ids=["stalled", "heartbeat-lost"])
def test_a_replica_stalled_between_read_and_write_sends_no_second_put(
    sandbox_fleet: tuple[Sandbox, Fleet], tmp_path: Path, heartbeat_noticed: bool
) -> None:
    box, fleet_ = sandbox_fleet
    register_data_sources(box, 2, lifetime_minutes=1)
    leases = open_store(str(tmp_path / "leases" / "tokens.json"))
    stream = io.StringIO()
    log = EventLog(stream=stream)
    clock = FrozenClock()
    source = fleet_org_source(fleet_)
    ownership = Ownership(source, leases, replica_id(), LEASE_SECONDS, log, clock=clock)
    (home,) = [target.org_id for target in source()]
    other = replica_id()

    def stall(ds_id: str) -> None:
        # This replica freezes for longer than its lease: its lease runs out, the other
        # replica takes the org over and extends the data source in this window.
        clock.now += LEASE_SECONDS + 25
        leases.release_lease(lease_name(home), ownership.owner_id)
        assert leases.acquire_lease(lease_name(home), other, LEASE_SECONDS)
        rival = sandbox_client(box)
        try:
            rival.extend(ds_id)
        finally:
            rival.close()
        if heartbeat_noticed:
            ownership.renew_held()  # the heartbeat ran first on resuming: "lost"

    metrics = StallOnRead(stall)
    service = KeepaliveService(
        ownership,
        # Due at once: the renewal window is the whole lifetime.
        settings=Settings(renew_before=120),
        metrics=metrics,
        alerter=Alerter(AlertSender([], None, log), log),
        log=log,
        owner_elsewhere=ownership.owner_elsewhere,
    )
    box.reset()
    try:
        result = service.run_once()
    finally:
        service.close()
        leases.close()
    extensions = box.extensions()
    events = [line.split()[2] for line in stream.getvalue().splitlines()]

    assert metrics.stalled_on is not None
    # One PUT for the stalled data source (the new owner's), none from the stalled one.
    assert len(extensions[metrics.stalled_on]) == 1
    assert all(len(puts) == 1 for puts in extensions.values()), extensions
    assert events.count("lost") == 1
    skipped = [line for line in stream.getvalue().splitlines() if " extend_skipped " in line]
    assert len(skipped) == 1 and "reason=not_owned" in skipped[0]
    assert f"data_source={metrics.stalled_on}" in skipped[0]
    assert result.reports[0].extended == 0
