"""One org, whichever form its id is given in; names that scripts rely on; the bulk options
of `token refresh --all-orgs`; an unknown --org as a usage error. Against the multi-org
sandbox over loopback (``Sandbox(orgs=2)``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from byods_manager.cli.main import cli
from byods_manager.fleet.orgs import Fleet
from byods_manager.sandbox import Sandbox
from byods_manager.tokens.config import load_config
from tests.fixtures_sandbox import register

SCHEMA = "5397013b-7920-4ffc-807c-e8a3e0a18f43"
PUT = "PUT /dataSources/{id}"
MINT = "POST /applications/{appId}/token"


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(orgs=2) as sandbox:
        config = sandbox.write_config(tmp_path / "sandbox" / "token-config.json")
        monkeypatch.setenv("BYODS_CONFIG", str(config))
        monkeypatch.setenv("WEBEX_API_BASE_URL", sandbox.base_url)
        monkeypatch.delenv("BYODS_ORG", raising=False)
        yield sandbox


def byods(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def uuid_of(box: Sandbox, org_id: str) -> str:
    org = box.state.find_org(org_id)
    assert org is not None
    return org.uuid


def seed(box: Sandbox, org_id: str, count: int) -> None:
    token = box.issue_access_token("service_app", org_id=org_id)
    for n in range(count):
        register(box, token, url=f"https://dap.example.com/{n}", schemaId=SCHEMA, audience=f"a{n}")


def fleet_of(box: Sandbox) -> Fleet:
    return Fleet(load_config(Path(os.environ["BYODS_CONFIG"])), base_url=box.base_url)


# -- defect: `token refresh --all-orgs` had no --concurrency ------------------------------


def test_token_refresh_all_orgs_takes_concurrency(box: Sandbox) -> None:
    _, beta = box.org_ids
    ok(byods("orgs", "add", beta, "--name", "beta"))

    refreshed = json.loads(
        ok(
            byods("token", "refresh", "--all-orgs", "--force", "--concurrency", "1", "--json")
        ).stdout
    )

    assert [r["orgId"] for r in refreshed] == box.org_ids
    assert all(r["refreshed"] for r in refreshed)
    out_of_range = byods("token", "refresh", "--all-orgs", "--concurrency", "0")
    assert out_of_range.exit_code == 2
    assert "--concurrency" in out_of_range.stderr
    assert "--concurrency N" in ok(byods("token", "refresh", "--help")).stdout


# -- defect: an unknown --org on `extend --all` looked like an org failure -----------------


def test_extend_all_with_an_unknown_org_is_a_one_line_usage_error(box: Sandbox) -> None:
    result = byods("--org", "nosuch", "extend", "--all")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: unknown org 'nosuch'; see `byods orgs list` (add one: `byods orgs add`)"
    ]
    assert result.stderr == byods("--org", "nosuch", "list").stderr
