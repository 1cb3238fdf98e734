"""Where the sandbox used to be more lenient than Webex (issue 8), one test per defect.

Each of these failed against the first-round sandbox.
"""

from __future__ import annotations

import http.client
import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from byods_manager.sandbox import Sandbox
from tests.fixtures_sandbox import SandboxApi, registration

FULL_FIELDS = ("schemaId", "url", "audience", "subject", "nonce", "tokenLifetimeMinutes")


class Api(SandboxApi):
    """The raw API plus a full PUT built from the current values."""

    def put(self, current: dict[str, Any], **changes: Any) -> requests.Response:
        body = {name: current[name] for name in FULL_FIELDS}
        body["nonce"] = str(uuid.uuid4())
        body.update(changes)
        return self("PUT", f"/dataSources/{current['id']}", json=body)


@pytest.fixture
def api(sandbox: Sandbox, service_app_token: str) -> Api:
    return Api(sandbox, service_app_token)


def descriptions(response: requests.Response) -> str:
    body = response.json()
    return " ".join([body["message"], *(e["description"] for e in body["errors"])])


# 1. thin list items ---------------------------------------------------------------------


def test_list_items_are_thin_like_the_spec_example(api: Api) -> None:
    created = api.register()
    items = api("GET", "/dataSources/").json()["items"]
    assert items == [
        {
            "id": created["id"],
            "applicationId": created["applicationId"],
            "orgId": created["orgId"],
            "createdAt": created["createdAt"],
            "createdBy": created["createdBy"],
            "jwsToken": created["jwsToken"],
        }
    ]
    # The rest is only in GET by id.
    shown = api("GET", f"/dataSources/{created['id']}").json()
    assert shown["audience"] == created["audience"] and shown["status"] == "active"


# 2. PUT replaces ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({}, FULL_FIELDS),
        ({"tokenLifetimeMinutes": 30}, ("schemaId", "url", "audience", "subject", "nonce")),
        ({"nonce": "fresh-one"}, ("schemaId", "url", "audience", "subject")),
    ],
)
def test_a_partial_put_is_a_400_naming_what_is_missing(
    api: Api, body: dict[str, Any], missing: tuple[str, ...]
) -> None:
    created = api.register()
    response = api("PUT", f"/dataSources/{created['id']}", json=body)
    assert response.status_code == 400, response.text
    text = descriptions(response)
    for name in missing:
        assert f"'{name}' is required" in text
    assert api("GET", f"/dataSources/{created['id']}").json() == created


# 3. a nonce is never used twice ---------------------------------------------------------


def test_changing_only_the_lifetime_still_needs_a_new_nonce(api: Api) -> None:
    created = api.register(nonce="first")
    same_nonce = api.put(created, nonce="first", tokenLifetimeMinutes=30)
    assert same_nonce.status_code == 409
    renewed = api.put(created, nonce="second", tokenLifetimeMinutes=30)
    assert renewed.status_code == 200
    assert renewed.json()["jwsToken"] != created["jwsToken"]


def test_resending_the_current_nonce_is_a_409(api: Api) -> None:
    created = api.register()
    first = api.put(created, nonce="current")
    assert first.status_code == 200
    assert api.put(created, nonce="current").status_code == 409


def test_nonces_are_remembered_per_org(sandbox: Sandbox) -> None:
    other_org = sandbox.authorize_org()
    first = Api(sandbox, sandbox.issue_access_token("service_app"))
    second = Api(sandbox, sandbox.issue_access_token("service_app", org_id=other_org))
    first.register(nonce="shared")
    assert first("POST", "/dataSources", json=registration(nonce="shared")).status_code == 409
    assert second("POST", "/dataSources", json=registration(nonce="shared")).status_code == 200


# 4. url -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["not a url", "ftp://dap.example.com/x", "http://dap.example.com/x", "https://", "wss:/x"],
)
def test_url_must_be_https_or_wss_with_a_host(api: Api, url: str) -> None:
    posted = api("POST", "/dataSources", json=registration(url=url))
    assert posted.status_code == 400 and "'url'" in descriptions(posted)
    created = api.register()
    put = api.put(created, url=url)
    assert put.status_code == 400 and "'url'" in descriptions(put)


def test_wss_urls_are_accepted(api: Api) -> None:
    assert api.register(url="wss://dap.example.com:8443/va")["url"].startswith("wss://")


# 5. disabled stays disabled -----------------------------------------------------------


def test_an_already_disabled_source_may_be_resent_disabled_without_a_message(api: Api) -> None:
    created = api.register()
    assert api.put(created, status="disabled").status_code == 400  # active -> disabled
    assert api.put(created, status="disabled", errorMessage="maintenance").status_code == 200
    again = api.put(created, status="disabled")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "disabled"
    assert again.json()["errorMessage"] == "maintenance"


# 6. registered redirect URIs ------------------------------------------------------------


def authorize(sandbox: Sandbox, redirect_uri: str) -> requests.Response:
    params = {
        "client_id": sandbox.state.identity.integration_client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "spark:applications_token",
        "state": "s",
    }
    return requests.get(
        sandbox.base_url + "/authorize", params=params, allow_redirects=False, timeout=10
    )


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/callback",
        "http://evil.example.com:3000/callback",
        "http://localhost:3001/callback",
        "http://127.0.0.1.evil.example.com/callback",
        "javascript:alert(1)",
    ],
)
def test_authorize_refuses_unregistered_redirect_uris(sandbox: Sandbox, redirect_uri: str) -> None:
    response = authorize(sandbox, redirect_uri)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "redirect_uri" in response.json()["message"]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost:3000/callback",
        "http://127.0.0.1:8765/callback",
        "http://[::1]:9000/cb",
    ],
)
def test_authorize_redirects_to_registered_uris(sandbox: Sandbox, redirect_uri: str) -> None:
    response = authorize(sandbox, redirect_uri)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(redirect_uri + "?code=")


# 7. HTTP plumbing ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE"])
def test_options_and_trace_are_405_in_the_webex_shape(sandbox: Sandbox, method: str) -> None:
    response = requests.request(method, sandbox.base_url + "/dataSources", timeout=10)
    assert response.status_code == 405
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["trackingId"] == response.headers["TrackingID"]


def test_head_is_405_with_a_tracking_id_and_no_body(sandbox: Sandbox) -> None:
    response = requests.head(sandbox.base_url + "/dataSources", timeout=10)
    assert response.status_code == 405
    assert response.headers["TrackingID"].startswith("SANDBOX_")
    assert response.content == b""


@pytest.fixture
def raw(sandbox: Sandbox) -> Iterator[http.client.HTTPConnection]:
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    yield connection
    connection.close()


@pytest.mark.parametrize("length", ["abc", "-5", "1 2"])
def test_a_malformed_content_length_is_a_400(
    raw: http.client.HTTPConnection, service_app_token: str, length: str
) -> None:
    raw.putrequest("POST", "/v1/dataSources")
    raw.putheader("Authorization", f"Bearer {service_app_token}")
    raw.putheader("Content-Type", "application/json")
    raw.putheader("Content-Length", length)
    raw.endheaders()
    response = raw.getresponse()
    assert response.status == 400
    body = json.loads(response.read())
    assert "Content-Length" in body["message"]
    assert body["trackingId"] == response.getheader("TrackingID")


def test_a_chunked_body_is_read(api: Api, sandbox: Sandbox) -> None:
    payload = json.dumps(registration()).encode()

    def chunks() -> Iterator[bytes]:
        yield payload[:10]
        yield payload[10:]

    response = api(
        "POST", "/dataSources", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert len(sandbox.data_sources()) == 1


def test_an_unknown_transfer_encoding_is_411(sandbox: Sandbox) -> None:
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as conn:
        conn.sendall(
            b"POST /v1/dataSources HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Transfer-Encoding: gzip\r\nContent-Type: application/json\r\n\r\n"
        )
        answer = conn.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 411")
