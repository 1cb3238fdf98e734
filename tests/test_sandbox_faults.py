"""Injected latency, 429 + Retry-After and 5xx, seen raw and through the project's HTTP layer."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from byods_manager.auth import StaticTokenProvider
from byods_manager.errors import AmbiguousRequestError, ApiError, TransportError
from byods_manager.http import HttpClient, RetryPolicy
from byods_manager.sandbox import Sandbox
from tests.fixtures_sandbox import admin_session, registration


def get(sandbox: Sandbox, token: str, path: str = "/dataSources") -> requests.Response:
    return requests.get(
        sandbox.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def client(sandbox: Sandbox, token: str, sleeps: list[float], **retry: Any) -> HttpClient:
    return HttpClient(
        sandbox.base_url,
        StaticTokenProvider(token),
        retry=RetryPolicy(**retry),
        sleep=sleeps.append,
    )


def test_a_503_fault_answers_count_times_then_clears(
    sandbox: Sandbox, service_app_token: str
) -> None:
    sandbox.add_fault(503, count=2, path="/dataSources")
    statuses = [get(sandbox, service_app_token).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    body = get(sandbox, service_app_token)
    assert body.status_code == 200
    assert sandbox.stats_snapshot()["requests"]["GET /dataSources"] == 4


def test_a_429_carries_retry_after(sandbox: Sandbox, service_app_token: str) -> None:
    sandbox.add_fault(429, retry_after=1)
    response = get(sandbox, service_app_token)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json()["trackingId"] == response.headers["TrackingID"]


def test_faults_match_path_and_method(sandbox: Sandbox, service_app_token: str) -> None:
    sandbox.add_fault(500, path="/dataSources/schemas", method="GET")
    assert get(sandbox, service_app_token, "/dataSources").status_code == 200
    assert get(sandbox, service_app_token, "/dataSources/schemas").status_code == 500
    assert get(sandbox, service_app_token, "/dataSources/schemas").status_code == 200


def test_the_http_layer_retries_through_injected_503s(
    sandbox: Sandbox, service_app_token: str
) -> None:
    sandbox.add_fault(503, count=2, path="/dataSources", method="GET", retry_after=1)
    sleeps: list[float] = []
    http = client(sandbox, service_app_token, sleeps)
    try:
        assert http.request("GET", "/dataSources").data == {"items": []}
    finally:
        http.close()
    assert sleeps == [1.0, 1.0]
    assert sandbox.stats_snapshot()["requests"]["GET /dataSources"] == 3


def test_the_http_layer_waits_out_a_429(sandbox: Sandbox, service_app_token: str) -> None:
    sandbox.add_fault(429, count=1, retry_after=1)
    sleeps: list[float] = []
    http = client(sandbox, service_app_token, sleeps)
    try:
        assert http.request("GET", "/dataSources/schemas").status == 200
    finally:
        http.close()
    assert sleeps == [1.0]


def test_a_post_that_took_effect_but_failed_is_ambiguous(
    sandbox: Sandbox, service_app_token: str
) -> None:
    sandbox.add_fault(502, path="/dataSources", method="POST", after=True)
    sleeps: list[float] = []
    http = client(sandbox, service_app_token, sleeps)
    try:
        with pytest.raises(AmbiguousRequestError):
            http.request("POST", "/dataSources", json=registration())
    finally:
        http.close()
    assert len(sandbox.data_sources()) == 1
    assert sleeps == []


def test_latency_beyond_the_read_timeout_is_a_transport_error(
    sandbox: Sandbox, service_app_token: str
) -> None:
    sandbox.set_latency(500)
    http = HttpClient(
        sandbox.base_url,
        StaticTokenProvider(service_app_token),
        timeout=(5.0, 0.05),
        retry=RetryPolicy(max_retries=0),
    )
    try:
        with pytest.raises(TransportError):
            http.request("GET", "/dataSources")
    finally:
        http.close()
    sandbox.set_latency(0)
    assert get(sandbox, service_app_token).status_code == 200


def test_a_5xx_that_outlasts_the_retries_becomes_an_api_error_with_tracking_id(
    sandbox: Sandbox, service_app_token: str
) -> None:
    sandbox.add_fault(500, count=10, path="/dataSources")
    http = client(sandbox, service_app_token, [])
    try:
        with pytest.raises(ApiError) as failure:
            http.request("GET", "/dataSources")
    finally:
        http.close()
    assert failure.value.status == 500
    assert failure.value.tracking_id and failure.value.tracking_id.startswith("SANDBOX_")


def test_fault_controls_over_http(sandbox: Sandbox, service_app_token: str) -> None:
    admin = sandbox.origin + "/_sandbox"
    control = admin_session(sandbox)
    spec = {"status": 503, "count": 2, "path": "/dataSources", "retryAfter": 1}
    assert control.post(admin + "/faults", json=spec, timeout=10).json() == {"pending": 2}
    assert get(sandbox, service_app_token).status_code == 503
    assert control.get(admin + "/stats", timeout=10).json()["faultsPending"] == 1
    assert control.delete(admin + "/faults", timeout=10).status_code == 204
    assert get(sandbox, service_app_token).status_code == 200
    for bad in ({"status": 200}, {"status": 503, "count": 0}, {"status": 429, "retryAfter": "x"}):
        assert control.post(admin + "/faults", json=bad, timeout=10).status_code == 400
    assert control.post(admin + "/latency", json={"ms": -1}, timeout=10).status_code == 400
    assert control.post(admin + "/latency", json={"ms": 0}, timeout=10).status_code == 200
    assert control.post(admin + "/reset", timeout=10).status_code == 204
    assert control.get(admin + "/stats", timeout=10).json()["requests"] == {}


def test_reset_with_data_forgets_data_sources_and_nonces(
    sandbox: Sandbox, service_app_token: str
) -> None:
    body = registration()
    headers = {"Authorization": f"Bearer {service_app_token}"}
    url = sandbox.base_url + "/dataSources"
    assert requests.post(url, json=body, headers=headers, timeout=10).status_code == 200
    assert requests.post(url, json=body, headers=headers, timeout=10).status_code == 409
    sandbox.reset(data=True)
    assert sandbox.data_sources() == []
    assert requests.post(url, json=body, headers=headers, timeout=10).status_code == 200
