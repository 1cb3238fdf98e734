"""The tables that cover many orgs (`list --all-orgs`, `token status --all-orgs`, `orgs
list`) fit the terminal like every table, and `token status --all-orgs --check` checks.

Against the multi-org sandbox over loopback; counts are requests seen by the sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from byods_manager.sandbox import Sandbox
from tests.fixtures_sandbox import register
from tests.test_fleet_multiorg_sandbox import byods, ok, requests_seen

SCHEMA = "5397013b-7920-4ffc-807c-e8a3e0a18f43"
LONG_URL = "https://dap.example.com/" + "a-rather-long-path/" * 4 + "ingest"


@pytest.fixture
def fleet_box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """Three orgs (the config's, beta and gamma), two data sources each, every org's
    token pair stored."""
    with Sandbox(orgs=3) as box:
        config = box.write_config(tmp_path / "sandbox" / "token-config.json")
        monkeypatch.setenv("BYODS_CONFIG", str(config))
        monkeypatch.setenv("WEBEX_API_BASE_URL", box.base_url)
        monkeypatch.delenv("COLUMNS", raising=False)
        beta, gamma = box.org_ids[1:]
        ok(byods("orgs", "add", beta, "--name", "beta"))
        ok(byods("orgs", "add", gamma, "--name", "gamma"))
        for org in box.org_ids:
            token = box.issue_access_token("service_app", org_id=org)
            for n in range(2):
                register(box, token, url=f"{LONG_URL}/{n}", schemaId=SCHEMA, audience=f"aud{n}")
        ok(byods("list", "--all-orgs", "--json"))  # the config's org gets its pair too
        box.reset()
        yield box


def header(output: str, after_environment: bool = False) -> list[str]:
    return output.splitlines()[1 if after_environment else 0].split()


def widest(output: str) -> int:
    return max(len(line) for line in output.splitlines())


def row_of(output: str, org: str) -> list[str]:
    return next(line for line in output.splitlines() if line.startswith(org + " ")).split()


# -- token status --all-orgs --check ---------------------------------------------------


def test_token_status_all_orgs_check_validates_every_org(fleet_box: Sandbox) -> None:
    result = ok(byods("token", "status", "--all-orgs", "--check"))

    assert header(result.stdout, after_environment=True)[:2] == ["ORG", "CHECK"]
    assert row_of(result.stdout, "beta")[1] == "ok"
    assert row_of(result.stdout, "gamma")[1] == "ok"
    # each org: GET /dataSources/ with its token, then a mint through the Applications API
    assert requests_seen(fleet_box)["GET /dataSources"] == 3
    assert fleet_box.stats_snapshot()["requestsByOrg"] == dict.fromkeys(fleet_box.org_ids, 2)


def test_token_status_all_orgs_check_reports_a_deauthorized_org_and_fails(
    fleet_box: Sandbox,
) -> None:
    beta = fleet_box.org_ids[1]
    fleet_box.deauthorize_org(beta)

    text = byods("token", "status", "--all-orgs", "--check")
    as_json = byods("token", "status", "--all-orgs", "--check", "--json")

    assert text.exit_code == 1, text.output
    assert "Traceback" not in text.output
    assert row_of(text.stdout, "beta")[1] == "FAILED"
    assert row_of(text.stdout, "gamma")[1] == "ok"
    assert "Error: org beta: " in text.stderr
    assert as_json.exit_code == 1, as_json.output
    checks = {item["org"]: item["checks"] for item in json.loads(as_json.stdout)}
    assert [check["ok"] for check in checks["beta"]] == [False, False]
    assert [check["ok"] for check in checks["gamma"]] == [True, True]


def test_token_status_all_orgs_without_check_sends_nothing(fleet_box: Sandbox) -> None:
    result = ok(byods("token", "status", "--all-orgs"))

    assert "CHECK" not in header(result.stdout, after_environment=True)
    assert requests_seen(fleet_box) == {}


# -- token status --all-orgs: the refresh token's expiry ---------------------------------


def test_token_status_all_orgs_shows_when_each_refresh_token_expires(fleet_box: Sandbox) -> None:
    text = ok(byods("token", "status", "--all-orgs")).stdout
    items = json.loads(ok(byods("token", "status", "--all-orgs", "--json")).stdout)

    assert all(item["tiers"][1]["refreshExpiresAt"] for item in items)
    rows = [line for line in text.splitlines()[3:] if line.strip()]
    assert len(rows) == 3
    # the access token's expiry and the refresh token's, both known
    assert all(line.count(" in ") == 2 and "unknown" not in line for line in rows)


# -- list --all-orgs: the columns of single-org list -------------------------------------


def test_list_all_orgs_takes_columns(fleet_box: Sandbox) -> None:
    result = ok(byods("list", "--all-orgs", "--columns", "id,audience"))

    assert header(result.stdout) == ["ID", "AUDIENCE"]
    ids = {ds["id"] for org in fleet_box.org_ids for ds in fleet_box.data_sources(org)}
    assert {line.split()[0] for line in result.stdout.splitlines()[2:]} == ids
    with_org = ok(byods("list", "--all-orgs", "--columns", "org,audience"))
    assert header(with_org.stdout) == ["ORG", "AUDIENCE"]
    assert row_of(with_org.stdout, "beta") == ["beta", "aud0"]


def test_list_all_orgs_refuses_an_unknown_column_before_any_request(fleet_box: Sandbox) -> None:
    result = byods("list", "--all-orgs", "--columns", "bogus")

    assert result.exit_code == 2, result.output
    assert "unknown column bogus" in result.stderr
    assert requests_seen(fleet_box) == {}


def test_list_all_orgs_fits_the_terminal_by_priority(
    fleet_box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    narrow = ok(byods("list", "--all-orgs")).stdout
    monkeypatch.setenv("COLUMNS", "100")
    fitted = ok(byods("list", "--all-orgs")).stdout
    wide = ok(byods("list", "--all-orgs", "--wide")).stdout

    assert widest(narrow) <= 80
    assert header(narrow) == ["ORG", "ID", "STATUS", "EXPIRES", "IN"]
    assert widest(fitted) <= 100
    # the url goes before the audience and the schema (single-org list's priorities)
    assert header(fitted) == ["ORG", "ID", "STATUS", "EXPIRES", "IN", "AUDIENCE", "SCHEMA"]
    assert LONG_URL not in fitted
    assert f"{LONG_URL}/1" in wide
    assert fleet_box.org_ids[0] in wide  # the unnamed org's whole id
    assert "SUBJECT" in header(wide)


# -- orgs list and token status --all-orgs fit the terminal ------------------------------


@pytest.mark.parametrize(
    "command", [("orgs", "list"), ("token", "status", "--all-orgs")], ids=["orgs", "status"]
)
def test_org_tables_fit_the_terminal_and_wide_shows_the_org_ids(
    command: tuple[str, ...], fleet_box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    fitted = ok(byods(*command)).stdout
    wide = ok(byods(*command, "--wide")).stdout

    assert widest(fitted) <= 80
    assert header(fitted, after_environment=True)[0] == "ORG"
    assert row_of(fitted, "beta")[1] in ("active", "in")  # status or the token's expiry
    assert all(org_id not in fitted for org_id in fleet_box.org_ids)
    assert all(org_id in wide for org_id in fleet_box.org_ids)
    assert widest(wide) > 80


def test_orgs_list_refuses_an_unknown_column(fleet_box: Sandbox) -> None:
    result = byods("orgs", "list", "--columns", "bogus")

    assert result.exit_code == 2, result.output
    assert "unknown column bogus" in result.stderr


def test_single_org_token_status_refuses_table_options(fleet_box: Sandbox) -> None:
    result = byods("token", "status", "--wide")

    assert result.exit_code == 2, result.output
    assert "--all-orgs" in result.stderr
