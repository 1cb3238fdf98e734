"""The fleet commands against the real multi-org sandbox (``Sandbox(orgs=3)``, small pages).

Every figure asserted here is a request count taken on the sandbox, never a timing.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from byods_manager import deadline as deadline_module
from byods_manager.cli.main import cli
from byods_manager.fleet.orgs import Fleet
from byods_manager.sandbox import Sandbox
from byods_manager.tokens.config import load_config
from tests.fixtures_sandbox import register

SCHEMA = "5397013b-7920-4ffc-807c-e8a3e0a18f43"
PER_ORG = 3  # with a page size of 2, every org's list takes two pages
MINT = "POST /applications/{appId}/token"
REFRESH = "POST /access_token [refresh_token:service_app]"
PUT = "PUT /dataSources/{id}"
WRITES = ("POST /dataSources", PUT, "DELETE /dataSources/{id}")
NAMES = ("home", "beta", "gamma")


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(orgs=3, page_size=2) as sandbox:
        config = sandbox.write_config(tmp_path / "sandbox" / "token-config.json")
        monkeypatch.setenv("BYODS_CONFIG", str(config))
        monkeypatch.setenv("WEBEX_API_BASE_URL", sandbox.base_url)
        yield sandbox


@pytest.fixture
def fleet_box(box: Sandbox) -> Sandbox:
    """The sandbox with its two extra orgs added (by name) and data sources in every org."""
    beta, gamma = box.org_ids[1:]
    ok(byods("orgs", "add", beta, "--name", "beta"))
    ok(byods("orgs", "add", gamma, "--name", "gamma"))
    for org in box.org_ids:
        seed(box, org, PER_ORG)
    box.reset()  # count from here
    return box


def byods(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def requests_seen(box: Sandbox) -> dict[str, int]:
    seen: dict[str, int] = box.stats_snapshot()["requests"]
    return seen


def writes(box: Sandbox) -> int:
    seen = requests_seen(box)
    return sum(seen.get(route, 0) for route in WRITES)


def seed(box: Sandbox, org_id: str, count: int) -> None:
    token = box.issue_access_token("service_app", org_id=org_id)
    for n in range(count):
        register(
            box,
            token,
            url=f"https://dap.example.com/{org_id[-6:]}/{n}",
            schemaId=SCHEMA,
            audience=f"aud{n}",
        )


def claims(jws_token: str) -> dict[str, Any]:
    payload = jws_token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def org_label(box: Sandbox) -> dict[str, str]:
    """org id -> the label the CLI shows (the config's org has no name: its id)."""
    home, beta, gamma = box.org_ids
    return {home: home, beta: "beta", gamma: "gamma"}


# -- orgs ------------------------------------------------------------------------------


def test_orgs_add_mints_once_per_org_and_orgs_list_shows_them_and_the_environment(
    box: Sandbox,
) -> None:
    home, beta, gamma = box.org_ids
    box.reset()

    ok(byods("orgs", "add", beta, "--name", "beta"))
    ok(byods("orgs", "add", gamma, "--name", "gamma"))

    assert requests_seen(box)[MINT] == 2
    assert box.stats_snapshot()["requestsByOrg"] == {beta: 1, gamma: 1}
    listed = json.loads(ok(byods("orgs", "list", "--json")).stdout)
    assert [(o["orgId"], o["name"], o["status"]) for o in listed] == [
        (home, None, "active"),
        (beta, "beta", "active"),
        (gamma, "gamma", "active"),
    ]
    assert listed[1]["tokenExpiresAt"] and listed[2]["tokenExpiresAt"]
    assert {(o["environment"], o["baseUrl"]) for o in listed} == {("production", box.base_url)}
    text = ok(byods("orgs", "list")).stdout
    assert text.splitlines()[0].startswith("Environment: production")
    assert box.base_url in text.splitlines()[0]


def test_orgs_add_for_an_org_that_never_authorized_the_app_is_a_clear_error(
    box: Sandbox,
) -> None:
    stranger = base64.b64encode(f"ciscospark://us/ORGANIZATION/{uuid.uuid4()}".encode()).decode()

    result = byods("orgs", "add", stranger.rstrip("="), "--name", "stranger")

    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: could not get tokens for org ")
    assert "not authorized" in result.stderr
    listed = json.loads(ok(byods("orgs", "list", "--json")).stdout)
    assert [o["orgId"] for o in listed] == [box.org_ids[0]]


# -- list ------------------------------------------------------------------------------


def test_list_all_orgs_shows_each_org_only_its_own_data_sources(fleet_box: Sandbox) -> None:
    labels = org_label(fleet_box)

    items = json.loads(ok(byods("list", "--all-orgs", "--json")).stdout)

    assert len(items) == 3 * PER_ORG
    for org_id, label in labels.items():
        mine = {item["id"] for item in items if item["orgId"] == org_id}
        assert {item["org"] for item in items if item["orgId"] == org_id} == {label}
        assert mine == {ds["id"] for ds in fleet_box.data_sources(org_id)}
    # pages of two: each org's list took two requests
    assert requests_seen(fleet_box)["GET /dataSources"] == 3 * 2
    table = ok(byods("list", "--all-orgs")).stdout.splitlines()
    assert table[0].split()[:2] == ["ORG", "ID"]
    beta_rows = [line for line in table if line.startswith("beta ")]
    assert len(beta_rows) == PER_ORG


def test_an_unnamed_org_is_shown_by_a_short_id_unless_wide_and_whole_in_json(
    fleet_box: Sandbox,
) -> None:
    home = fleet_box.org_ids[0]  # the config's org: no name, an 87-character id
    uuid_start = base64.urlsafe_b64decode(home + "==").decode().rsplit("/", 1)[1][:8]
    short = f"{uuid_start}…"

    table = ok(byods("list", "--all-orgs")).stdout
    wide = ok(byods("list", "--all-orgs", "--wide")).stdout
    lines = ok(byods("extend", "--all", "--all-orgs", "--dry-run")).stdout
    status = ok(byods("token", "status", "--all-orgs")).stdout
    items = json.loads(ok(byods("list", "--all-orgs", "--json")).stdout)

    home_rows = [line for line in table.splitlines() if line.startswith(short + " ")]
    assert len(home_rows) == PER_ORG and home not in table
    assert len([line for line in wide.splitlines() if line.startswith(home + " ")]) == PER_ORG
    assert sum(f"would extend  {short}  " in line for line in lines.splitlines()) == PER_ORG
    assert home not in lines
    status_row = next(line for line in status.splitlines() if line.startswith(short))
    assert home in status_row  # its ORG ID column is whole
    assert {item["org"] for item in items if item["orgId"] == home} == {home}


# -- extend ----------------------------------------------------------------------------


def test_extend_all_orgs_renews_every_data_source_and_dry_run_sends_no_put(
    fleet_box: Sandbox,
) -> None:
    before = {ds["id"]: claims(ds["jwsToken"]) for ds in fleet_box.data_sources()}

    dry = ok(byods("extend", "--all", "--all-orgs", "--dry-run", "--json"))
    assert json.loads(dry.stdout)["summary"]["wouldExtend"] == 3 * PER_ORG
    assert requests_seen(fleet_box).get(PUT, 0) == 0

    result = ok(byods("extend", "--all", "--all-orgs", "--concurrency", "4", "--json"))

    report = json.loads(result.stdout)
    assert report["summary"] == {"extended": 9, "skipped": 0, "failed": 0}
    assert report["orgFailures"] == []
    assert all(item["org"] for item in report["results"])
    assert requests_seen(fleet_box)[PUT] == 3 * PER_ORG
    after = {ds["id"]: claims(ds["jwsToken"]) for ds in fleet_box.data_sources()}
    assert after.keys() == before.keys()
    for ds_id, old in before.items():
        assert after[ds_id]["jti"] != old["jti"]
        assert after[ds_id]["exp"] >= old["exp"]
    labels = org_label(fleet_box)
    by_org = {labels[o]: {ds["id"] for ds in fleet_box.data_sources(o)} for o in labels}
    for item in report["results"]:
        assert item["id"] in by_org[item["org"]]
        assert labels[item["orgId"]] == item["org"]


def test_a_deauthorized_org_is_reported_and_the_others_complete(fleet_box: Sandbox) -> None:
    beta = fleet_box.org_ids[1]
    fleet_box.deauthorize_org(beta)

    result = byods("extend", "--all", "--all-orgs", "--concurrency", "4")

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "Error: org beta: " in result.stderr
    assert result.stdout.splitlines()[-1] == "6 extended, 0 skipped, 0 failed; 1 org(s) failed"
    assert requests_seen(fleet_box)[PUT] == 2 * PER_ORG
    assert all(ds["id"] not in result.stdout for ds in fleet_box.data_sources(beta))


def test_eight_workers_hitting_a_401_together_cause_one_refresh_for_their_org(
    fleet_box: Sandbox,
) -> None:
    beta = fleet_box.org_ids[1]
    seed(fleet_box, beta, 8 - PER_ORG)
    fleet = Fleet(load_config(Path(_config_path())), base_url=fleet_box.base_url)
    ids = [ds["id"] for ds in fleet_box.data_sources(beta)]
    assert len(ids) == 8
    fleet.token_manager(beta).get_token()  # a stored token that Webex will refuse
    fleet_box.expire_access_tokens("service_app")
    fleet_box.reset()
    clients = [fleet.client_for_org("beta") for _ in ids]
    together = threading.Barrier(len(ids))
    seen: dict[str, str] = {}

    def read(client_index: int) -> None:
        together.wait()
        seen[ids[client_index]] = clients[client_index].get(ids[client_index]).id

    workers = [threading.Thread(target=read, args=(n,)) for n in range(len(ids))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for client in clients:
        client.close()
    fleet.close()

    assert sorted(seen) == sorted(ids)
    counts = requests_seen(fleet_box)
    assert counts[REFRESH] == 1
    assert counts.get(MINT, 0) == 0
    assert set(fleet_box.stats_snapshot()["requestsByOrg"]) == {beta}


def test_after_every_token_expired_a_run_refreshes_once_per_org(fleet_box: Sandbox) -> None:
    ok(byods("list", "--all-orgs", "--json"))  # every org has a stored token
    fleet_box.expire_access_tokens("service_app")
    fleet_box.reset()

    ok(byods("extend", "--all", "--all-orgs", "--concurrency", "8", "--json"))

    counts = requests_seen(fleet_box)
    assert counts[REFRESH] == 3
    assert counts[PUT] == 3 * PER_ORG


# -- apply -----------------------------------------------------------------------------


def test_apply_all_orgs_converges_and_a_second_apply_writes_nothing(
    fleet_box: Sandbox, tmp_path: Path
) -> None:
    desired = [
        {
            "url": f"https://dap.example.com/fleet/{n}",
            "schemaId": SCHEMA,
            "audience": f"fleet{n}",
            "subject": "callAudioData",
            "lifetimeMinutes": 120,
        }
        for n in range(2)
    ]
    path = tmp_path / "desired.json"
    path.write_text(json.dumps(desired))

    first = ok(byods("apply", "-f", str(path), "--all-orgs", "--concurrency", "4", "--json"))

    assert requests_seen(fleet_box)["POST /dataSources"] == 3 * 2
    plans = json.loads(first.stdout)
    assert {entry["orgId"] for entry in plans} == set(fleet_box.org_ids)
    for org_id in fleet_box.org_ids:
        audiences = {ds["audience"] for ds in fleet_box.data_sources(org_id)}
        assert {"fleet0", "fleet1"} <= audiences
    before = writes(fleet_box)
    second = ok(byods("apply", "-f", str(path), "--all-orgs"))
    assert writes(fleet_box) == before
    assert second.stdout.count("Plan: 0 to create, 0 to update, 2 unchanged") == 3


# -- the deadline ----------------------------------------------------------------------


def test_timeout_bounds_a_bulk_run_across_orgs(fleet_box: Sandbox) -> None:
    fleet_box.set_latency(400)

    result = byods("--timeout", "1s", "extend", "--all", "--all-orgs", "--concurrency", "2")

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    # a request cut short by the deadline, or one it stopped before it was sent
    assert "--timeout 1s" in result.output or "timed out waiting" in result.output
    fleet_box.set_latency(0)
    # well short of every GET and PUT the 9 data sources would need
    assert requests_seen(fleet_box).get(PUT, 0) < 3 * PER_ORG


def _config_path() -> str:
    return os.environ["BYODS_CONFIG"]


def test_the_default_deadline_bounds_single_commands_but_not_bulk_runs(
    fleet_box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a default far shorter than one round trip stands in for 5 minutes against a big fleet
    monkeypatch.setattr(deadline_module, "DEFAULT_COMMAND_TIMEOUT_SECONDS", 0.2)
    fleet_box.set_latency(300)
    one_id = fleet_box.data_sources(fleet_box.org_ids[1])[0]["id"]

    single = byods("--org", "beta", "show", one_id)
    bulk = byods("extend", "--all", "--all-orgs", "--concurrency", "8", "--json")

    fleet_box.set_latency(0)
    assert single.exit_code == 1, single.output
    assert "deadline" in single.stderr
    assert bulk.exit_code == 0, bulk.output
    assert json.loads(bulk.stdout)["summary"]["extended"] == 3 * PER_ORG


# -- tokens ----------------------------------------------------------------------------


def test_token_status_all_orgs_names_the_environment_and_every_org(fleet_box: Sandbox) -> None:
    labels = org_label(fleet_box)

    items = json.loads(ok(byods("token", "status", "--all-orgs", "--json")).stdout)
    text = ok(byods("token", "status", "--all-orgs")).stdout.splitlines()

    assert {item["orgId"]: item["org"] for item in items} == labels
    assert {(i["environment"], i["baseUrl"]) for i in items} == {("production", fleet_box.base_url)}
    assert text[0].startswith("Environment: production")
    assert text[1].split()[:4] == ["ORG", "ACCESS", "TOKEN", "EXPIRES"]
    assert {line.split()[0] for line in text[2:] if line.strip() and "---" not in line} >= {
        "beta",
        "gamma",
    }
    assert requests_seen(fleet_box) == {}  # status reads the store only


def test_token_refresh_all_orgs_reports_a_deauthorized_org_and_refreshes_the_others(
    fleet_box: Sandbox,
) -> None:
    beta = fleet_box.org_ids[1]
    labels = org_label(fleet_box)
    ok(byods("list", "--all-orgs", "--json"))  # every org has its token pair stored
    fleet_box.deauthorize_org(beta)
    fleet_box.reset()

    result = byods("token", "refresh", "--all-orgs", "--force", "--json")

    assert result.exit_code == 1, result.output
    items = json.loads(result.stdout)
    assert [item["org"] for item in items] == list(labels.values())
    failed = [item for item in items if "error" in item]
    assert [item["orgId"] for item in failed] == [beta]
    assert all(item["environment"] == "production" for item in items)
    # one refresh-token request per org (beta's refused: not counted as issued), then
    # beta alone tried the Applications API, which refused too
    counts = requests_seen(fleet_box)
    assert counts["POST /access_token"] == 3
    assert counts[REFRESH] == 2
    assert counts[MINT] == 1


# -- the progress bar ------------------------------------------------------------------


def _with_stderr_on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Run ``byods ARGS`` with stderr on a pseudo-terminal: exit code, stdout, terminal."""
    import pty
    import subprocess
    import sys

    primary, secondary = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "byods_manager", *args],
            stdout=subprocess.PIPE,
            stderr=secondary,
            text=True,
            timeout=120,
            check=False,
        )
        os.close(secondary)
        secondary = -1
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the terminal is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(primary)
        if secondary >= 0:
            os.close(secondary)
    return process.returncode, process.stdout, b"".join(chunks).decode(errors="replace")


EXTEND_ALL_ORGS = ("extend", "--all", "--all-orgs")


def test_the_progress_bar_is_drawn_only_on_a_terminal_and_never_with_json(
    fleet_box: Sandbox,
) -> None:
    code, stdout, terminal = _with_stderr_on_a_terminal(*EXTEND_ALL_ORGS, "--dry-run")
    assert code == 0, stdout + terminal
    assert "checking" in terminal and "%" in terminal
    assert stdout.splitlines()[-1] == "9 would be extended, 0 skipped, 0 failed"

    code, stdout, terminal = _with_stderr_on_a_terminal(*EXTEND_ALL_ORGS, "--dry-run", "--json")
    assert code == 0, stdout + terminal
    assert terminal == ""
    assert json.loads(stdout)["summary"]["wouldExtend"] == 9

    piped = byods("extend", "--all", "--all-orgs", "--dry-run")  # stderr is not a terminal
    assert piped.stderr == ""


def test_apply_draws_a_progress_bar_on_a_terminal_while_it_writes(
    fleet_box: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "desired.json"
    entry = {"url": "https://dap.example.com/p", "schemaId": SCHEMA}
    path.write_text(json.dumps([{**entry, "audience": "bar", "subject": "callAudioData"}]))

    code, stdout, terminal = _with_stderr_on_a_terminal("apply", "-f", str(path), "--all-orgs")
    assert code == 0, stdout + terminal
    assert "applying" in terminal and "100%" in terminal
    assert requests_seen(fleet_box)["POST /dataSources"] == 3

    code, stdout, terminal = _with_stderr_on_a_terminal("apply", "-f", str(path), "--dry-run")
    assert code == 0, stdout + terminal
    assert terminal == ""


def test_org_on_the_command_line_contradicts_all_orgs_but_byods_org_is_only_a_default(
    fleet_box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for command in (("list",), ("extend", "--all"), ("token", "status"), ("token", "refresh")):
        clash = byods("--org", "beta", *command, "--all-orgs")
        assert clash.exit_code == 2, clash.output
        assert clash.stderr.startswith("Error: --org and --all-orgs exclude each other")
    assert requests_seen(fleet_box) == {}

    monkeypatch.setenv("BYODS_ORG", "beta")
    only_beta = json.loads(ok(byods("list", "--json")).stdout)
    everyone = json.loads(ok(byods("list", "--all-orgs", "--json")).stdout)
    assert len(only_beta) == PER_ORG
    assert len(everyone) == 3 * PER_ORG


def test_timeout_reaches_every_orgs_token_refresh(fleet_box: Sandbox) -> None:
    fleet_box.set_latency(1200)

    result = byods("--timeout", "1s", "token", "refresh", "--all-orgs", "--force", "--json")

    fleet_box.set_latency(0)
    assert result.exit_code == 1, result.output
    items = json.loads(result.stdout)
    assert len(items) == 3
    # each request got at most what was left of the 1 s (the sandbox takes 1.2 s to answer),
    # and each org's whole reason is on its one line, every tier included; an org still
    # waiting for the token store's lock (another org's refresh holds it) stops waiting
    # at the deadline too
    for item in items:
        error = item["error"]
        assert "timed out waiting for the response" in error or "(--timeout 1s)" in error
        if not error.startswith("Gave up waiting for the lock file"):
            assert "tier 1 " in error and "tier 2 " in error
        assert "\n" not in error
    assert any("tier 1 " in item["error"] for item in items)


# -- an org slow to list -----------------------------------------------------------------


class _WaitsBeforeListing:
    """A real client whose ``list`` first waits (at most 20 s) until the sandbox has counted
    ``puts`` PUTs, then notes how many it saw."""

    def __init__(self, client: Any, box: Sandbox, puts: int, seen: list[int]) -> None:
        self._client, self._box, self._puts, self._seen = client, box, puts, seen

    def list(self) -> Any:
        for _ in range(1000):
            if requests_seen(self._box).get(PUT, 0) >= self._puts:
                break
            threading.Event().wait(0.02)
        self._seen.append(requests_seen(self._box).get(PUT, 0))
        return self._client.list()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_an_org_slow_to_list_holds_up_no_other(fleet_box: Sandbox) -> None:
    from byods_manager.fleet.extend import extend_orgs

    home, beta, gamma = fleet_box.org_ids
    fleet = Fleet(load_config(Path(_config_path())), base_url=fleet_box.base_url)
    seen: list[int] = []

    def factory(org_id: str) -> Any:
        client = fleet.client_for_org(org_id)
        return (
            _WaitsBeforeListing(client, fleet_box, 2 * PER_ORG, seen) if org_id == beta else client
        )

    try:
        result = extend_orgs(factory, [(o, o) for o in (home, beta, gamma)], concurrency=4)
    finally:
        fleet.close()

    assert result.count("extended") == 3 * PER_ORG
    # beta began listing only once the other two orgs' data sources were all extended
    assert seen == [2 * PER_ORG]
