"""Many customer orgs: each has its own tokens and data sources; deauthorizing is instant."""

from __future__ import annotations

import pytest
import requests

from byods_manager.sandbox import Sandbox
from tests.fixtures_sandbox import admin_session, register


def mint(sandbox: Sandbox, org_id: str) -> requests.Response:
    config = sandbox.config_data()["serviceApp"]
    return requests.post(
        f"{sandbox.base_url}/applications/{config['appId']}/token",
        json={
            "clientId": config["clientId"],
            "clientSecret": config["clientSecret"],
            "targetOrgId": org_id,
        },
        headers={"Authorization": f"Bearer {sandbox.issue_access_token('personal')}"},
        timeout=10,
    )


def get(sandbox: Sandbox, token: str, path: str) -> requests.Response:
    return requests.get(
        sandbox.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_orgs_option_starts_with_that_many_authorized_orgs() -> None:
    with Sandbox(orgs=3) as box:
        assert len(box.org_ids) == 3
        assert len(set(box.org_ids)) == 3
        assert box.config_data()["serviceApp"]["targetOrgId"] == box.org_ids[0]
        assert box.org_ids[0] == box.state.identity.org_id


def test_each_org_sees_only_its_own_data_sources() -> None:
    with Sandbox(orgs=2) as box:
        first_org, second_org = box.org_ids
        first = mint(box, first_org).json()["access_token"]
        second = mint(box, second_org).json()["access_token"]
        mine = register(box, first)
        theirs = register(box, second)
        assert [item["id"] for item in get(box, first, "/dataSources").json()["items"]] == [
            mine["id"]
        ]
        assert get(box, first, f"/dataSources/{theirs['id']}").status_code == 404
        assert (
            requests.delete(
                f"{box.base_url}/dataSources/{theirs['id']}",
                headers={"Authorization": f"Bearer {first}"},
                timeout=10,
            ).status_code
            == 404
        )
        assert len(box.data_sources(second_org)) == 1
        stats = box.stats_snapshot()["requestsByOrg"]
        assert stats[first_org] >= 3 and stats[second_org] >= 2


def test_an_org_that_has_not_authorized_the_app_is_refused(sandbox: Sandbox) -> None:
    stranger = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9ub3BlLW5vdC1hbi1vcmc"
    response = mint(sandbox, stranger)
    assert response.status_code == 403
    assert "not authorized" in response.json()["message"]


def test_deauthorizing_kills_the_orgs_tokens_at_once(sandbox: Sandbox) -> None:
    other = sandbox.authorize_org()
    pair = mint(sandbox, other).json()
    default_token = sandbox.issue_access_token("service_app")
    assert get(sandbox, pair["access_token"], "/dataSources").status_code == 200

    sandbox.deauthorize_org(other)
    assert other not in sandbox.org_ids
    assert get(sandbox, pair["access_token"], "/dataSources").status_code == 401
    ident = sandbox.state.identity
    refreshed = requests.post(
        sandbox.base_url + "/access_token",
        data={
            "grant_type": "refresh_token",
            "client_id": ident.app_client_id,
            "client_secret": ident.app_client_secret,
            "refresh_token": pair["refresh_token"],
        },
        timeout=10,
    )
    assert refreshed.status_code == 400
    assert mint(sandbox, other).status_code == 403
    assert get(sandbox, default_token, "/dataSources").status_code == 200  # others unaffected

    assert sandbox.authorize_org(other) == other  # the org comes back
    assert mint(sandbox, other).status_code == 200


def test_refreshed_service_app_tokens_stay_in_their_org(sandbox: Sandbox) -> None:
    other = sandbox.authorize_org()
    pair = mint(sandbox, other).json()
    ident = sandbox.state.identity
    refreshed = requests.post(
        sandbox.base_url + "/access_token",
        data={
            "grant_type": "refresh_token",
            "client_id": ident.app_client_id,
            "client_secret": ident.app_client_secret,
            "refresh_token": pair["refresh_token"],
        },
        timeout=10,
    ).json()
    register(sandbox, refreshed["access_token"])
    assert len(sandbox.data_sources(other)) == 1
    assert sandbox.data_sources(sandbox.org_ids[0]) == []


def test_org_controls_over_http(sandbox: Sandbox) -> None:
    control = admin_session(sandbox)
    admin = sandbox.origin + "/_sandbox"
    created = control.post(admin + "/orgs", timeout=10).json()["orgId"]
    assert created in sandbox.org_ids
    form = control.post(admin + "/orgs/deauthorize", data={"orgId": created}, timeout=10)
    assert form.status_code == 200
    assert created not in sandbox.org_ids
    listed = control.get(admin + "/orgs", timeout=10).json()["items"]
    assert {"orgId": created, "authorized": False} in [
        {k: item[k] for k in ("orgId", "authorized")} for item in listed
    ]
    again = control.post(admin + "/orgs", json={"orgId": created}, timeout=10).json()
    assert again == {"orgId": created}
    assert created in sandbox.org_ids
    missing = control.post(admin + "/orgs/deauthorize", json={"orgId": "nope"}, timeout=10)
    assert missing.status_code == 404


@pytest.mark.parametrize("kind", ["service_app"])
def test_issue_access_token_refuses_an_unauthorized_org(sandbox: Sandbox, kind: str) -> None:
    other = sandbox.authorize_org()
    sandbox.deauthorize_org(other)
    with pytest.raises(ValueError):
        sandbox.issue_access_token(kind, org_id=other)
