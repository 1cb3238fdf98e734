"""Many orgs of one service app through the CLI, against a multi-org fake over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer

from byods_manager.webex_ids import app_id_for_client
from tests.fixtures_tokens import assert_no_secrets
from tests.fleet_fake import DERIVED_APP_ID, PAT, SA_CLIENT_ID, SA_CLIENT_SECRET, FleetWebex

HOME_ORG = "org-home"
ACME = "org-acme"
GLOBEX = "org-globex"


@pytest.fixture
def fleet(
    threaded_httpserver: HTTPServer,
    tmp_path: Path,
    tokens_store: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FleetWebex]:
    fake = FleetWebex(threaded_httpserver)
    config = {
        "serviceApp": {
            "clientId": SA_CLIENT_ID,
            "clientSecret": SA_CLIENT_SECRET,
            "targetOrgId": HOME_ORG,
        },
        "tokenManager": {"personalAccessToken": PAT},
    }
    path = tmp_path / "token-config.json"
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    monkeypatch.setenv("BYODS_CONFIG", str(path))
    monkeypatch.setenv("WEBEX_API_BASE_URL", fake.base_url)
    yield fake


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def payload(result: Result) -> Any:
    return json.loads(result.stdout)


def add_orgs(run_cli: Callable[..., Result], fleet: FleetWebex, per_org: int = 3) -> None:
    fleet.authorize(HOME_ORG, per_org)
    for org, name in ((ACME, "acme"), (GLOBEX, "globex")):
        fleet.authorize(org, per_org)
        ok(run_cli(["orgs", "add", org, "--name", name]))


def test_app_id_is_derived_from_the_client_id() -> None:
    derived = app_id_for_client("C0ffee")
    assert derived.startswith(
        "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL"
    )  # ciscospark://us/APPLICATION/
    assert "=" not in derived
    from byods_manager.sandbox.state import spark_id

    assert derived == spark_id("APPLICATION", "C0ffee")


def test_orgs_add_mints_the_orgs_tokens_and_lists_it(
    run_cli: Callable[..., Result], fleet: FleetWebex, tokens_store: Path
) -> None:
    fleet.authorize(HOME_ORG)
    fleet.authorize(ACME)

    result = ok(run_cli(["orgs", "add", ACME, "--name", "acme"]))

    assert "Added org org-acme (acme)" in result.stdout
    assert fleet.count("mint", ACME) == 1  # at the appId derived from the client id
    store = json.loads(tokens_store.read_text())
    assert store["orgs"][ACME]["source"] == "orgs add"
    assert f"{DERIVED_APP_ID}@{ACME}" in store["serviceApps"]
    listed = payload(ok(run_cli(["orgs", "list", "--json"])))
    assert [(o["orgId"], o["name"], o["source"], o["status"]) for o in listed] == [
        (HOME_ORG, None, "config", "active"),
        (ACME, "acme", "orgs add", "active"),
    ]
    assert listed[1]["tokenExpiresAt"] is not None
    assert listed[0]["tokenExpiresAt"] is None  # the config's org has not been used yet
    table = ok(run_cli(["orgs", "list"])).stdout
    assert "acme" in table and "orgs add" in table
    assert_no_secrets(result.output + table, (SA_CLIENT_SECRET, PAT))


def test_orgs_add_json_and_a_name_used_twice(
    run_cli: Callable[..., Result], fleet: FleetWebex
) -> None:
    fleet.authorize(ACME)
    fleet.authorize(GLOBEX)
    added = payload(ok(run_cli(["orgs", "add", ACME, "--name", "acme", "--json"])))
    assert (added["orgId"], added["name"], added["source"]) == (ACME, "acme", "orgs add")

    clash = run_cli(["orgs", "add", GLOBEX, "--name", "ACME"])

    assert clash.exit_code == 2 and "already used by org org-acme" in clash.stderr
    assert fleet.count("mint", GLOBEX) == 0


def test_orgs_add_where_the_app_is_not_authorized_is_a_clear_error(
    run_cli: Callable[..., Result], fleet: FleetWebex, tokens_store: Path
) -> None:
    result = run_cli(["orgs", "add", "org-stranger"])

    assert result.exit_code == 3
    assert "not authorized" in result.stderr
    assert "org-stranger" in result.stderr
    listed = payload(ok(run_cli(["orgs", "list", "--json"])))
    assert [o["orgId"] for o in listed] == [HOME_ORG]
    assert_no_secrets(result.output, (SA_CLIENT_SECRET, PAT))


def test_orgs_remove_forgets_the_org_and_its_tokens(
    run_cli: Callable[..., Result], fleet: FleetWebex, tokens_store: Path
) -> None:
    fleet.authorize(ACME)
    ok(run_cli(["orgs", "add", ACME, "--name", "acme"]))

    refused = run_cli(["orgs", "remove", "acme"])
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    home = run_cli(["orgs", "remove", HOME_ORG, "--yes"])
    assert home.exit_code == 2 and "targetOrgId" in home.stderr

    ok(run_cli(["orgs", "remove", "acme", "--yes"]))

    store = json.loads(tokens_store.read_text())
    assert ACME not in store["orgs"]
    assert f"{DERIVED_APP_ID}@{ACME}" not in store["serviceApps"]
    unknown = run_cli(["--org", "acme", "list"])
    assert unknown.exit_code == 2 and "unknown org 'acme'" in unknown.stderr


def test_org_option_and_env_pick_the_org(
    run_cli: Callable[..., Result], fleet: FleetWebex, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_orgs(run_cli, fleet)
    acme_ids = sorted(fleet.data_sources[ACME])

    by_name = payload(ok(run_cli(["--org", "acme", "list", "--json"])))
    assert sorted(ds["id"] for ds in by_name) == acme_ids
    monkeypatch.setenv("BYODS_ORG", GLOBEX)
    by_env = payload(ok(run_cli(["list", "--json"])))
    assert sorted(ds["id"] for ds in by_env) == sorted(fleet.data_sources[GLOBEX])
    monkeypatch.delenv("BYODS_ORG")
    default = payload(ok(run_cli(["list", "--json"])))
    assert sorted(ds["id"] for ds in default) == sorted(fleet.data_sources[HOME_ORG])


def test_list_all_orgs_has_an_org_field_and_goes_on_past_a_revoked_org(
    run_cli: Callable[..., Result], fleet: FleetWebex
) -> None:
    add_orgs(run_cli, fleet, per_org=2)
    fleet.revoke(ACME)

    result = run_cli(["list", "--all-orgs", "--json"])

    assert result.exit_code == 1
    listed = payload(result)
    assert sorted((ds["org"], ds["id"]) for ds in listed if "error" not in ds) == sorted(
        [(HOME_ORG, i) for i in fleet.data_sources[HOME_ORG]]
        + [("globex", i) for i in fleet.data_sources[GLOBEX]]
    )
    # the org that failed is in the JSON too, where its data sources would be
    failures = [item for item in listed if "error" in item]
    assert [(f["org"], f["orgId"]) for f in failures] == [("acme", ACME)]
    assert "byods auth setup" in failures[0]["error"] and "id" not in failures[0]
    assert [item["org"] for item in listed][2] == "acme"  # after the home org's two
    assert "org acme" in result.stderr
    table = run_cli(["list", "--all-orgs"])
    assert table.exit_code == 1 and "globex" in table.stdout
    assert_no_secrets(result.output + table.output, (SA_CLIENT_SECRET, PAT))


def test_extend_all_orgs_extends_every_org_and_reports_a_revoked_one(
    run_cli: Callable[..., Result], fleet: FleetWebex, default_audit_file: Path
) -> None:
    add_orgs(run_cli, fleet, per_org=4)
    fleet.revoke(GLOBEX)

    result = run_cli(["extend", "--all", "--all-orgs", "--json"])

    assert result.exit_code == 1
    report = payload(result)
    extended = sorted((r["org"], r["id"]) for r in report["results"] if r["outcome"] == "extended")
    assert extended == sorted(
        [(HOME_ORG, i) for i in fleet.data_sources[HOME_ORG]]
        + [("acme", i) for i in fleet.data_sources[ACME]]
    )
    assert [f["org"] for f in report["orgFailures"]] == ["globex"]
    # the same {org, orgId, error} as list/token/apply --all-orgs --json give a failed org
    assert set(report["orgFailures"][0]) == {"org", "orgId", "error"}
    assert report["orgFailures"][0]["orgId"] == GLOBEX and report["orgFailures"][0]["error"]
    assert fleet.count("put", HOME_ORG) == 4 and fleet.count("put", ACME) == 4
    assert fleet.count("put", GLOBEX) == 0
    audited = [json.loads(line) for line in default_audit_file.read_text().splitlines()]
    assert sorted((a["orgId"], a["dataSourceId"]) for a in audited) == sorted(
        [(HOME_ORG, i) for i in fleet.data_sources[HOME_ORG]]
        + [(ACME, i) for i in fleet.data_sources[ACME]]
    )


def test_an_org_deauthorized_mid_run_stops_costing_requests(
    run_cli: Callable[..., Result], fleet: FleetWebex
) -> None:
    add_orgs(run_cli, fleet, per_org=20)
    fleet.revoke_after_list.add(ACME)

    result = run_cli(["extend", "--all-orgs", "--json"])

    assert result.exit_code == 1
    report = payload(result)
    outcomes = {(r["org"], r["outcome"]) for r in report["results"]}
    assert outcomes == {(HOME_ORG, "extended"), ("globex", "extended"), ("acme", "failed")}
    assert [f["org"] for f in report["orgFailures"]] == ["acme"]
    # the workers that were already on an acme item each tried to get a token once; the
    # rest of acme's 20 items were marked failed without sending anything
    assert 1 <= fleet.count("get", "?") <= 8  # refused GETs (their token names no org)
    assert fleet.count("mint", ACME) <= 1 + 8  # `orgs add`, then at most one per worker


def test_extend_all_orgs_text_has_an_org_column(
    run_cli: Callable[..., Result], fleet: FleetWebex
) -> None:
    add_orgs(run_cli, fleet, per_org=1)
    result = ok(run_cli(["extend", "--all-orgs", "--concurrency", "2"]))
    acme_id = next(iter(fleet.data_sources[ACME]))
    assert any(line.startswith(f"extended  acme  {acme_id}") for line in result.stdout.splitlines())
    assert result.stdout.splitlines()[-1] == "3 extended, 0 skipped, 0 failed"


def test_extend_dry_run_sends_no_put(run_cli: Callable[..., Result], fleet: FleetWebex) -> None:
    add_orgs(run_cli, fleet, per_org=3)

    result = ok(run_cli(["extend", "--all", "--all-orgs", "--dry-run"]))

    assert fleet.count("put") == 0
    assert result.stdout.splitlines()[-1] == "9 would be extended, 0 skipped, 0 failed"
    assert sum(line.startswith("would extend") for line in result.stdout.splitlines()) == 9


def test_token_status_and_refresh_all_orgs(
    run_cli: Callable[..., Result], fleet: FleetWebex
) -> None:
    add_orgs(run_cli, fleet)
    mints_before = fleet.count("mint")

    refreshed = payload(ok(run_cli(["token", "refresh", "--all-orgs", "--force", "--json"])))

    assert [r["org"] for r in refreshed] == [HOME_ORG, "acme", "globex"]
    # home has no tokens yet (tier 2 mint); acme and globex refresh their own pair (tier 1)
    assert [r["tier"] for r in refreshed] == [2, 1, 1]
    assert fleet.count("mint") == mints_before + 1
    assert fleet.count("refresh", ACME) == 1 and fleet.count("refresh", GLOBEX) == 1
    status = payload(ok(run_cli(["token", "status", "--all-orgs", "--json"])))
    assert [(s["org"], s["targetOrgId"]) for s in status] == [
        (HOME_ORG, HOME_ORG),
        ("acme", ACME),
        ("globex", GLOBEX),
    ]
    assert "globex" in ok(run_cli(["token", "status", "--all-orgs"])).stdout


def test_eight_workers_hitting_a_401_together_cause_one_refresh(
    run_cli: Callable[..., Result], fleet: FleetWebex
) -> None:
    ids = fleet.authorize(HOME_ORG, 24)
    ok(run_cli(["token", "refresh"]))  # tier 2: the home org's first pair
    fleet.expire_access_after_list = True  # every worker's first GET gets a 401
    fleet.item_delay = 0.02

    result = ok(run_cli(["extend", "--all", "--concurrency", "8", "--json"]))

    assert payload(result)["summary"] == {"extended": 24, "skipped": 0, "failed": 0}
    assert fleet.count("refresh", HOME_ORG) == 1
    assert fleet.count("put", HOME_ORG) == len(ids)


def test_a_429_pauses_every_worker_and_the_run_slows_to_the_accepted_rate(
    run_cli: Callable[..., Result], fleet: FleetWebex
) -> None:
    fleet.authorize(HOME_ORG, 50)
    ok(run_cli(["token", "refresh"]))
    fleet.rate_limit = 20  # requests per second
    started = time.monotonic()

    result = ok(run_cli(["extend", "--all", "--json"]))

    assert payload(result)["summary"]["failed"] == 0
    assert fleet.count("put", HOME_ORG) == 50
    # Independent workers would each be refused once per window (8 x 5 windows); with
    # shared pacing only the requests in flight when the first 429 came back are refused,
    # plus at most one more round while the pace settles.
    assert fleet.rate_limited <= 12, (fleet.rate_limited, time.monotonic() - started)


def test_list_all_orgs_shares_one_pacing_a_429_pauses_every_worker(
    run_cli: Callable[..., Result], fleet: FleetWebex
) -> None:
    fleet.authorize(HOME_ORG, 1)
    ok(run_cli(["token", "refresh"]))
    orgs = [f"org-{n:02d}" for n in range(12)]
    for org in orgs:
        fleet.authorize(org, 1)
        ok(run_cli(["orgs", "add", org]))
    fleet.rate_limit = 5  # list requests per second, fewer than the 8 workers send at once
    fleet.list_delay = 0.2  # lists take a while; refusals come back at once

    result = ok(run_cli(["list", "--all-orgs", "--concurrency", "8", "--json"]))

    assert sorted(ds["orgId"] for ds in payload(result)) == sorted([HOME_ORG, *orgs])
    assert all(fleet.count("list", org) == 1 for org in [HOME_ORG, *orgs])
    # The first 8 requests go out together and 3 are refused at once. Independent workers
    # would go on: the 5 answered ones send their next org within the same second and are
    # refused too (8 at least). One pacing pauses every worker on the first 429, and the
    # rest go out at the accepted rate (a refusal more only if a thread is late).
    assert fleet.rate_limited <= 5, fleet.rate_limited


def test_one_org_whose_token_is_refused_still_exits_3_with_the_whole_reason(
    run_cli: Callable[..., Result], fleet: FleetWebex, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet.authorize(HOME_ORG, 2)
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", "revoked-token")

    result = run_cli(["extend", "--all"])

    assert result.exit_code == 3
    assert "Error: Webex rejected the access token from WEBEX_SERVICE_APP_ACCESS_TOKEN" in (
        result.stderr
    )
    assert "byods auth setup" in result.stderr  # with its hint
    assert fleet.count("put") == 0


def test_org_column_shortens_only_long_unnamed_ids() -> None:
    from byods_manager.cli.fleet_cmds import org_column
    from byods_manager.sandbox.state import spark_id

    webex_id = spark_id("ORGANIZATION", "f59d1d98-cea6-4c69-87c9-54c05d82abfb")
    assert org_column(webex_id, webex_id) == "f59d1d98…"
    assert org_column(webex_id, webex_id, wide=True) == webex_id
    assert org_column(webex_id, "acme") == "acme"
    assert org_column(HOME_ORG, HOME_ORG) == HOME_ORG  # short ids are shown whole
    other = "x" * 40  # long, but not a Webex org id
    assert org_column(other, other) == "xxxxxxxx…"
    app_id = spark_id("APPLICATION", "f59d1d98-cea6-4c69-87c9-54c05d82abfb")
    assert org_column(app_id, app_id) == app_id[:8] + "…"
