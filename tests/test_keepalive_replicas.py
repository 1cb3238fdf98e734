"""Three `byods keepalive` replicas on one PostgreSQL store: one owns the org, a killed
owner is replaced, and every data source is extended exactly once in its window."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from byods_manager.sandbox import Sandbox
from byods_manager.service.scheduler import renewal_time
from byods_manager.stores.postgres import PostgresStore
from tests.keepalive_helpers import (
    KeepaliveProcess,
    data_sources_by_id,
    keepalive_env,
    puts_outside_their_window,
    register_data_sources,
    wait_for,
)

pytestmark = pytest.mark.slow

LEASE = "3s"
# Data sources live one minute; renewal starts 30 s before expiry (minus up to 3 s of
# jitter), so the one window of this test opens 27-30 s after registration and the next
# one not before another 27 s.
LIFETIME_MINUTES = 1
RENEW_BEFORE = "30s"
WAIT_WINDOW_SECONDS = 45.0


def replica_env(base: dict[str, str], home: Path, store_url: str, audit: Path) -> dict[str, str]:
    """A "host" of its own: HOME and state dirs apart, only the store shared."""
    env = dict(base)
    env.update(
        HOME=str(home),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        BYODS_STORE=store_url,
        BYODS_AUDIT_LOG=str(audit),
    )
    return env


def owner_of(replicas: list[KeepaliveProcess], event: str) -> list[KeepaliveProcess]:
    return [replica for replica in replicas if replica.find(event)]


def extends_by_data_source(audits: list[Path]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for audit in audits:
        if not audit.exists():
            continue
        for line in audit.read_text().splitlines():
            entry = json.loads(line)
            if entry["operation"] == "extend" and entry["outcome"] == "success":
                counts[entry["dataSourceId"]] = counts.get(entry["dataSourceId"], 0) + 1
    return counts


def test_one_owner_takeover_after_kill_and_one_extend_per_window(
    sandbox: Sandbox, sandbox_config: Path, tmp_path: Path, pg_url: str
) -> None:
    ids = register_data_sources(sandbox, 3, lifetime_minutes=LIFETIME_MINUTES)
    sandbox.reset()
    base = keepalive_env(sandbox, sandbox_config, tmp_path)
    audits = [tmp_path / f"audit{index}.jsonl" for index in range(3)]
    args = ("--lease", LEASE, "--renew-before", RENEW_BEFORE, "--interval", "1s")
    replicas = [
        KeepaliveProcess(replica_env(base, tmp_path / f"host{i}", pg_url, audits[i]), *args)
        for i in range(3)
    ]
    try:
        first = wait_for(lambda: owner_of(replicas, "owns org="), "a replica to own the org")
        # Every replica has run cycles by now; only the one owner ever claimed the org.
        wait_for(lambda: all(r.count("cycle") >= 2 for r in replicas), "two cycles each")
        assert owner_of(replicas, "owns org=") == first and len(first) == 1
        killed = first[0]
        org = re.search(r" org=(\S+)", killed.find("owns org=") or "")
        assert org is not None
        killed.kill()

        survivors = [replica for replica in replicas if replica is not killed]
        took = wait_for(lambda: owner_of(survivors, "took_over"), "another replica to take over")
        assert len(took) == 1
        line = took[0].find("took_over") or ""
        assert f"org={org.group(1)}" in line
        # Replica ids are host:pid:random; the previous owner is the one killed.
        previous = re.search(r" previous=(\S+)", line)
        assert previous is not None and previous.group(1).split(":")[1] == str(killed.process.pid)

        store = PostgresStore(pg_url)
        try:
            leases = {lease.name: lease.owner for lease in store.leases()}
        finally:
            store.close()
        assert leases[f"org:{org.group(1)}"].split(":")[1] == str(took[0].process.pid)

        wait_for(
            lambda: len(extends_by_data_source(audits)) == len(ids),
            "every data source to be extended",
            timeout=WAIT_WINDOW_SECONDS,
        )
        # A few more cycles of both survivors inside the same window: nobody extends again.
        seen = {id(r): r.count("cycle") for r in survivors}
        wait_for(lambda: all(r.count("cycle") >= seen[id(r)] + 2 for r in survivors), "cycles")
        counts = extends_by_data_source(audits)
        puts = sandbox.stats_snapshot()["requests"].get("PUT /dataSources/{id}", 0)
    finally:
        codes = [replica.stop() for replica in replicas if replica.process.poll() is None]
        for replica in replicas:
            replica.kill()

    assert counts == {ds_id: 1 for ds_id in ids}
    assert puts == len(ids)
    assert codes == [0, 0]
    # Only the new owner extended (the window opened after the kill).
    assert extends_by_data_source([audits[replicas.index(took[0])]]) == counts
    assert set(data_sources_by_id(sandbox)) >= set(ids)


def test_a_pass_longer_than_the_lease_keeps_its_org_and_extends_each_data_source_once(
    sandbox: Sandbox, sandbox_config: Path, tmp_path: Path, pg_url: str
) -> None:
    # Six data sources, all due by the time the replicas start, and a sandbox slow enough
    # that one pass over them (list, then a GET and a PUT each) lasts well over the 3 s
    # lease. The lease must be renewed during the pass: if it ran out, the other replica
    # would take the org over and extend what the first one had not reached yet (twice in
    # one window).
    ids = register_data_sources(sandbox, 6, lifetime_minutes=LIFETIME_MINUTES)
    renew_before = 50.0
    due = [
        renewal_time(ds.expires_at.timestamp(), float(ds.claims["iat"]), renew_before, ds.id)
        for ds in data_sources_by_id(sandbox).values()
        if ds.id in ids and ds.expires_at is not None and ds.claims
    ]
    time.sleep(max(0.0, max(due) - time.time()))
    sandbox.reset()
    sandbox.set_latency(500)
    base = keepalive_env(sandbox, sandbox_config, tmp_path)
    args = ("--lease", LEASE, "--renew-before", f"{renew_before:g}s", "--interval", "1s")
    replicas = [
        KeepaliveProcess(
            replica_env(base, tmp_path / f"host{i}", pg_url, tmp_path / f"a{i}"), *args
        )
        for i in range(2)
    ]
    try:
        owner = wait_for(lambda: owner_of(replicas, "owns org="), "a replica to own the org")
        wait_for(lambda: owner[0].find("cycle orgs=1 lists=1 extended=6"), "the long pass")
        # The other replica has been trying to take the org over all along.
        other = next(replica for replica in replicas if replica is not owner[0])
        cycles = other.count("cycle")
        wait_for(lambda: other.count("cycle") >= cycles + 2, "two more cycles of the other")
        extensions = sandbox.extensions()
    finally:
        codes = [replica.stop() for replica in replicas]
    logs = "\n".join(line for replica in replicas for line in replica.lines)

    assert sorted(extensions) == sorted(ids)
    assert puts_outside_their_window(extensions, renew_before) == [], logs
    assert len(owner) == 1
    assert not owner_of(replicas, "took_over") and not owner_of(replicas, "lost"), logs
    assert "orgs=0" in (other.find("cycle") or "")
    assert codes == [0, 0]
