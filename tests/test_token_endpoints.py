"""The token endpoints send exactly the documented requests and parse expiries at receipt."""

from __future__ import annotations

import time
import urllib.parse

import pytest
from pytest_httpserver import HTTPServer

from byods_manager.errors import ApiError, ByodsError
from byods_manager.http import HttpClient
from byods_manager.tokens.endpoints import (
    TokenResponse,
    authorization_code_grant,
    authorize_url,
    mint_service_app_token,
    refresh_grant,
)

GRANT = {
    "access_token": "new-access-token-value",
    "expires_in": 1209600,
    "refresh_token": "new-refresh-token-value",
    "refresh_token_expires_in": 7776000,
    "token_type": "Bearer",
}


def _client(httpserver: HTTPServer) -> HttpClient:
    return HttpClient(httpserver.url_for("/v1"))


def test_refresh_grant_is_form_encoded_without_authorization(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(
        "/v1/access_token",
        method="POST",
        data=urllib.parse.urlencode(
            {
                "grant_type": "refresh_token",
                "client_id": "cid",
                "client_secret": "csecret",
                "refresh_token": "old-refresh",
            }
        ),
    ).respond_with_json(GRANT)
    before = time.time()
    grant = refresh_grant(
        _client(httpserver), client_id="cid", client_secret="csecret", refresh_token="old-refresh"
    )
    request, _ = httpserver.log[0]
    assert "Authorization" not in request.headers
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert grant.access_token == "new-access-token-value"
    assert grant.refresh_token == "new-refresh-token-value"
    assert before + 1209600 <= grant.expires_at <= time.time() + 1209600
    assert grant.refresh_expires_at is not None
    assert grant.refresh_expires_at - grant.expires_at == pytest.approx(7776000 - 1209600)


def test_authorization_code_grant_sends_code_and_redirect_uri(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/v1/access_token", method="POST").respond_with_json(GRANT)
    authorization_code_grant(
        _client(httpserver),
        client_id="cid",
        client_secret="csecret",
        code="the-code",
        redirect_uri="http://localhost:3000/callback",
    )
    request, _ = httpserver.log[0]
    assert dict(urllib.parse.parse_qsl(request.get_data(as_text=True))) == {
        "grant_type": "authorization_code",
        "client_id": "cid",
        "client_secret": "csecret",
        "code": "the-code",
        "redirect_uri": "http://localhost:3000/callback",
    }


def test_mint_uses_the_token_manager_token_and_json_body(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(
        "/v1/applications/Y2lzY29APP/token",
        method="POST",
        headers={"Authorization": "Bearer personal-token"},
        json={"clientId": "sa-id", "clientSecret": "sa-secret", "targetOrgId": "org-1"},
    ).respond_with_json(GRANT)
    grant = mint_service_app_token(
        _client(httpserver),
        app_id="Y2lzY29APP",
        client_id="sa-id",
        client_secret="sa-secret",
        target_org_id="org-1",
        bearer="personal-token",
    )
    assert grant.access_token == GRANT["access_token"]
    httpserver.check_assertions()


def test_rejected_grant_maps_to_api_error_with_tracking_id(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/v1/access_token", method="POST").respond_with_json(
        {"message": "Invalid refresh token", "trackingId": "ROUTER_123"}, status=400
    )
    with pytest.raises(ApiError) as caught:
        refresh_grant(_client(httpserver), client_id="c", client_secret="s", refresh_token="r")
    assert caught.value.status == 400
    assert caught.value.tracking_id == "ROUTER_123"
    assert "Invalid refresh token" in str(caught.value)


@pytest.mark.parametrize(
    "payload",
    [[], {}, {"access_token": ""}, {"access_token": "a"}, {"access_token": "a", "expires_in": "x"}],
)
def test_malformed_grants_are_reported_without_echoing_values(payload: object) -> None:
    with pytest.raises(ByodsError, match="token endpoint"):
        TokenResponse.from_payload(payload)


def test_token_response_repr_hides_tokens() -> None:
    grant = TokenResponse.from_payload(GRANT, received_at=0)
    assert "new-access-token-value" not in repr(grant)
    assert "new-refresh-token-value" not in repr(grant)


def test_authorize_url_is_derived_from_the_base_url() -> None:
    url = authorize_url(
        "http://127.0.0.1:8080/v1/",
        client_id="cid",
        redirect_uri="http://localhost:3000/callback",
        state="s t",
    )
    parsed = urllib.parse.urlsplit(url)
    assert (parsed.scheme, parsed.netloc, parsed.path) == (
        "http",
        "127.0.0.1:8080",
        "/v1/authorize",
    )
    assert dict(urllib.parse.parse_qsl(parsed.query)) == {
        "client_id": "cid",
        "response_type": "code",
        "redirect_uri": "http://localhost:3000/callback",
        "scope": "spark:applications_token",
        "state": "s t",
    }
