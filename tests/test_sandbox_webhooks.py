"""The Webhooks API and signed ``serviceApp`` events, received by a real loopback server."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer

from byods_manager.sandbox import Sandbox

SECRET = "webhook-secret-123"


def call(sandbox: Sandbox, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method,
        sandbox.base_url + path,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kwargs,
    )


def create(sandbox: Sandbox, token: str, target: str, event: str, **extra: Any) -> dict[str, Any]:
    body = {
        "name": f"service app {event}",
        "targetUrl": target,
        "resource": "serviceApp",
        "event": event,
        "secret": SECRET,
        **extra,
    }
    response = call(sandbox, "POST", "/webhooks", token, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def personal(sandbox: Sandbox) -> str:
    return sandbox.issue_access_token("personal")


def received(httpserver: HTTPServer) -> list[tuple[dict[str, Any], bytes, str]]:
    return [
        (json.loads(request.get_data()), request.get_data(), request.headers["X-Spark-Signature"])
        for request, _ in httpserver.log
    ]


def test_create_list_get_delete(sandbox: Sandbox, personal: str) -> None:
    created = create(sandbox, personal, "http://127.0.0.1:9/hook", "authorized")
    ident = sandbox.state.identity
    assert created["resource"] == "serviceApp" and created["status"] == "active"
    assert created["orgId"] == ident.developer_org_id
    assert created["ownedBy"] == "creator"
    listed = call(sandbox, "GET", "/webhooks", personal).json()["items"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert call(sandbox, "GET", f"/webhooks/{created['id']}", personal).json() == created
    assert call(sandbox, "DELETE", f"/webhooks/{created['id']}", personal).status_code == 204
    assert call(sandbox, "DELETE", f"/webhooks/{created['id']}", personal).status_code == 404
    assert call(sandbox, "GET", "/webhooks", personal).json() == {"items": []}


def test_integration_tokens_may_manage_webhooks_but_service_app_tokens_may_not(
    sandbox: Sandbox,
) -> None:
    integration = sandbox.issue_access_token("integration")
    create(sandbox, integration, "http://127.0.0.1:9/hook", "deauthorized")
    service_app = sandbox.issue_access_token("service_app")
    for method, path in (("GET", "/webhooks"), ("POST", "/webhooks")):
        response = call(sandbox, method, path, service_app, json={})
        assert response.status_code == 403
    assert call(sandbox, "GET", "/webhooks", "not-a-token").status_code == 401


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"event": "exploded"}, 400),
        ({"targetUrl": "not a url"}, 400),
        ({"name": None}, 400),
        ({"colour": "red"}, 400),
    ],
)
def test_bad_webhooks_are_refused(
    sandbox: Sandbox, personal: str, changes: dict[str, Any], status: int
) -> None:
    body = {
        "name": "n",
        "targetUrl": "http://127.0.0.1:9/hook",
        "resource": "serviceApp",
        "event": "authorized",
        **changes,
    }
    body = {k: v for k, v in body.items() if v is not None}
    assert call(sandbox, "POST", "/webhooks", personal, json=body).status_code == status


def test_authorize_and_deauthorize_deliver_signed_events(
    sandbox: Sandbox, personal: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    target = httpserver.url_for("/hook")
    authorized_hook = create(sandbox, personal, target, "authorized")
    deauthorized_hook = create(sandbox, personal, target, "deauthorized")

    org = sandbox.authorize_org()
    sandbox.deauthorize_org(org)
    outcomes = sandbox.wait_for_webhooks()
    assert [outcome["delivered"] for outcome in outcomes] == [True, True]

    events = received(httpserver)
    assert [body["event"] for body, _, _ in events] == ["authorized", "deauthorized"]
    ident = sandbox.state.identity
    for (body, raw, signature), hook in zip(
        events, (authorized_hook, deauthorized_hook), strict=True
    ):
        expected = hmac.new(SECRET.encode(), raw, hashlib.sha1).hexdigest()
        assert hmac.compare_digest(signature, expected)
        assert body["id"] == hook["id"]
        assert body["resource"] == "serviceApp"
        assert body["orgId"] == ident.developer_org_id
        assert body["data"]["authorizerOrgId"] == org
        assert body["data"]["id"] == ident.app_id
        for name in ("name", "targetUrl", "createdBy", "appId", "ownedBy", "status", "created"):
            assert body[name] == hook[name]
        assert body["actorId"]


def test_only_matching_webhooks_hear_an_event(
    sandbox: Sandbox, personal: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    target = httpserver.url_for("/hook")
    create(sandbox, personal, target, "deauthorized")
    create(sandbox, personal, target, "authorized", filter="id=someone-elses-app")
    everything = create(sandbox, personal, target, "all")
    sandbox.authorize_org()
    sandbox.wait_for_webhooks()
    events = received(httpserver)
    assert [body["id"] for body, _, _ in events] == [everything["id"]]


def test_authorize_control_over_http_delivers_too(
    sandbox: Sandbox, personal: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    create(sandbox, personal, httpserver.url_for("/hook"), "authorized")
    answer = requests.post(
        sandbox.origin + "/_sandbox/orgs",
        headers={"X-Sandbox-Token": sandbox.admin_token},
        timeout=10,
    ).json()
    sandbox.wait_for_webhooks()
    [(body, _, _)] = received(httpserver)
    assert body["data"]["authorizerOrgId"] == answer["orgId"]


def test_non_loopback_targets_are_accepted_but_never_called(
    sandbox: Sandbox, personal: str
) -> None:
    create(sandbox, personal, "https://hooks.example.com/x", "authorized")
    sandbox.authorize_org()
    [outcome] = sandbox.wait_for_webhooks()
    assert outcome["delivered"] is False and "loopback" in outcome["error"]
