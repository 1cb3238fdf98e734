"""The sandbox's token endpoints: authorize, access_token (with rotation), Applications API."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
import requests

from byods_manager.errors import ApiError
from byods_manager.http import HttpClient, RetryPolicy
from byods_manager.sandbox import Sandbox
from byods_manager.tokens import endpoints
from tests.fixtures_sandbox import admin_session

REDIRECT = "http://127.0.0.1:8765/callback"


def post_form(sandbox: Sandbox, form: dict[str, str]) -> requests.Response:
    return requests.post(sandbox.base_url + "/access_token", data=form, timeout=10)


def refresh(sandbox: Sandbox, token: str, client: str = "service_app") -> requests.Response:
    ident = sandbox.state.identity
    if client == "service_app":
        creds = (ident.app_client_id, ident.app_client_secret)
    else:
        creds = (ident.integration_client_id, ident.integration_client_secret)
    return post_form(
        sandbox,
        {
            "grant_type": "refresh_token",
            "client_id": creds[0],
            "client_secret": creds[1],
            "refresh_token": token,
        },
    )


def authorize(sandbox: Sandbox, **overrides: str) -> requests.Response:
    params = {
        "client_id": sandbox.state.identity.integration_client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "spark:applications_token spark:kms",
        "state": "s-123",
    }
    params.update(overrides)
    params = {k: v for k, v in params.items() if v != "-"}
    return requests.get(
        sandbox.base_url + "/authorize", params=params, allow_redirects=False, timeout=10
    )


def mint(sandbox: Sandbox, bearer: str, **overrides: Any) -> requests.Response:
    config = sandbox.config_data()["serviceApp"]
    body = {
        "clientId": config["clientId"],
        "clientSecret": config["clientSecret"],
        "targetOrgId": config["targetOrgId"],
    }
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not None}
    app_id = overrides.pop("app_id", None) or config["appId"]
    body.pop("app_id", None)
    return requests.post(
        f"{sandbox.base_url}/applications/{app_id}/token",
        json=body,
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=10,
    )


def test_authorize_auto_approves_and_the_code_works_once(sandbox: Sandbox) -> None:
    response = authorize(sandbox)
    assert response.status_code == 302
    location = urllib.parse.urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = dict(urllib.parse.parse_qsl(location.query))
    assert query["state"] == "s-123"
    ident = sandbox.state.identity
    form = {
        "grant_type": "authorization_code",
        "client_id": ident.integration_client_id,
        "client_secret": ident.integration_client_secret,
        "code": query["code"],
        "redirect_uri": REDIRECT,
    }
    first = post_form(sandbox, form)
    assert first.status_code == 200
    tokens = first.json()
    assert set(tokens) == {
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "token_type",
    }
    assert tokens["expires_in"] == sandbox.state.lifetimes.integration
    assert post_form(sandbox, form).status_code == 400
    # The integration token can mint service-app tokens (it has spark:applications_token).
    assert mint(sandbox, tokens["access_token"]).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "Cunknown"},
        {"response_type": "token"},
        {"redirect_uri": "-"},
        {"scope": "spark:kms"},
    ],
)
def test_authorize_validates_its_parameters(sandbox: Sandbox, overrides: dict[str, str]) -> None:
    response = authorize(sandbox, **overrides)
    assert response.status_code == 400
    assert response.json()["message"]


def test_code_needs_the_same_redirect_uri_and_the_integration_client(sandbox: Sandbox) -> None:
    code = dict(
        urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize(sandbox).headers["Location"]).query)
    )["code"]
    ident = sandbox.state.identity
    base = {"grant_type": "authorization_code", "code": code}
    as_service_app = {
        **base,
        "client_id": ident.app_client_id,
        "client_secret": ident.app_client_secret,
        "redirect_uri": REDIRECT,
    }
    assert post_form(sandbox, as_service_app).status_code == 400
    wrong_redirect = {
        **base,
        "client_id": ident.integration_client_id,
        "client_secret": ident.integration_client_secret,
        "redirect_uri": "http://127.0.0.1:1/other",
    }
    assert post_form(sandbox, wrong_redirect).status_code == 400


@pytest.mark.parametrize("kind", ["service_app", "integration"])
def test_refresh_tokens_rotate(sandbox: Sandbox, kind: str) -> None:
    original = sandbox.issue_refresh_token(kind)
    first = refresh(sandbox, original, kind)
    assert first.status_code == 200
    successor = first.json()["refresh_token"]
    assert successor != original
    assert first.json()["refresh_token_expires_in"] == sandbox.state.lifetimes.refresh
    again = refresh(sandbox, original, kind)
    assert again.status_code == 400
    assert "invalid_grant" in again.json()["message"]
    assert refresh(sandbox, successor, kind).status_code == 200
    assert sandbox.stats_snapshot()["requests"][f"POST /access_token [refresh_token:{kind}]"] == 2


def test_a_refresh_token_only_works_with_its_own_client(sandbox: Sandbox) -> None:
    integration_token = sandbox.issue_refresh_token("integration")
    assert refresh(sandbox, integration_token, "service_app").status_code == 400
    assert refresh(sandbox, integration_token, "integration").status_code == 200


def test_wrong_client_secret_and_bad_grants(sandbox: Sandbox) -> None:
    ident = sandbox.state.identity
    bad_secret = {
        "grant_type": "refresh_token",
        "client_id": ident.app_client_id,
        "client_secret": "nope",
        "refresh_token": sandbox.issue_refresh_token("service_app"),
    }
    assert post_form(sandbox, bad_secret).status_code == 401
    assert post_form(sandbox, {"grant_type": "password"}).status_code == 400
    as_json = requests.post(
        sandbox.base_url + "/access_token", json={"grant_type": "refresh_token"}, timeout=10
    )
    assert as_json.status_code == 415


def test_revoked_and_expired_refresh_tokens_fail(sandbox: Sandbox) -> None:
    token = sandbox.issue_refresh_token("service_app")
    sandbox.revoke_tokens("service_app", refresh=True)
    assert refresh(sandbox, token).status_code == 400
    sandbox.set_lifetimes(refresh=0)
    expired = sandbox.issue_refresh_token("integration")
    assert refresh(sandbox, expired, "integration").status_code == 400


@pytest.mark.parametrize("kind", ["personal", "integration"])
def test_applications_api_mints_service_app_tokens(sandbox: Sandbox, kind: str) -> None:
    response = mint(sandbox, sandbox.issue_access_token(kind))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == sandbox.state.lifetimes.service_app
    listed = requests.get(
        sandbox.base_url + "/dataSources",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert listed.status_code == 200


def test_applications_api_accepts_the_raw_org_uuid_too(sandbox: Sandbox) -> None:
    org = sandbox.state.identity.org_uuid
    assert mint(sandbox, sandbox.issue_access_token("personal"), targetOrgId=org).status_code == 200


@pytest.mark.parametrize(
    ("bearer_kind", "scopes", "overrides", "status"),
    [
        ("service_app", None, {}, 403),
        ("integration", ["spark:kms"], {}, 403),
        ("personal", None, {"clientSecret": "wrong"}, 400),
        ("personal", None, {"targetOrgId": "someone-else"}, 403),
        ("personal", None, {"app_id": "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL0N4"}, 404),
        ("personal", None, {"clientId": None}, 400),
        ("personal", None, {"extra": "field"}, 400),
        ("personal", None, {"targetOrgId": 7}, 400),
    ],
)
def test_applications_api_refusals(
    sandbox: Sandbox,
    bearer_kind: str,
    scopes: list[str] | None,
    overrides: dict[str, Any],
    status: int,
) -> None:
    bearer = sandbox.issue_access_token(bearer_kind, scopes)
    response = mint(sandbox, bearer, **overrides)
    assert response.status_code == status, response.text
    assert response.json()["trackingId"] == response.headers["TrackingID"]


def test_applications_api_needs_a_valid_bearer(sandbox: Sandbox) -> None:
    personal = sandbox.config_data()["tokenManager"]["personalAccessToken"]
    assert mint(sandbox, personal).status_code == 200
    assert sandbox.expire_access_tokens("personal") == 1
    assert mint(sandbox, personal).status_code == 401


def test_lifetimes_apply_to_tokens_issued_afterwards(sandbox: Sandbox) -> None:
    sandbox.set_lifetimes(service_app=120, refresh=600)
    body = mint(sandbox, sandbox.issue_access_token("personal")).json()
    assert (body["expires_in"], body["refresh_token_expires_in"]) == (120, 600)
    with pytest.raises(ValueError):
        sandbox.set_lifetimes(nonsense=1)


def test_the_token_endpoint_helpers_work_against_the_sandbox(sandbox: Sandbox) -> None:
    """The project's own HTTP layer and token-endpoint functions, end to end."""
    config = sandbox.config_data()
    app, manager = config["serviceApp"], config["tokenManager"]
    http = HttpClient(sandbox.base_url, retry=RetryPolicy(max_retries=0))
    try:
        minted = endpoints.mint_service_app_token(
            http,
            app_id=app["appId"],
            client_id=app["clientId"],
            client_secret=app["clientSecret"],
            target_org_id=app["targetOrgId"],
            bearer=manager["personalAccessToken"],
        )
        assert minted.refresh_token
        refreshed = endpoints.refresh_grant(
            http,
            client_id=manager["oauthClientId"],
            client_secret=manager["oauthClientSecret"],
            refresh_token=manager["oauthRefreshToken"],
        )
        assert refreshed.refresh_token != manager["oauthRefreshToken"]
        with pytest.raises(ApiError) as failure:
            endpoints.refresh_grant(
                http,
                client_id=manager["oauthClientId"],
                client_secret=manager["oauthClientSecret"],
                refresh_token=manager["oauthRefreshToken"],
            )
        assert failure.value.status == 400
        assert failure.value.tracking_id and failure.value.tracking_id.startswith("SANDBOX_")
    finally:
        http.close()


def test_admin_controls_over_http(sandbox: Sandbox) -> None:
    admin = sandbox.origin + "/_sandbox"
    control = admin_session(sandbox)
    personal = sandbox.config_data()["tokenManager"]["personalAccessToken"]
    assert mint(sandbox, personal).status_code == 200
    expired = control.post(admin + "/expire", json={"kind": "serviceApp"}, timeout=10)
    assert expired.json() == {"expired": 1}
    revoked = control.post(admin + "/revoke", json={"kind": "personal"}, timeout=10)
    assert revoked.json() == {"revoked": 1}
    assert mint(sandbox, personal).status_code == 401
    lifetimes = control.post(admin + "/lifetimes", json={"serviceApp": 30}, timeout=10)
    assert lifetimes.json()["service_app"] == 30
    assert control.post(admin + "/lifetimes", json={"x": 1}, timeout=10).status_code == 400
    assert control.post(admin + "/expire", json={"kind": "robot"}, timeout=10).status_code == 400
    stats = control.get(admin + "/stats", timeout=10).json()
    assert stats["requests"]["POST /applications/{appId}/token"] == 2
    assert stats["tokens"]["service_app"] == {"issued": 1, "valid": 0}
    config = control.get(admin + "/config", timeout=10).json()
    assert config["serviceApp"]["appId"] == sandbox.state.identity.app_id
    assert control.get(admin + "/nothing", timeout=10).status_code == 404
