"""Leases nobody renews are cleared: ``byods store status`` stops listing a dead replica
(``replica:<id> (expired)``) three lease periods after its presence lease expired. Run on
both backends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from byods_manager.stores.base import StateStore
from byods_manager.stores.leases import STALE_AFTER_PERIODS
from byods_manager.stores.select import open_store
from tests.fixtures_stores import BACKENDS

RunCli = Callable[..., Result]
LEASE = 60.0
LONG_DEAD = -(STALE_AFTER_PERIODS + 1) * LEASE  # a ttl that expired 4 periods ago


@pytest.fixture(params=BACKENDS)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    return str(tmp_path / "state" / "tokens.json")


@pytest.fixture
def store(location: str) -> Iterator[StateStore]:
    opened = open_store(location)
    yield opened
    opened.close()


def names(store: StateStore) -> list[str]:
    return [lease.name for lease in store.leases()]


def test_a_long_expired_presence_lease_is_cleared_by_the_next_acquire(store: StateStore) -> None:
    assert store.acquire_lease("replica:dead", "dead", LONG_DEAD)
    assert names(store) == ["replica:dead"]  # nothing cleared it yet: it is listed, expired
    assert store.acquire_lease("replica:live", "live", LEASE)
    assert names(store) == ["replica:live"]


def test_a_recently_expired_lease_is_kept_and_can_still_be_taken_over(store: StateStore) -> None:
    assert store.acquire_lease("org:1", "dead", 0)  # expired just now
    assert store.acquire_lease("replica:live", "live", LEASE)
    assert names(store) == ["org:1", "replica:live"]
    assert [lease.owner for lease in store.leases()] == ["dead", "live"]
    assert store.acquire_lease("org:1", "live", LEASE)
    assert [lease.owner for lease in store.leases()] == ["live", "live"]


def test_an_acquire_that_fails_still_clears_stale_leases(store: StateStore) -> None:
    assert store.acquire_lease("org:1", "a", LEASE)
    assert store.acquire_lease("org:gone", "dead", LONG_DEAD)
    assert not store.acquire_lease("org:1", "b", LEASE)
    assert names(store) == ["org:1"]


def test_store_status_stops_listing_a_dead_replica(
    run_cli: RunCli, store: StateStore, location: str
) -> None:
    assert store.acquire_lease("replica:host-a:1:dead", "host-a:1:dead", LONG_DEAD)
    assert store.acquire_lease("replica:host-b:2:live", "host-b:2:live", LEASE)
    human = run_cli(["--store", location, "store", "status"])
    as_json = run_cli(["--store", location, "store", "status", "--json"])
    assert human.exit_code == as_json.exit_code == 0, human.output
    assert "host-a:1:dead" not in human.output and "(expired)" not in human.output
    assert "replica:host-b:2:live: host-b:2:live (" in human.output
    leases = json.loads(as_json.output)["leases"]
    assert [(lease["name"], lease["expired"]) for lease in leases] == [
        ("replica:host-b:2:live", False)
    ]
