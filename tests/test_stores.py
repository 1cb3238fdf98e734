"""The store interface on both backends: token document, sections, leases, and the
`byods store` commands (status, migrate, copy), against a real PostgreSQL server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from click.testing import Result

from byods_manager.errors import ConfigError, InputError
from byods_manager.stores.base import StateStore, StoreUnavailableError
from byods_manager.stores.postgres import PostgresStore
from byods_manager.stores.select import open_store, store_location
from byods_manager.stores.urls import redact_url

RunCli = Callable[..., Result]
UNREACHABLE = "postgresql://byods:pw-SECRET-77@127.0.0.1:1/byods?connect_timeout=2"


def with_password(url: str, password: str = "hunter2-SECRET") -> str:
    """The test server trusts local connections, so any password is accepted (and must
    never be shown)."""
    return url.replace("postgresql://postgres:@", f"postgresql://postgres:{password}@", 1)


# -- the token document ------------------------------------------------------------------


def test_saves_inside_the_lock_are_seen_by_a_second_store_object(state_store: StateStore) -> None:
    other = open_store(_location_of(state_store))
    assert other.load().service_apps == {}
    with state_store.locked() as data:
        data.service_app("app@org").set_pair("acc-1", 2e9, "ref-1", None, "test")
        state_store.save(data)
        # Committed before the lock is released: another host sees it at once.
        assert other.load().service_apps["app@org"].refresh_token == "ref-1"
    with other.locked() as data:
        assert data.service_apps["app@org"].access_token == "acc-1"
    other.close()


def test_load_returns_private_copies(state_store: StateStore) -> None:
    with state_store.locked() as data:
        data.service_app("a@o").set_pair("acc", 2e9, "ref", None, "test")
        state_store.save(data)
    first = state_store.load()
    first.service_apps["a@o"].access_token = "changed"
    assert state_store.load().service_apps["a@o"].access_token == "acc"


def _location_of(store: StateStore) -> str:
    if isinstance(store, PostgresStore):
        return store._url
    return store.location


# -- sections ----------------------------------------------------------------------------


def test_sections_are_read_and_changed_under_their_lock(state_store: StateStore) -> None:
    assert state_store.read_section("orgs") == {}
    with state_store.update_section("orgs") as orgs:
        orgs["org-1"] = {"name": "Acme", "status": "active"}
    with state_store.update_section("orgs") as orgs:
        orgs["org-2"] = {"name": "Globex"}
    assert state_store.read_section("orgs") == {
        "org-1": {"name": "Acme", "status": "active"},
        "org-2": {"name": "Globex"},
    }
    with pytest.raises(RuntimeError), state_store.update_section("orgs") as orgs:
        orgs.clear()
        raise RuntimeError("changed my mind")
    assert set(state_store.read_section("orgs")) == {"org-1", "org-2"}  # not written
    # Token saves keep the sections, and section updates keep the tokens.
    with state_store.locked() as data:
        data.service_app("a@o").set_pair("acc", 2e9, "ref", None, "test")
        state_store.save(data)
    assert set(state_store.read_section("orgs")) == {"org-1", "org-2"}
    assert state_store.load().service_apps["a@o"].refresh_token == "ref"


def test_a_loaded_copy_shares_nothing_with_the_next_load(state_store: StateStore) -> None:
    with state_store.locked() as data:
        entry = data.service_app("a@o")
        entry.set_pair("acc-12345678", 2e9, "ref-12345678", None, "test")
        entry.remember_config("cfg-12345678")
        data.extra["custom"] = {"list": [{"n": 1}], "flag": True}
        state_store.save(data)
    before = json.dumps(state_store.load().to_json())
    loaded = state_store.load()  # both backends cache: this one comes from the cache
    mutated = loaded.service_apps["a@o"]
    mutated.known.append("fp-added")
    mutated.config_known.clear()
    mutated.access_token = "changed"
    loaded.integration("new-client")
    loaded.extra["custom"]["list"][0]["n"] = 2
    loaded.extra["custom"]["list"].append("more")
    loaded.extra["custom"]["flag"] = False
    assert json.dumps(state_store.load().to_json()) == before


def test_loading_one_orgs_credentials_copies_only_those(state_store: StateStore) -> None:
    with state_store.locked() as data:
        for org in ("o1", "o2", "o3"):
            data.service_app(f"a@{org}").set_pair(f"acc-{org}-1234", 2e9, None, None, "test")
        data.integration("client").set_pair("int-acc-1234", 2e9, "int-ref-1234", None, "test")
        data.integration("other").set_pair("other-acc-1234", 2e9, None, None, "test")
        data.extra["custom"] = {"n": 1}
        state_store.save(data)
    before = json.dumps(state_store.load().to_json())

    part = state_store.load_credentials("a@o2", "client")

    assert set(part.service_apps) == {"a@o2"}
    assert set(part.integrations) == {"client"}
    assert part.extra == {}
    assert part.service_apps["a@o2"].access_token == "acc-o2-1234"
    part.service_apps["a@o2"].known.append("fp-added")
    part.service_apps["a@o2"].access_token = "changed"
    part.integrations["client"].refresh_token = "changed"
    assert json.dumps(state_store.load().to_json()) == before
    assert state_store.load_credentials("a@missing", None).service_apps == {}


# -- leases ------------------------------------------------------------------------------


def test_a_lease_has_one_owner_until_it_expires_or_is_released(state_store: StateStore) -> None:
    assert state_store.acquire_lease("org:1", "host-a", 60)
    assert state_store.acquire_lease("org:1", "host-a", 60)  # the owner may re-acquire
    assert not state_store.acquire_lease("org:1", "host-b", 60)
    assert not state_store.renew_lease("org:1", "host-b", 60)
    assert state_store.renew_lease("org:1", "host-a", 60)
    assert not state_store.release_lease("org:1", "host-b")
    assert [(lease.name, lease.owner) for lease in state_store.leases()] == [("org:1", "host-a")]
    assert state_store.release_lease("org:1", "host-a")
    assert state_store.leases() == []
    assert state_store.acquire_lease("org:1", "host-b", 60)


def test_an_expired_lease_is_taken_over_and_the_old_owner_cannot_renew_it(
    state_store: StateStore,
) -> None:
    assert state_store.acquire_lease("org:1", "host-a", 0)  # expires at once
    assert state_store.acquire_lease("org:1", "host-b", 60)
    assert not state_store.renew_lease("org:1", "host-a", 60)
    assert not state_store.acquire_lease("org:1", "host-a", 60)
    (lease,) = state_store.leases()
    assert lease.owner == "host-b" and lease.expires_at > time.time() + 30


def test_leases_and_tokens_do_not_disturb_each_other(state_store: StateStore) -> None:
    with state_store.locked() as data:
        data.service_app("a@o").set_pair("acc", 2e9, "ref", None, "test")
        state_store.save(data)
    assert state_store.acquire_lease("org:1", "host-a", 60)
    assert state_store.load().service_apps["a@o"].access_token == "acc"
    with state_store.locked() as data:
        state_store.save(data)
    assert [lease.owner for lease in state_store.leases()] == ["host-a"]


# -- selection ---------------------------------------------------------------------------


def test_store_location_precedence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_home: Path
) -> None:
    configured = tmp_path / "configured.json"
    assert store_location() == str(isolated_home / "state" / "byods-manager" / "tokens.json")
    assert store_location(None, configured) == str(configured)
    monkeypatch.setenv("BYODS_TOKEN_STORE", "postgresql://old@db/x")
    assert store_location(None, configured) == "postgresql://old@db/x"
    monkeypatch.setenv("BYODS_STORE", "~/new.json")
    assert store_location(None, configured) == str(isolated_home / "new.json")
    assert store_location("postgres://opt@db/x", configured) == "postgres://opt@db/x"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:secret@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://h/db?user=u&password=secret", "postgresql://h/db?user=u&password=***"),
        ("postgresql://u:p%40ss@h/db?sslmode=require", "postgresql://u:***@h/db?sslmode=require"),
    ],
)
def test_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_config_token_store_url_is_used_by_the_token_manager(
    pg_url: str, tokens_config: Callable[..., Path], tokens_fake: object
) -> None:
    from byods_manager.tokens.manager import TokenManager
    from tests.fixtures_tokens import PAT, FakeWebexTokens, profile_dict

    assert isinstance(tokens_fake, FakeWebexTokens)
    data = profile_dict()
    data["tokenStore"] = with_password(pg_url)
    manager = TokenManager.from_config(tokens_config(data), base_url=tokens_fake.base_url)
    tokens_fake.bearers_valid.add(PAT)
    token = manager.get_token()
    assert PostgresStore(pg_url).load().service_apps["app-123@org-456"].access_token == token
    shown = manager.status().to_dict()["store"]
    assert shown.startswith("postgresql://postgres:***@/") and "hunter2" not in shown


# -- failures ----------------------------------------------------------------------------


def test_an_unreachable_server_is_one_clear_error_and_never_a_file(
    run_cli: RunCli, isolated_home: Path, tokens_config: Callable[..., Path]
) -> None:
    config = tokens_config()
    for args in (["store", "status"], ["--config", str(config), "token", "refresh"]):
        result = run_cli(["--store", UNREACHABLE, *args])
        assert result.exit_code == 1, result.output
        assert result.output.count("\n") == 1, result.output
        assert "cannot use the PostgreSQL store postgresql://byods:***@127.0.0.1:1" in result.output
        assert "pw-SECRET-77" not in result.output
    assert not any((isolated_home / "state").rglob("*.json"))  # no silent local fallback


def test_unreachable_server_raises_store_unavailable() -> None:
    with pytest.raises(StoreUnavailableError) as caught:
        PostgresStore(UNREACHABLE).load()
    assert caught.value.exit_code == 1 and "pw-SECRET-77" not in str(caught.value)


def test_a_schema_newer_than_this_version_is_refused(pg_url: str) -> None:
    PostgresStore(pg_url).migrate()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO byods_schema_version (version, description) VALUES (99, 'x')")
    with pytest.raises(ConfigError, match="schema version 99, newer"):
        PostgresStore(pg_url).load()


def test_a_broken_token_document_is_reported_and_left_alone(pg_url: str) -> None:
    from tests.fixtures_stores import PgStoreRef
    from tests.fixtures_tokens import read_store, write_document

    write_document(PgStoreRef(pg_url), {"version": 99})
    with pytest.raises(ConfigError, match="newer byods-manager"):
        PostgresStore(pg_url).load()
    assert read_store(PgStoreRef(pg_url)) == {"version": 99}


# -- byods store ... ---------------------------------------------------------------------


def test_migrate_creates_the_schema_once(run_cli: RunCli, pg_url: str) -> None:
    first = run_cli(["--store", pg_url, "store", "migrate", "--json"])
    assert first.exit_code == 0, first.output
    assert {k: json.loads(first.output)[k] for k in ("from", "to")} == {"from": 0, "to": 1}
    again = run_cli(["--store", pg_url, "store", "migrate"])
    assert again.exit_code == 0 and "schema version 1, up to date" in again.output
    with psycopg.connect(pg_url) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'byods_%'"
            ).fetchall()
        }
    assert tables == {"byods_schema_version", "byods_documents", "byods_sections", "byods_leases"}


def test_status_shows_what_the_store_holds_and_no_secret(
    run_cli: RunCli, pg_url: str, state_store: StateStore
) -> None:
    url = with_password(pg_url)
    store = PostgresStore(url)
    with store.locked() as data:
        data.service_app("app@org").set_pair("acc-SECRETX", 2e9, "ref-SECRETX", 3e9, "test")
        data.integration("integ").set_pair("iacc-SECRETX", 2e9, "iref-SECRETX", None, "oauth")
        store.save(data)
    with store.update_section("orgs") as orgs:
        orgs["org-1"] = {"name": "Acme"}
    store.acquire_lease("org:org-1", "host-a", 60)
    human = run_cli(["--store", url, "store", "status"])
    as_json = run_cli(["--store", url, "store", "status", "--json"])
    for result in (human, as_json):
        assert result.exit_code == 0, result.output
        assert "SECRETX" not in result.output and "hunter2-SECRET" not in result.output
    status = json.loads(as_json.output)
    assert status["backend"] == "postgres" and status["schemaVersion"] == 1
    assert status["location"].startswith("postgresql://postgres:***@/")
    assert set(status["serviceApps"]) == {"app@org"} and set(status["integrations"]) == {"integ"}
    assert status["sections"] == {"orgs": 1}
    assert [(lease["name"], lease["owner"]) for lease in status["leases"]] == [
        ("org:org-1", "host-a")
    ]
    assert "Backend:        postgres" in human.output and "orgs: 1 entries" in human.output


def test_copy_file_to_postgres_and_back_without_a_refresh(
    run_cli: RunCli, pg_url: str, tmp_path: Path
) -> None:
    source = open_store(str(tmp_path / "a.json"))
    with source.locked() as data:
        data.service_app("app@org").set_pair("acc-SECRETX", 2e9, "ref-SECRETX", 3e9, "test")
        data.extra["custom"] = {"kept": True}
        source.save(data)
    with source.update_section("orgs") as orgs:
        orgs["org-1"] = {"name": "Acme"}
    before = source.export_state()
    url = with_password(pg_url)
    there = run_cli(["store", "copy", "--from", str(tmp_path / "a.json"), "--to", url, "--json"])
    assert there.exit_code == 0, there.output
    assert "hunter2-SECRET" not in there.output and "SECRETX" not in there.output
    assert json.loads(there.output)["serviceApps"] == 1
    assert PostgresStore(pg_url).export_state() == before
    back = run_cli(["store", "copy", "--from", pg_url, "--to", str(tmp_path / "b.json")])
    assert back.exit_code == 0, back.output
    assert open_store(str(tmp_path / "b.json")).export_state() == before
    assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o600
    refused = run_cli(["store", "copy", "--from", str(tmp_path / "a.json"), "--to", url])
    assert refused.exit_code == 2 and "--force" in refused.output
    forced = run_cli(["store", "copy", "--from", str(tmp_path / "a.json"), "--to", url, "--force"])
    assert forced.exit_code == 0, forced.output


@pytest.mark.parametrize(
    ("source", "message"),
    [("missing.json", "nothing to copy"), ("same", "same store")],
)
def test_copy_refuses_nonsense(run_cli: RunCli, tmp_path: Path, source: str, message: str) -> None:
    target = str(tmp_path / "t.json")
    origin = target if source == "same" else str(tmp_path / source)
    result = run_cli(["store", "copy", "--from", origin, "--to", target])
    assert result.exit_code == 2 and message in result.output


def test_copy_state_raises_input_error_for_an_empty_origin(pg_url: str, tmp_path: Path) -> None:
    from byods_manager.stores.operations import copy_state

    with pytest.raises(InputError):
        copy_state(PostgresStore(pg_url), open_store(str(tmp_path / "x.json")))


def test_the_postgres_token_lock_is_reentrant_within_a_thread(pg_url: str) -> None:
    state_store = PostgresStore(pg_url, lock_timeout=5)
    with state_store.locked() as outer:
        outer.service_app("a@o").set_pair("acc", 2e9, "ref", None, "test")
        state_store.save(outer)
        with state_store.locked() as inner:  # would wait for itself if it were not
            assert inner.service_apps["a@o"].access_token == "acc"


# -- what other layers keep in the store -------------------------------------------------


def test_the_org_registry_lives_in_the_shared_document_and_survives_token_saves(
    state_store: StateStore,
) -> None:
    from byods_manager.stores.file import FileOrgRegistry
    from byods_manager.stores.orgs import DEAUTHORIZED, OrgRecord

    registry = FileOrgRegistry(state_store)
    registry.save_org(OrgRecord("org-b", name="bee", added_at=2.0))
    registry.save_org(OrgRecord("org-a", name="ay", added_at=1.0))
    with state_store.locked() as data:  # what a token refresh on another host does
        data.service_app("app@org-b").set_pair("tok-SECRETX", 9e9, "ref-SECRETX", None, "test")
        state_store.save(data)
    other_host = FileOrgRegistry(open_store(_location_of(state_store)))
    assert [r.org_id for r in other_host.load_orgs()] == ["org-a", "org-b"]
    assert other_host.set_status("org-b", DEAUTHORIZED, drop_tokens_key="app@org-b")
    assert "app@org-b" not in state_store.load().service_apps
    assert state_store.status()["serviceApps"] == {}


def test_a_read_only_server_is_refused_before_a_refresh_token_is_spent(
    pg_url: str,
    tokens_config: Callable[..., Path],
    tokens_fake: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from byods_manager.tokens.manager import TokenManager
    from tests.fixtures_stores import PgStoreRef
    from tests.fixtures_tokens import FakeWebexTokens, seed_store

    assert isinstance(tokens_fake, FakeWebexTokens)
    _access, refresh = tokens_fake.new_service_pair()
    seed_store(PgStoreRef(pg_url), access="old", expires_at=time.time() - 60, refresh=refresh)
    database = pg_url.split("/")[3].split("?")[0]
    with psycopg.connect(pg_url, autocommit=True) as conn:  # as on a hot standby
        conn.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    monkeypatch.setenv("BYODS_STORE", pg_url)
    manager = TokenManager.from_config(tokens_config(), base_url=tokens_fake.base_url)
    with pytest.raises(StoreUnavailableError, match="read-only"):
        manager.get_token()
    assert tokens_fake.calls == {}  # the refresh token was not spent
    assert refresh in tokens_fake.sa_refresh_valid
    # Any write the server refuses is a one-line store error, never a driver traceback.
    from byods_manager.tokens.store import StoreData

    with pytest.raises(StoreUnavailableError, match="read-only transaction"):
        PostgresStore(pg_url).save(StoreData())


def test_waiting_for_the_token_lock_gives_up_after_the_lock_timeout(pg_url: str) -> None:
    from byods_manager.errors import ByodsError
    from byods_manager.stores import sql

    PostgresStore(pg_url).migrate()
    with psycopg.connect(pg_url, autocommit=True) as other_host:
        other_host.execute(sql.LOCK_TOKENS, (sql.TOKENS_LOCK_KEY,))
        waiting = PostgresStore(pg_url, lock_timeout=0.3)
        with pytest.raises(ByodsError, match="waiting for the token lock"), waiting.locked():
            pass
    with PostgresStore(pg_url, lock_timeout=5).locked() as data:  # released with its session
        assert data.service_apps == {}


def test_orgs_and_store_commands_use_the_store_given_after_the_command_too(
    run_cli: RunCli, pg_url: str, tokens_config: Callable[..., Path]
) -> None:
    from byods_manager.stores.file import FileOrgRegistry
    from byods_manager.stores.orgs import OrgRecord

    FileOrgRegistry(PostgresStore(pg_url)).save_org(OrgRecord("org-far", name="far"))
    config = str(tokens_config())
    listed = run_cli(["--config", config, "orgs", "list", "--json", "--store", pg_url])
    assert listed.exit_code == 0, listed.output
    assert "org-far" in [org.get("orgId") for org in json.loads(listed.stdout)]
    status = run_cli(["store", "status", "--json", "--store", pg_url])
    assert json.loads(status.stdout)["backend"] == "postgres"
