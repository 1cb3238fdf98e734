"""Three `byods keepalive --all-orgs` replicas ("hosts" with their own HOME and config) on
one PostgreSQL store, keeping three sandbox orgs: the orgs spread one per replica, every
org has one owner at a time, every data source is extended exactly once per renewal
window (judged from the sandbox's own record of each PUT), and when the owner of an org
is SIGKILLed another replica takes the org over and its data sources go on being
extended."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from byods_manager.sandbox import Sandbox
from byods_manager.stores.postgres import PostgresStore
from tests.fixtures_sandbox import register
from tests.keepalive_helpers import (
    KeepaliveProcess,
    byods,
    keepalive_env,
    puts_outside_their_window,
    wait_for,
)
from tests.test_keepalive_replicas import replica_env

pytestmark = pytest.mark.slow

SCHEMA = "5397013b-7920-4ffc-807c-e8a3e0a18f43"
DATA_SOURCES_PER_ORG = 2
LEASE_SECONDS = 3
# Tokens live 60 s; renewal starts 50 s before expiry, moved earlier by a jitter of up to
# 10 % of that: each window opens 5-10 s after the previous PUT, so a PUT made less than
# 5 s after the previous one was not due (a second extension in the same window).
LIFETIME_MINUTES = 1
RENEW_BEFORE_SECONDS = 50
OWNERSHIP = re.compile(r" (owns|took_over|lost|released) org=(\S+)")


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(orgs=3) as sandbox:
        yield sandbox


def seed(box: Sandbox, org_id: str, index: int) -> str:
    created = register(
        box,
        box.issue_access_token("service_app", org_id=org_id),
        url=f"https://dap.example.com/{org_id[-6:]}/{index}",
        schemaId=SCHEMA,
        audience="replicas",
        subject=f"org-{index}",
        tokenLifetimeMinutes=LIFETIME_MINUTES,
    )
    return str(created["id"])


def host_env(box: Sandbox, tmp_path: Path, index: int, pg_url: str) -> dict[str, str]:
    """A host of its own: HOME, state and a copy of the config apart; the store shared."""
    home = tmp_path / f"host{index}"
    config = home / "config" / "byods-manager" / "token-config.json"
    box.write_config(config)
    env = replica_env(keepalive_env(box, config, home), home, pg_url, home / "audit.jsonl")
    return env


def ownership_events(replica: KeepaliveProcess) -> list[tuple[str, str]]:
    """(event, org) for every ownership change this replica logged, in order."""
    found = (OWNERSHIP.search(line) for line in replica.lines)
    return [(match.group(1), match.group(2)) for match in found if match]


def held_by(replica: KeepaliveProcess) -> set[str]:
    """The orgs this replica's log says it holds now."""
    mine: set[str] = set()
    for event, org in ownership_events(replica):
        if event in ("owns", "took_over"):
            mine.add(org)
        else:
            mine.discard(org)
    return mine


def owners(replicas: list[KeepaliveProcess]) -> dict[str, list[KeepaliveProcess]]:
    """org -> the replicas whose log says they hold it now."""
    held: dict[str, list[KeepaliveProcess]] = {}
    for replica in replicas:
        for org in held_by(replica):
            held.setdefault(org, []).append(replica)
    return held


def spread(replicas: list[KeepaliveProcess]) -> list[int]:
    return sorted(len(held_by(replica)) for replica in replicas)


def puts_after(box: Sandbox, ds_ids: list[str], moment: float) -> bool:
    extensions = box.extensions()
    return all(any(put["at"] > moment for put in extensions.get(ds, [])) for ds in ds_ids)


def test_three_replicas_three_orgs_one_owner_one_extend_per_window_takeover(
    box: Sandbox, tmp_path: Path, pg_url: str
) -> None:
    admin = host_env(box, tmp_path, 9, pg_url)
    home, *others = box.org_ids
    for number, org in enumerate(others):
        added = byods(admin, "orgs", "add", org, "--name", f"org{number}")
        assert added.returncode == 0, added.stderr
    by_org = {
        org: [seed(box, org, index) for index in range(DATA_SOURCES_PER_ORG)] for org in box.org_ids
    }
    box.reset()
    args = (
        "--all-orgs",
        "--lease",
        f"{LEASE_SECONDS}s",
        "--renew-before",
        f"{RENEW_BEFORE_SECONDS}s",
        "--interval",
        "1s",
    )
    replicas = [KeepaliveProcess(host_env(box, tmp_path, i, pg_url), *args) for i in range(3)]
    all_ds = [ds for ids in by_org.values() for ds in ids]
    try:
        # The first replica up takes every org, then hands over all but its share.
        wait_for(lambda: spread(replicas) == [1, 1, 1], "one org per replica")
        wait_for(lambda: puts_after(box, all_ds, 0), "every data source extended", 30)
        before_kill = owners(replicas)
        spread_before = spread(replicas)
        victim_org = home
        (killed,) = before_kill[victim_org]
        killed.kill()
        killed_at = time.time()
        survivors = [replica for replica in replicas if replica is not killed]
        wait_for(
            lambda: any(("took_over", victim_org) in ownership_events(r) for r in survivors),
            "another replica to take the org over",
        )
        wait_for(
            lambda: puts_after(box, by_org[victim_org], killed_at),
            "the org's data sources extended by the new owner",
            30,
        )
        after_kill = owners(survivors)
        spread_after = spread(survivors)
        store = PostgresStore(pg_url)
        try:
            leases = {lease.name: lease.owner for lease in store.leases()}
        finally:
            store.close()
    finally:
        codes = [replica.stop() for replica in replicas if replica.process.poll() is None]
        for replica in replicas:
            replica.kill()
    extensions = box.extensions()
    checked_at = time.time()
    logs = "\n".join(line for replica in replicas for line in replica.lines)

    # One owner per org and one org per replica before the kill, nobody lost an org, and
    # the killed replica's org moved to one survivor.
    assert spread_before == [1, 1, 1] and spread_after == [1, 2]
    assert sorted(before_kill) == sorted(box.org_ids)
    assert all(len(holders) == 1 for holders in before_kill.values())
    assert all(len(holders) == 1 for holders in after_kill.values())
    assert set(after_kill) == set(box.org_ids)
    assert not [r for r in replicas if any(e == "lost" for e, _ in ownership_events(r))], logs
    (new_owner,) = after_kill[victim_org]
    assert leases[f"org:{victim_org}"].split(":")[1] == str(new_owner.process.pid)
    # Every PUT the sandbox saw fell inside the window of the token it replaced (due, and
    # before that token expired): at most one extension per window, and none missed.
    assert puts_outside_their_window(extensions, RENEW_BEFORE_SECONDS) == []
    for ds_id in all_ds:
        assert extensions[ds_id], ds_id
        assert extensions[ds_id][-1]["at"] + LIFETIME_MINUTES * 60 > checked_at
    # The killed replica's org went on being extended after the kill.
    assert puts_after(box, by_org[victim_org], killed_at)
    assert codes == [0, 0], logs
    assert "Traceback" not in logs
