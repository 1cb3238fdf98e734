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
from byods_manager.stores.orgs import OrgRecord
from byods_manager.tokens.config import load_config
from byods_manager.webex_ids import org_key, public_org_id, same_org
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


# -- the id helpers ------------------------------------------------------------------------


def test_both_forms_of_an_org_id_are_one_org() -> None:
    uuid = "de96030c-39b3-43b8-8626-928cb59babb1"
    webex_id = public_org_id(uuid)
    assert webex_id.startswith("Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi")  # ciscospark://us/...
    assert public_org_id(webex_id) == webex_id  # kept as given
    assert same_org(uuid, webex_id) and same_org(uuid.upper(), f" {webex_id} ")
    assert org_key(webex_id) == uuid
    assert not same_org(uuid, public_org_id("de96030c-39b3-43b8-8626-928cb59babb2"))
    assert org_key("org-acme") == "org-acme"  # other ids are compared as they are


# -- defect: one org registered twice under its two id forms -----------------------------


def test_an_org_added_by_uuid_and_again_by_webex_id_is_registered_once(box: Sandbox) -> None:
    home, beta = box.org_ids
    seed(box, beta, 2)
    added = ok(byods("orgs", "add", uuid_of(box, beta), "--name", "uuidorg"))
    assert f"Added org {beta} (uuidorg)" in added.stdout  # registered as the base64 id

    again = ok(byods("orgs", "add", beta))

    assert f"Org {beta} is already registered as uuidorg" in again.stdout
    listed = json.loads(ok(byods("orgs", "list", "--json")).stdout)
    assert [(o["orgId"], o["name"]) for o in listed] == [(home, None), (beta, "uuidorg")]
    data_sources = json.loads(ok(byods("list", "--all-orgs", "--json")).stdout)
    assert sorted(d["org"] for d in data_sources) == ["uuidorg", "uuidorg"]
    box.reset()
    ok(byods("extend", "--all-orgs", "--json"))
    assert box.stats_snapshot()["requests"][PUT] == 2  # one PUT per data source


def test_the_config_orgs_uuid_selects_it_and_cannot_be_added_a_second_time(
    box: Sandbox,
) -> None:
    home, _ = box.org_ids
    seed(box, home, 1)

    listed = json.loads(ok(byods("--org", uuid_of(box, home), "list", "--json")).stdout)
    assert len(listed) == 1

    ok(byods("orgs", "add", uuid_of(box, home), "--name", "home"))
    orgs = json.loads(ok(byods("orgs", "list", "--json")).stdout)
    assert [(o["orgId"], o["name"], o["source"]) for o in orgs] == [(home, "home", "config")]


def test_a_registry_holding_the_uuid_form_keeps_its_entry_and_its_tokens(box: Sandbox) -> None:
    """A store written before ids were compared in either form: its keys stay as they are."""
    _, beta = box.org_ids
    seed(box, beta, 1)
    ok(byods("orgs", "add", uuid_of(box, beta), "--name", "beta"))
    fleet = fleet_of(box)
    try:  # what an older byods wrote for `orgs add <uuid>`
        fleet.registry.remove_org(beta)
        fleet.registry.save_org(OrgRecord(uuid_of(box, beta), name="beta"))
    finally:
        fleet.close()

    again = ok(byods("orgs", "add", beta))
    shown = ok(byods("--org", beta, "list", "--json"))

    assert f"Org {uuid_of(box, beta)} is already registered as beta" in again.stdout
    assert len(json.loads(shown.stdout)) == 1
    orgs = json.loads(ok(byods("orgs", "list", "--json")).stdout)
    assert [o["orgId"] for o in orgs][1:] == [uuid_of(box, beta)]


# -- defect: re-adding an org with another --name renamed it silently ---------------------


def test_another_name_for_a_registered_org_is_refused_and_rename_is_explicit(
    box: Sandbox,
) -> None:
    _, beta = box.org_ids
    ok(byods("orgs", "add", beta, "--name", "acme"))
    box.reset()

    refused = byods("orgs", "add", beta, "--name", "acme2")

    assert refused.exit_code == 2, refused.output
    assert refused.stderr.strip().splitlines() == [
        f"Error: org {beta} is already registered as 'acme'; "
        "to rename it: byods orgs rename acme acme2"
    ]
    assert box.stats_snapshot()["requests"].get(MINT, 0) == 0
    ok(byods("--org", "acme", "token", "status"))

    renamed = ok(byods("orgs", "rename", "acme", "acme2"))

    assert renamed.stdout.strip() == f"Renamed org {beta}: acme -> acme2"
    ok(byods("--org", "acme2", "token", "status"))
    assert byods("--org", "acme", "token", "status").exit_code == 2


def test_rename_refuses_a_name_another_org_uses(box: Sandbox) -> None:
    _, beta = box.org_ids
    ok(byods("orgs", "add", beta, "--name", "beta"))
    ok(byods("orgs", "rename", box.org_ids[0], "home"))

    clash = byods("orgs", "rename", "beta", "HOME")

    assert clash.exit_code == 2
    assert "already used by org" in clash.stderr
    orgs = json.loads(ok(byods("orgs", "list", "--json")).stdout)
    assert [o["name"] for o in orgs] == ["home", "beta"]


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


def test_webhook_onboarding_updates_the_org_registered_under_the_other_form(
    box: Sandbox,
) -> None:
    from byods_manager.service.onboarding_fleet import FleetOnboarding

    _, beta = box.org_ids
    fleet = fleet_of(box)
    try:
        fleet.registry.save_org(OrgRecord(uuid_of(box, beta), name="beta"))
        onboarding = FleetOnboarding(fleet)

        onboarding.deauthorized(beta)  # webhooks carry the base64 id
        after_deauthorize = [(r.org_id, r.name, r.status) for r in fleet.registry.load_orgs()]
        onboarding.authorized(beta)
        after_authorize = [(r.org_id, r.name, r.status) for r in fleet.registry.load_orgs()]
    finally:
        fleet.close()

    assert after_deauthorize == [(uuid_of(box, beta), "beta", "deauthorized")]
    assert after_authorize == [(uuid_of(box, beta), "beta", "active")]


def test_a_registry_that_holds_one_org_twice_works_on_it_once_and_remove_drops_both(
    box: Sandbox,
) -> None:
    """A store written while both forms were accepted as two orgs."""
    _, beta = box.org_ids
    seed(box, beta, 2)
    ok(byods("orgs", "add", beta, "--name", "beta"))
    fleet = fleet_of(box)
    try:
        fleet.registry.save_org(OrgRecord(uuid_of(box, beta), name="dup"))
    finally:
        fleet.close()
    box.reset()

    ok(byods("extend", "--all-orgs", "--json"))
    listed = json.loads(ok(byods("orgs", "list", "--json")).stdout)
    ok(byods("orgs", "remove", "beta", "--yes"))

    assert box.stats_snapshot()["requests"][PUT] == 2  # one PUT per data source
    assert [o["name"] for o in listed] == [None, "beta"]
    after = json.loads(ok(byods("orgs", "list", "--json")).stdout)
    assert [o["orgId"] for o in after] == [box.org_ids[0]]
