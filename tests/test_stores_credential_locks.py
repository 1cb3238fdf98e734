"""Per-credential locks on PostgreSQL: refreshes of different orgs run side by side, the
same org still refreshes once, saves of different orgs never undo each other, and the
integration's rotating refresh token (shared by every org) is rotated once.

Overlap is proven by the servers, not by timing: the token endpoint holds each org's
refresh until the other org's request has arrived (giving up after :data:`WAIT` seconds,
which is what a serialising store makes it do), and PostgreSQL's ``pg_locks`` shows who is
waiting for which lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from byods_manager.errors import ByodsError
from byods_manager.stores.document_merge import merge_changes
from byods_manager.stores.postgres import PostgresStore
from byods_manager.stores.scopes import integration_scope, service_app_scope
from byods_manager.tokens.config import load_config
from byods_manager.tokens.manager import TokenManager
from byods_manager.tokens.store import StoreData
from tests.fixtures_stores import PgStoreRef
from tests.fixtures_tokens import (
    APP_ID,
    INTEG_REFRESH,
    ORG_ID,
    SA_CLIENT_ID,
    FakeWebexTokens,
    profile_dict,
    read_store,
    write_document,
)

WAIT = 20.0  # how long the server holds a request for its partner: a guard, not a measure
OTHER_ORG = "org-789"
ORGS = (ORG_ID, OTHER_ORG)


class MeetingPoint(FakeWebexTokens):
    """The fake token endpoints, threaded, with two rendezvous:

    - ``barrier``: each service-app refresh waits until ``parties`` of them have arrived;
      if they never do, it is refused (400), as a store that serialises refreshes causes;
    - ``before_integration_refresh``: called before an integration refresh is answered.
    """

    def __init__(self, server: HTTPServer, parties: int = 2) -> None:
        self.barrier = threading.Barrier(parties, timeout=WAIT)
        self.before_integration_refresh: Callable[[], None] = lambda: None
        super().__init__(server)
        self.orgs = set(ORGS)

    def _access_token(self, request: Request) -> Response:
        if request.form.get("client_id") == SA_CLIENT_ID:
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                return self._error(400, "invalid_grant: the other org's refresh never came")
        else:
            self.before_integration_refresh()
        return super()._access_token(request)


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def meeting_point(threaded_server: HTTPServer) -> MeetingPoint:
    return MeetingPoint(threaded_server)


def _managers(
    store: PostgresStore, fake: FakeWebexTokens, write: Callable[..., Path], **profile: Any
) -> list[TokenManager]:
    managers = []
    for org in ORGS:
        data = profile_dict(**profile)
        data["serviceApp"]["targetOrgId"] = org
        config = load_config(write(data, name=f"config-{org}.json"))
        managers.append(TokenManager(config, base_url=fake.base_url, store=store))
    return managers


def _entry(access: str | None, refresh: str | None) -> dict[str, Any]:
    return {
        "accessToken": access,
        "expiresAt": time.time() - 60 if access else None,
        "refreshToken": refresh,
        "refreshExpiresAt": None,
        "source": "test",
        "updatedAt": time.time(),
        "known": [],
    }


def _seed(url: str, entries: dict[str, dict[str, Any]]) -> None:
    document = {"version": 1, "serviceApps": entries, "integrations": {}}
    write_document(PgStoreRef(url), document)


def _in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result(timeout=3 * WAIT) for future in futures]


def _waiting_advisory_locks(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()
    return int(row[0]) if row is not None else 0


def _until(condition: Callable[[], bool], what: str) -> None:
    give_up = time.monotonic() + WAIT  # a guard against hanging, not a timing check
    while not condition():
        assert time.monotonic() < give_up, what
        time.sleep(0.02)


# -- refreshes through the token manager ---------------------------------------------------


def test_two_orgs_refresh_at_the_same_time(
    pg_url: str, meeting_point: MeetingPoint, tokens_config: Callable[..., Path]
) -> None:
    refreshes = {org: meeting_point.new_service_pair()[1] for org in ORGS}
    _seed(pg_url, {f"{APP_ID}@{org}": _entry("old", refreshes[org]) for org in ORGS})
    store = PostgresStore(pg_url)  # one store shared by the threads, as in a fleet run
    first, second = _managers(store, meeting_point, tokens_config, pat=None)
    # Each refresh request is answered only once the other org's has arrived too.
    tokens = _in_parallel(first.get_token, second.get_token)
    assert meeting_point.calls == {"sa_refresh": 2}
    assert len(set(tokens)) == 2 and set(tokens) <= meeting_point.sa_access_valid
    # Both rotated pairs were kept: neither save undid the other.
    stored = read_store(PgStoreRef(pg_url))["serviceApps"]
    assert [stored[f"{APP_ID}@{org}"]["accessToken"] for org in ORGS] == tokens
    for org in ORGS:
        assert stored[f"{APP_ID}@{org}"]["refreshToken"] in meeting_point.sa_refresh_valid
    store.close()


def test_two_hosts_refreshing_the_same_org_make_one_request(
    pg_url: str, tokens_fake: FakeWebexTokens, tokens_config: Callable[..., Path]
) -> None:
    _access, refresh = tokens_fake.new_service_pair()
    _seed(pg_url, {f"{APP_ID}@{ORG_ID}": _entry("old", refresh)})
    config = load_config(tokens_config(profile_dict(pat=None)))
    hosts = [PostgresStore(pg_url) for _ in range(4)]
    managers = [TokenManager(config, base_url=tokens_fake.base_url, store=s) for s in hosts]
    tokens_fake.delay = 0.2  # a refresh that takes a moment, so the others queue behind it
    tokens = _in_parallel(*(manager.get_token for manager in managers))
    assert tokens_fake.calls == {"sa_refresh": 1}
    assert len(set(tokens)) == 1
    for store in hosts:
        store.close()


def test_tier_3_for_two_orgs_at_once_rotates_the_integration_once(
    pg_url: str, meeting_point: MeetingPoint, tokens_config: Callable[..., Path]
) -> None:
    # Neither org has a service-app refresh token and there is no personal token: both go
    # to tier 3, which rotates the integration's refresh token, shared by both orgs.
    _seed(pg_url, {f"{APP_ID}@{org}": _entry("old", None) for org in ORGS})
    meeting_point.integ_refresh_valid.add(INTEG_REFRESH)
    # The rotation is answered only once the other org is waiting for the integration's
    # lock: it read its own snapshot before the rotation, so it must re-read the entry.
    meeting_point.before_integration_refresh = lambda: _until(
        lambda: _waiting_advisory_locks(pg_url) > 0, "the other org never waited"
    )
    store = PostgresStore(pg_url)
    first, second = _managers(store, meeting_point, tokens_config, pat=None, integration=True)
    tokens = _in_parallel(first.get_token, second.get_token)
    assert meeting_point.calls == {"integration_refresh": 1, "mint": 2}
    assert len(set(tokens)) == 2 and set(tokens) <= meeting_point.sa_access_valid
    stored = read_store(PgStoreRef(pg_url))
    (integration,) = stored["integrations"].values()
    assert integration["refreshToken"] in meeting_point.integ_refresh_valid  # the fresh pair
    assert all(stored["serviceApps"][f"{APP_ID}@{org}"]["accessToken"] in tokens for org in ORGS)
    store.close()


# -- the store's locks and saves ----------------------------------------------------------


def test_saves_of_different_orgs_under_their_own_locks_both_survive(pg_url: str) -> None:
    write_document(PgStoreRef(pg_url), {"version": 1, "orgs": {"kept": True}})
    both_read = threading.Barrier(2, timeout=WAIT)

    def refresh(org: str) -> None:
        host = PostgresStore(pg_url, lock_timeout=WAIT)
        with host.locked(service_app_scope(f"{APP_ID}@{org}")) as data:
            both_read.wait()  # each host read the document before either writes
            data.service_app(f"{APP_ID}@{org}").set_pair(f"acc-{org}", 2e9, f"ref-{org}", None, "t")
            host.save(data)
        host.close()

    _in_parallel(lambda: refresh(ORG_ID), lambda: refresh(OTHER_ORG))
    document = read_store(PgStoreRef(pg_url))
    assert {key: entry["refreshToken"] for key, entry in document["serviceApps"].items()} == {
        f"{APP_ID}@{org}": f"ref-{org}" for org in ORGS
    }
    assert document["orgs"] == {"kept": True}


def test_the_whole_document_lock_and_credential_locks_exclude_each_other(pg_url: str) -> None:
    holder, other = PostgresStore(pg_url), PostgresStore(pg_url, lock_timeout=0.3)
    org_scope = service_app_scope(f"{APP_ID}@{ORG_ID}")
    refused = pytest.raises(ByodsError, match="waiting for the token lock")
    with holder.locked(), refused, other.locked(org_scope):
        pass
    with holder.locked(org_scope):
        with pytest.raises(ByodsError, match="waiting for the token lock"), other.locked():
            pass
        with pytest.raises(ByodsError, match="waiting for the token lock"), other.locked(org_scope):
            pass
        with other.locked(service_app_scope(f"{APP_ID}@{OTHER_ORG}")):
            pass  # another org's lock is free
    with other.locked(), other.locked(org_scope):
        pass  # all released
    holder.close()
    other.close()


def test_a_nested_integration_lock_is_held_only_inside_its_block(pg_url: str) -> None:
    holder, other = PostgresStore(pg_url), PostgresStore(pg_url, lock_timeout=0.3)
    org_scope, shared = service_app_scope(f"{APP_ID}@{ORG_ID}"), integration_scope("integ")
    with holder.locked(org_scope) as data:
        with holder.locked(shared) as fresh:
            fresh.integration("integ").set_pair("iacc", 2e9, "iref", None, "t")
            holder.save(fresh)
            refused = pytest.raises(ByodsError, match="waiting for the token lock")
            with refused, other.locked(shared):
                pass
        with other.locked(shared) as seen:  # released with the inner block
            assert seen.integrations["integ"].refresh_token == "iref"
        # The outer copy still holds the old (absent) integration: saving it keeps the
        # rotated pair, because only what this copy changed is written.
        data.service_app(f"{APP_ID}@{ORG_ID}").set_pair("acc", 2e9, "ref", None, "t")
        holder.save(data)
    stored = holder.load()
    assert stored.integrations["integ"].refresh_token == "iref"
    assert stored.service_apps[f"{APP_ID}@{ORG_ID}"].refresh_token == "ref"
    holder.close()
    other.close()


def test_a_change_outside_the_held_locks_never_overwrites_a_newer_one(pg_url: str) -> None:
    store, other = PostgresStore(pg_url), PostgresStore(pg_url)
    with store.locked() as data:
        data.integration("integ").set_pair("iacc-1", 2e9, "iref-1", None, "t")
        store.save(data)
    warnings: list[str] = []
    store.warn = warnings.append
    with store.locked(service_app_scope(f"{APP_ID}@{ORG_ID}")) as data:
        with other.locked(integration_scope("integ")) as theirs:  # another host rotates it
            theirs.integration("integ").set_pair("iacc-2", 2e9, "iref-2", None, "t")
            other.save(theirs)
        data.integration("integ").remember("a-fingerprint-only")  # not this lock's entry
        data.service_app(f"{APP_ID}@{ORG_ID}").set_pair("acc", 2e9, "ref", None, "t")
        store.save(data)
    stored = other.load()
    assert stored.integrations["integ"].refresh_token == "iref-2"
    assert stored.service_apps[f"{APP_ID}@{ORG_ID}"].refresh_token == "ref"
    assert warnings == [
        "the token store entry integrations/integ was changed by another process meanwhile; "
        "its version was kept and this process's change to it dropped"
    ]
    store.close()
    other.close()


def test_the_file_store_accepts_scopes_and_nests(tmp_path: Path) -> None:
    from byods_manager.stores.select import open_store

    store = open_store(str(tmp_path / "tokens.json"))
    with store.locked(service_app_scope("a@o")) as data:
        data.service_app("a@o").set_pair("acc", 2e9, "ref", None, "t")
        store.save(data)
        with store.locked(integration_scope("integ")) as inner:  # no wait for itself
            assert inner.service_apps["a@o"].refresh_token == "ref"
            inner.integration("integ").set_pair("iacc", 2e9, "iref", None, "t")
            store.save(inner)
    assert set(store.load().integrations) == {"integ"}


# -- merging -------------------------------------------------------------------------------


def _doc(**sections: Any) -> dict[str, Any]:
    return {"version": 1, "serviceApps": {}, "integrations": {}, **sections}


@pytest.mark.parametrize(
    ("current", "ours", "expected", "skipped"),
    [
        # a held entry is written as the writer has it, whatever is stored
        (
            _doc(serviceApps={"a": 1, "b": 5}),
            _doc(serviceApps={"a": 2}),
            _doc(serviceApps={"a": 2, "b": 5}),
            [],
        ),
        # a held entry the writer removed is removed
        (_doc(serviceApps={"a": 1, "b": 5}), _doc(), _doc(serviceApps={"b": 5}), []),
        # another entry changed by the writer, unchanged in the store: applied
        (
            _doc(serviceApps={"a": 1}, integrations={"i": 1}),
            _doc(serviceApps={"a": 1}, integrations={"i": 2}),
            _doc(serviceApps={"a": 1}, integrations={"i": 2}),
            [],
        ),
        # ... changed in the store meanwhile: the stored version wins
        (
            _doc(serviceApps={"a": 1}, integrations={"i": 3}),
            _doc(serviceApps={"a": 1}, integrations={"i": 2}),
            _doc(serviceApps={"a": 1}, integrations={"i": 3}),
            ["integrations/i"],
        ),
        # a top-level section follows the same rule
        (_doc(orgs={"x": 9}), _doc(orgs={"x": 2}), _doc(orgs={"x": 9}), ["orgs"]),
        (_doc(orgs={"x": 1}), _doc(orgs={"x": 2}), _doc(orgs={"x": 2}), []),
    ],
)
def test_merge_applies_only_the_writers_changes(
    current: dict[str, Any], ours: dict[str, Any], expected: dict[str, Any], skipped: list[str]
) -> None:
    base = _doc(serviceApps={"a": 1}, integrations={"i": 1}, orgs={"x": 1})
    merged, dropped = merge_changes(current, base, ours, {"serviceApps/a"})
    assert (merged, dropped) == (expected, skipped)


def test_saving_nothing_new_under_a_credential_lock_writes_nothing(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    with store.locked() as data:
        data.service_app("a@o").set_pair("acc", 2e9, "ref", None, "t")
        store.save(data)
    revision = _revision(pg_url)
    with store.locked(service_app_scope("a@o")) as data:
        store.save(data)
    assert _revision(pg_url) == revision
    assert isinstance(store.load(), StoreData)
    store.close()


def _revision(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT revision FROM byods_documents WHERE name = 'tokens'").fetchone()
    assert row is not None
    return int(row[0])


class _CacheResetBetweenReads(PostgresStore):
    """A store whose cache another thread resets right after each look at it (a save on
    another thread does that): what threads refreshing different orgs do all the time."""

    @property  # type: ignore[override]
    def _cache(self) -> Any:
        value = self.__dict__.get("_kept")
        self.__dict__["_kept"] = None
        return value

    @_cache.setter
    def _cache(self, value: Any) -> None:
        self.__dict__["_kept"] = value


def test_a_cache_reset_by_another_thread_mid_load_is_harmless(pg_url: str) -> None:
    writer = PostgresStore(pg_url)
    with writer.locked() as data:
        data.service_app("a@o").set_pair("acc", 2e9, "ref", None, "t")
        writer.save(data)
    reader = _CacheResetBetweenReads(pg_url)
    assert reader.load().service_apps["a@o"].refresh_token == "ref"
    writer.load()
    reader._cache = writer._cache  # a known revision: the server sends no body
    assert reader.load().service_apps["a@o"].refresh_token == "ref"
    writer.close()
    reader.close()
