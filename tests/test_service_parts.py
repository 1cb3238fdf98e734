"""Metrics labels, alert deduplication and the listener's routes, over real loopback HTTP."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer

from byods_manager.errors import InputError
from byods_manager.service import alerts
from byods_manager.service.alerts import Alert, Alerter, AlertSender
from byods_manager.service.listener import Listener, Response, parse_listen
from byods_manager.service.logs import EventLog
from byods_manager.service.metrics import KeepaliveMetrics, endpoint_template

SPARK_ID = "Y2lzY29zcGFyazovL3VzL0RBVEFfU09VUkNFLzEyMzQ1Njc4"
UUID = "78efc775-dccb-45ca-9acf-989a4a59f788"


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/dataSources/", "/dataSources/"),
        (f"/dataSources/{SPARK_ID}", "/dataSources/{id}"),
        (f"/dataSources/schemas/{UUID}", "/dataSources/schemas/{id}"),
        (f"/applications/{SPARK_ID}/token", "/applications/{id}/token"),
        ("/access_token", "/access_token"),
        ("http://127.0.0.1:9/v1/dataSources/?cursor=abc123", "/dataSources/"),
    ],
)
def test_endpoint_labels_are_templates(path: str, template: str) -> None:
    assert endpoint_template(path) == template


def test_deleted_data_sources_leave_the_metrics() -> None:
    metrics = KeepaliveMetrics()
    metrics.set_data_source_expiries("org", {"a": 1.0, "b": 2.0})
    metrics.set_data_source_expiries("org", {"b": 3.0})
    text = metrics.exposition().decode()
    (family,) = [
        f
        for f in text_string_to_metric_families(text)
        if f.name == "byods_data_source_expiry_timestamp_seconds"
    ]
    assert [(s.labels["data_source"], s.value) for s in family.samples] == [("b", 3.0)]


def _alerter(urls: list[str]) -> tuple[Alerter, io.StringIO]:
    stream = io.StringIO()
    log = EventLog("json", stream)
    return Alerter(AlertSender(urls, None, log), log), stream


def test_one_alert_per_problem_until_resolved_then_one_resolution(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    alerter, _ = _alerter([httpserver.url_for("/hook")])
    problem = Alert(alerts.EXTEND_FAILED, alerts.WARNING, "extending ds1 failed", "org", "ds1")

    alerter.fire("org:ds1", problem)
    alerter.fire("org:ds1", problem)
    alerter.fire("org:ds2", Alert(alerts.EXTEND_FAILED, alerts.WARNING, "ds2", "org", "ds2"))
    alerter.resolve(alerts.EXTEND_FAILED, "org:ds1", "ds1 extended")
    alerter.resolve(alerts.EXTEND_FAILED, "org:ds1", "ds1 extended")
    alerter.resolve(alerts.DATA_SOURCE_EXPIRING, "org:ds2", "never fired")

    sent = [json.loads(request.data) for request, _ in httpserver.log]
    assert [(a["dataSourceId"], a["severity"]) for a in sent] == [
        ("ds1", "warning"),
        ("ds2", "warning"),
        ("ds1", "resolved"),
    ]
    assert sent[2]["text"] == "ds1 extended"
    assert [a.data_source_id for a in alerter.active()] == ["ds2"]


def test_an_unreachable_webhook_is_logged_without_its_secret_path(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    dead = "http://127.0.0.1:9/services/T000/SECRETPATH"
    alerter, stream = _alerter([dead, httpserver.url_for("/hook")])

    alerter.fire("s", Alert(alerts.TOKEN_REFRESH_FAILED, alerts.CRITICAL, "every tier failed"))

    assert len(httpserver.log) == 1  # the second webhook still got it
    failures = [
        json.loads(line)
        for line in stream.getvalue().splitlines()
        if '"alert_delivery_failed"' in line
    ]
    assert len(failures) == 1
    assert "SECRETPATH" not in stream.getvalue()


def test_listener_routes_and_unknown_paths() -> None:
    listener = Listener("127.0.0.1", 0)
    listener.route("GET", "/healthz", lambda body, headers: Response.json(200, {"ok": True}))
    listener.route(
        "POST", "/echo", lambda body, headers: Response(200, body, "application/octet-stream")
    )
    listener.start()
    base = f"http://127.0.0.1:{listener.port}"
    try:
        assert requests.get(base + "/healthz", timeout=5).json() == {"ok": True}
        assert requests.post(base + "/echo", data=b"hello", timeout=5).content == b"hello"
        assert requests.get(base + "/echo", timeout=5).status_code == 405
        assert requests.get(base + "/metrics", timeout=5).status_code == 404
    finally:
        listener.stop()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        ("[::1]:9464", ("::1", 9464)),
        (":9464", ("127.0.0.1", 9464)),
        ("", None),
    ],
)
def test_parse_listen(value: str, expected: tuple[str, int] | None) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["9464", "host:", "host:port", "host:70000"])
def test_parse_listen_rejects(value: str) -> None:
    with pytest.raises(InputError):
        parse_listen(value)


def test_http_client_reports_every_response_including_retried_ones(
    httpserver: HTTPServer,
) -> None:
    from byods_manager.http import HttpClient, RetryPolicy

    httpserver.expect_ordered_request("/v1/dataSources/x1").respond_with_json({}, status=503)
    httpserver.expect_ordered_request("/v1/dataSources/x1").respond_with_json({"id": "x1"})
    seen: list[tuple[str, str, int]] = []
    http = HttpClient(
        httpserver.url_for("/v1"),
        None,
        retry=RetryPolicy(backoff_seconds=0.01),
        on_response=lambda method, path, status: seen.append((method, path, status)),
    )

    http.request("GET", "/dataSources/x1", authenticated=False)

    assert seen == [("GET", "/dataSources/x1", 503), ("GET", "/dataSources/x1", 200)]


def test_alerters_sharing_a_state_file_announce_once_and_survive_damage(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    from byods_manager.service.alert_state import FileAlertState

    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    state_file = tmp_path / "state" / "alerts.json"
    state_file.parent.mkdir()
    state_file.write_text("{not json")
    log = EventLog("json", io.StringIO())

    def alerter() -> Alerter:
        return Alerter(
            AlertSender([httpserver.url_for("/hook")], None, log), log, FileAlertState(state_file)
        )

    problem = Alert(alerts.EXTEND_FAILED, alerts.WARNING, "ds1 failed", "org", "ds1")
    first, second = alerter(), alerter()
    first.fire("org:ds1", problem)
    second.fire("org:ds1", problem)
    assert [a.data_source_id for a in second.active()] == ["ds1"]
    second.resolve(alerts.EXTEND_FAILED, "org:ds1", "ds1 extended")
    first.resolve(alerts.EXTEND_FAILED, "org:ds1", "ds1 extended")

    sent = [json.loads(request.data)["severity"] for request, _ in httpserver.log]
    assert sent == ["warning", "resolved"]
    assert state_file.stat().st_mode & 0o777 == 0o600
