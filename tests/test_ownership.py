"""Lease-based org ownership (service/ownership.py) on both store backends, and
`byods keepalive` when the store cannot be reached."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from byods_manager.sandbox import Sandbox
from byods_manager.service.logs import EventLog
from byods_manager.service.orgs import OrgTarget
from byods_manager.service.ownership import (
    Ownership,
    fair_share,
    live_replicas,
    owned,
    replica_id,
)
from byods_manager.stores.base import StateStore
from tests.keepalive_helpers import KeepaliveProcess, keepalive_env, wait_for

UNREACHABLE = "postgresql://byods:pw-SECRET-77@127.0.0.1:1/byods?connect_timeout=2"


def targets(*org_ids: str) -> list[OrgTarget]:
    def no_client() -> object:
        raise AssertionError("ownership never builds a client")

    return [OrgTarget(org, org, None, no_client) for org in org_ids]  # type: ignore[arg-type]


class Replica:
    def __init__(self, store: StateStore, orgs: list[OrgTarget], lease: float = 60.0) -> None:
        self.stream = io.StringIO()
        self.orgs = orgs
        self.ownership: Ownership = owned(
            lambda: self.orgs, store, replica_id(), lease, EventLog("text", self.stream)
        )

    def cycle(self) -> list[str]:
        return [target.org_id for target in self.ownership()]

    def events(self) -> list[str]:
        return [line.split()[2] for line in self.stream.getvalue().splitlines()]


def org_owners(store: StateStore) -> dict[str, str]:
    return {lease.name: lease.owner for lease in store.leases() if lease.name.startswith("org:")}


def test_each_org_has_one_owner_and_changes_are_logged_once(state_store: StateStore) -> None:
    a = Replica(state_store, targets("org-1", "org-2"))
    b = Replica(state_store, targets("org-1", "org-2"))
    assert a.cycle() == ["org-1", "org-2"]  # alone: every org
    assert b.cycle() == []  # its share is one org, and none is free
    assert a.cycle() == ["org-1"]  # a sees b: hands the org beyond its share over
    assert b.cycle() == ["org-2"]
    assert a.cycle() == ["org-1"] and b.cycle() == ["org-2"]
    assert a.events() == ["owns", "owns", "released"]
    assert b.events() == ["owns"]
    assert org_owners(state_store) == {
        "org:org-1": a.ownership.owner_id,
        "org:org-2": b.ownership.owner_id,
    }


@pytest.mark.parametrize(
    ("orgs", "replicas", "share"), [(3, 3, 1), (3, 2, 2), (3, 1, 3), (0, 2, 0), (1, 3, 1)]
)
def test_fair_share_spreads_orgs_and_leaves_none_without_an_owner(
    orgs: int, replicas: int, share: int
) -> None:
    assert fair_share(orgs, replicas) == share
    assert share * replicas >= orgs


def test_three_replicas_over_three_orgs_own_one_each(state_store: StateStore) -> None:
    orgs = targets("org-1", "org-2", "org-3")
    replicas = [Replica(state_store, orgs) for _ in range(3)]
    for _ in range(3):
        owned_now = [replica.cycle() for replica in replicas]
    assert sorted(org for owned in owned_now for org in owned) == ["org-1", "org-2", "org-3"]
    assert [len(owned) for owned in owned_now] == [1, 1, 1]
    assert live_replicas(state_store.leases(), time.time()) == 3


def test_an_expired_lease_is_taken_over_and_the_old_owner_stops(state_store: StateStore) -> None:
    # A lease of 0 s is expired as soon as it is written: the replica "died" right away.
    dead = Replica(state_store, targets("org-1"), lease=0.0)
    live = Replica(state_store, targets("org-1"))
    assert dead.cycle() == ["org-1"]
    assert live.cycle() == ["org-1"]
    assert live.events() == ["took_over"]
    assert dead.ownership.owner_id in live.stream.getvalue()
    # The old owner comes back: it cannot renew, says so once, and does no work.
    assert dead.cycle() == []
    assert dead.cycle() == []
    assert dead.events() == ["owns", "lost"]


def test_heartbeat_renewals_keep_an_org_and_a_taken_org_is_not_confirmed(
    state_store: StateStore,
) -> None:
    a = Replica(state_store, targets("org-1"), lease=60.0)
    b = Replica(state_store, targets("org-1"))
    (target,) = a.ownership()
    assert target.lease is not None and target.lease.holds() and target.lease.confirm()
    a.ownership.renew_held()  # what the heartbeat does every third of a lease
    assert b.cycle() == []
    # An operator (or an expiry) gives the org to b: a's next write is refused.
    state_store.release_lease("org:org-1", a.ownership.owner_id)
    assert b.cycle() == ["org-1"]
    assert target.lease.holds()  # a has not heard yet ...
    assert not target.lease.confirm()  # ... but the renewal before a write fails
    assert not target.lease.holds()
    a.ownership.renew_held()
    assert a.events() == ["owns", "lost"]  # said once
    assert set(org_owners(state_store).values()) == {b.ownership.owner_id}


def test_a_lease_not_renewed_for_a_whole_period_is_not_trusted(state_store: StateStore) -> None:
    a = Replica(state_store, targets("org-1"), lease=0.0)
    (target,) = a.ownership()
    assert target.lease is not None and not target.lease.holds()


def test_release_all_hands_orgs_over_and_removed_orgs_are_released(
    state_store: StateStore,
) -> None:
    a = Replica(state_store, targets("org-1", "org-2"))
    b = Replica(state_store, targets("org-1", "org-2"))
    assert a.cycle() == ["org-1", "org-2"]
    a.orgs = targets("org-1")
    assert a.cycle() == ["org-1"]
    assert b.cycle() == ["org-2"]
    a.ownership.release_all()
    assert b.cycle() == ["org-1", "org-2"]
    assert a.events() == ["owns", "owns", "released", "released"]
    assert b.events() == ["owns", "owns"]
    assert set(org_owners(state_store)) == {"org:org-1", "org:org-2"}
    assert {lease.owner for lease in state_store.leases()} == {b.ownership.owner_id}


def test_keepalive_once_exits_1_with_one_line_when_the_store_is_down(
    sandbox: Sandbox, sandbox_config: Path, tmp_path: Path
) -> None:
    env = dict(keepalive_env(sandbox, sandbox_config, tmp_path), BYODS_STORE=UNREACHABLE)
    result = subprocess.run(
        [sys.executable, "-m", "byods_manager", "keepalive", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.returncode == 1
    assert len(errors) == 1 and "PostgreSQL store" in errors[0]
    assert "Traceback" not in result.stderr
    assert "pw-SECRET-77" not in result.stderr + result.stdout


def test_keepalive_service_keeps_retrying_while_the_store_is_down(
    sandbox: Sandbox, sandbox_config: Path, tmp_path: Path
) -> None:
    env = dict(keepalive_env(sandbox, sandbox_config, tmp_path), BYODS_STORE=UNREACHABLE)
    service = KeepaliveProcess(env, "--interval", "1s")
    try:
        wait_for(lambda: service.count("store_retry") >= 3, "three retries")
        health = service.get("/healthz")
        alive = service.process.poll() is None
    finally:
        code = service.stop()
    assert alive and code == 0
    assert health.status_code == 503
    assert service.count("store_unavailable") == 1
    assert "pw-SECRET-77" not in "\n".join(service.lines)


def test_a_lease_shorter_than_three_seconds_is_refused_before_anything_is_sent(
    sandbox: Sandbox, sandbox_config: Path, tmp_path: Path
) -> None:
    env = keepalive_env(sandbox, sandbox_config, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "byods_manager", "keepalive", "--once", "--lease", "2s"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "Error: --lease must be at least 3s (renewed every third)"
    assert sandbox.stats_snapshot()["requests"] == {}


def test_a_claim_is_fresh_only_shortly_after_a_renewal_and_never_once_lost(
    state_store: StateStore,
) -> None:
    now = [500.0]
    ownership = Ownership(
        lambda: targets("org-1"),
        state_store,
        replica_id(),
        30.0,
        EventLog("text", io.StringIO()),
        clock=lambda: now[0],
    )
    (target,) = ownership()
    assert target.lease is not None and target.lease.fresh()
    now[0] += 11.0  # more than a third of the lease: a stall, or a slow request
    assert target.lease.holds() and not target.lease.fresh()
    assert target.lease.confirm() and target.lease.fresh()  # renewed in the store again
    state_store.release_lease("org:org-1", ownership.owner_id)
    assert state_store.acquire_lease("org:org-1", "someone-else", 30.0)
    ownership.renew_held()  # the heartbeat hears of it
    assert not target.lease.fresh() and not target.lease.confirm()
