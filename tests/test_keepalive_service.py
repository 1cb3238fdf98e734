"""`byods keepalive` as a service: a real process, its /metrics and /healthz, SIGTERM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from byods_manager.sandbox import Sandbox
from tests.keepalive_helpers import (
    KeepaliveProcess,
    data_sources_by_id,
    keepalive_env,
    register_data_sources,
    sandbox_client,
    wait_for,
)

METRIC_NAMES = {
    "byods_data_source_expiry_timestamp_seconds",
    "byods_extend_total",
    "byods_token_expiry_timestamp_seconds",
    "byods_token_refresh_total",
    "byods_last_success_timestamp_seconds",
    "byods_http_requests_total",
}


@pytest.fixture
def env(sandbox: Sandbox, sandbox_config: Path, tmp_path: Path) -> dict[str, str]:
    return keepalive_env(sandbox, sandbox_config, tmp_path)


def test_idle_service_serves_metrics_and_health_and_lists_once_per_cycle(
    sandbox: Sandbox, env: dict[str, str]
) -> None:
    ids = register_data_sources(sandbox, 2, lifetime_minutes=60)
    expiries = {k: v.expires_at for k, v in data_sources_by_id(sandbox).items()}
    sandbox.reset()
    service = KeepaliveProcess(env, "--interval", "1s")
    try:
        wait_for(lambda: service.count("cycle") >= 3, "three cycles")
        health = service.get("/healthz")
        samples = service.metrics()
        lists = sandbox.stats_snapshot()["requests"]["GET /dataSources"]
        cycles = service.count("cycle")
    finally:
        code = service.stop()

    assert code == 0
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert set(samples) >= METRIC_NAMES
    extends = {labels["outcome"]: value for labels, value in samples["byods_extend_total"]}
    assert extends == {"success": 0, "failure": 0, "skipped": 0}
    published = {
        labels["data_source"]: value
        for labels, value in samples["byods_data_source_expiry_timestamp_seconds"]
    }
    assert published == {ds_id: expiries[ds_id].timestamp() for ds_id in ids}  # type: ignore[union-attr]
    kinds = {labels["kind"] for labels, _ in samples["byods_token_expiry_timestamp_seconds"]}
    assert {"service_app_access", "service_app_refresh", "integration_refresh"} <= kinds
    endpoints = {
        (labels["method"], labels["endpoint"], labels["status"])
        for labels, _ in samples["byods_http_requests_total"]
    }
    assert ("GET", "/dataSources/", "200") in endpoints
    assert all(ds_id not in endpoint for _, endpoint, _ in endpoints for ds_id in ids)
    assert samples["byods_last_success_timestamp_seconds"][0][1] > 0
    # An idle cycle costs one list per org (a cycle may have been under way at the count).
    assert cycles <= lists <= cycles + 1
    assert "PUT /dataSources/{id}" not in sandbox.stats_snapshot()["requests"]
    assert service.find("stopped exit_code=0")


def test_failures_alert_once_then_resolve_once(
    sandbox: Sandbox, env: dict[str, str], httpserver: HTTPServer
) -> None:
    (ds_id,) = register_data_sources(sandbox, 1, lifetime_minutes=1)
    sandbox.reset()
    sandbox.add_fault(400, count=2, path=f"/dataSources/{ds_id}", method="PUT")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")

    def alerts() -> list[dict[str, object]]:
        return [json.loads(request.data) for request, _ in httpserver.log]

    service = KeepaliveProcess(
        env,
        "--interval",
        "1s",
        "--renew-before",
        "1m",
        "--alert-webhook",
        httpserver.url_for("/hook"),
    )
    try:
        wait_for(
            lambda: any(
                a["severity"] == "resolved" and a["event"] == "extend_failed" for a in alerts()
            ),
            "the resolution",
        )
        samples = service.metrics()
    finally:
        code = service.stop()

    assert code == 0
    assert service.count("extend_failed") == 2  # two failed attempts, logged each time
    extend_alerts = [a for a in alerts() if a["event"] == "extend_failed"]
    assert [a["severity"] for a in extend_alerts] == ["warning", "resolved"]
    assert {a["dataSourceId"] for a in extend_alerts} == {ds_id}
    outcomes = {labels["outcome"]: value for labels, value in samples["byods_extend_total"]}
    assert outcomes["failure"] == 2
    assert outcomes["success"] >= 1


def test_health_is_503_with_a_reason_while_the_last_cycle_failed(
    sandbox: Sandbox, env: dict[str, str]
) -> None:
    register_data_sources(sandbox, 1, lifetime_minutes=60)
    sandbox.add_fault(400, count=1000, path="/dataSources/", method="GET")
    service = KeepaliveProcess(env, "--interval", "1s")
    try:
        wait_for(lambda: service.count("cycle") >= 1, "a cycle")
        health = service.get("/healthz")
        missing = service.get("/nothing-here")
    finally:
        code = service.stop()

    assert code == 0
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "failing"
    assert body["reason"] == "last cycle had failures"
    assert any("list" in problem for problem in body["problems"])
    assert missing.status_code == 404


def test_deleting_a_failing_data_source_resolves_its_alert(
    sandbox: Sandbox, env: dict[str, str], httpserver: HTTPServer
) -> None:
    (ds_id,) = register_data_sources(sandbox, 1, lifetime_minutes=1)
    sandbox.add_fault(400, count=1000, path=f"/dataSources/{ds_id}", method="PUT")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")

    def severities() -> list[object]:
        sent = [json.loads(request.data) for request, _ in httpserver.log]
        return [a["severity"] for a in sent if a["event"] == "extend_failed"]

    service = KeepaliveProcess(
        env,
        "--interval",
        "1s",
        "--renew-before",
        "1m",
        "--alert-webhook",
        httpserver.url_for("/hook"),
    )
    try:
        wait_for(lambda: severities() == ["warning"], "the extend_failed alert")
        client = sandbox_client(sandbox)
        client.delete(ds_id)
        client.close()
        wait_for(lambda: severities() == ["warning", "resolved"], "the resolution")
        samples = service.metrics()
    finally:
        code = service.stop()

    assert code == 0
    assert samples["byods_data_source_expiry_timestamp_seconds"] == []


def test_sigterm_mid_cycle_finishes_the_request_in_flight_and_starts_no_more(
    sandbox: Sandbox, env: dict[str, str]
) -> None:
    ids = register_data_sources(sandbox, 5, lifetime_minutes=1)
    before = data_sources_by_id(sandbox)
    sandbox.set_latency(300)
    service = KeepaliveProcess(env, "--renew-before", "1m")
    try:
        wait_for(lambda: service.find("extended"), "the first extension")
    finally:
        code = service.stop()

    assert code == 0
    logged = service.count("extended")
    changed = [
        ds_id for ds_id in ids if data_sources_by_id(sandbox)[ds_id].nonce != before[ds_id].nonce
    ]
    # Every extension Webex applied was completed and reported; the rest were not started.
    assert 1 <= logged < len(ids)
    assert len(changed) == logged
    assert service.find("stopping signal=SIGTERM")
