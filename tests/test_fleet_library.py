"""The fleet library without the CLI: org registry persistence, Fleet, the shared pacer."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from byods_manager.auth import StaticTokenProvider
from byods_manager.errors import InputError
from byods_manager.fleet.orgs import Fleet
from byods_manager.fleet.pacing import SharedPacer
from byods_manager.http import HttpClient
from byods_manager.stores.file import FileOrgRegistry
from byods_manager.stores.orgs import DEAUTHORIZED, OrgRecord
from byods_manager.tokens.config import ProfileConfig, parse_config
from byods_manager.tokens.store import TokenStore
from byods_manager.webex_ids import app_id_for_client


def config(tmp_path: Path, **service: str) -> ProfileConfig:
    values = {"clientId": "cid", "clientSecret": "csecret-SECRET", "targetOrgId": "org-home"}
    values.update(service)
    return parse_config({"serviceApp": values}, tmp_path / "token-config.json")


def test_app_id_is_derived_only_when_the_config_has_none(tmp_path: Path) -> None:
    assert config(tmp_path).service_app.app_id == app_id_for_client("cid")
    assert config(tmp_path, appId="explicit").service_app.app_id == "explicit"
    assert config(tmp_path).service_app.store_key == f"{app_id_for_client('cid')}@org-home"


def test_the_registry_is_a_section_of_the_token_file_that_token_saves_keep(
    tmp_path: Path,
) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    registry = FileOrgRegistry(store)
    registry.save_org(OrgRecord("org-b", name="bee", added_at=2.0))
    registry.save_org(OrgRecord("org-a", name="ay", added_at=1.0))
    with store.locked() as data:  # what a token refresh does
        data.service_app("app@org-b").set_pair("tok-SECRET", 9e9, "ref-SECRET", None, "test")
        store.save(data)

    assert [r.org_id for r in registry.load_orgs()] == ["org-a", "org-b"]
    raw = json.loads((tmp_path / "tokens.json").read_text())
    assert raw["orgs"]["org-b"]["name"] == "bee"
    assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600

    assert registry.set_status("org-b", DEAUTHORIZED, drop_tokens_key="app@org-b")
    assert "app@org-b" not in store.load().service_apps
    assert [r.status for r in registry.load_orgs()] == ["active", DEAUTHORIZED]
    assert registry.remove_org("org-a") and not registry.remove_org("org-a")


def test_fleet_resolves_names_and_ids_and_gives_each_org_its_own_token_key(
    tmp_path: Path,
) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    FileOrgRegistry(store).save_org(OrgRecord("org-acme", name="Acme"))
    FileOrgRegistry(store).save_org(OrgRecord("org-gone", status=DEAUTHORIZED))
    fleet = Fleet(config(tmp_path, refreshToken="seed-SECRET"), base_url="http://x", store=store)

    assert fleet.resolve("acme").org_id == "org-acme"
    assert fleet.resolve("org-home").source == "config"
    assert [o.org_id for o in fleet.active_orgs()] == ["org-home", "org-acme"]
    with pytest.raises(InputError, match="unknown org 'nope'"):
        fleet.resolve("nope")
    acme = fleet.config_for("org-acme").service_app
    assert acme.store_key.endswith("@org-acme") and acme.target_org_id == "org-acme"
    assert acme.seed_refresh_token is None  # the config's seed belongs to its own org
    assert fleet.token_manager("org-acme") is fleet.token_manager("org-acme")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_a_429_pauses_every_later_request_and_sets_the_pace() -> None:
    clock = FakeClock()
    pacer = SharedPacer(clock=clock.time, sleep=clock.sleep, margin=1.0)
    for _ in range(10):  # ten requests start within the window
        pacer.wait_turn()
        clock.now += 0.01
    pacer.rate_limited(2.0)  # one of them was refused: 9 were accepted in the window

    paused_from = clock.now
    pacer.wait_turn()  # any worker, not only the one that got the 429
    assert clock.now == pytest.approx(paused_from + 2.0)
    pacer.wait_turn()
    assert clock.now == pytest.approx(paused_from + 2.0 + 1 / 9)
    assert pacer.interval == pytest.approx(1 / 9)


class RecordingPacer:
    """A pacer that only records what the HTTP layer tells it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, float]] = []

    def wait_turn(self) -> None:
        self.events.append(("turn", 0.0))

    def rate_limited(self, seconds: float) -> None:
        self.events.append(("limited", seconds))


def test_the_http_layer_asks_the_pacer_before_each_request_and_reports_429s(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_ordered_request("/x").respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request("/x").respond_with_json({"ok": True})
    slept: list[float] = []
    pacer = RecordingPacer()
    http = HttpClient(
        httpserver.url_for("/"), StaticTokenProvider("t"), pacer=pacer, sleep=slept.append
    )

    assert http.request("GET", "/x").data == {"ok": True}

    assert pacer.events == [("turn", 0.0), ("limited", 7.0), ("turn", 0.0)]
    assert slept == []  # the pacer does the waiting, for every worker at once
