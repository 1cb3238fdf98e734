"""`--timeout`: one deadline for the whole command; each request gets only what is left."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from byods_manager.deadline import Deadline, DeadlineExceeded
from byods_manager.http import HttpClient, RetryPolicy

DS_ID = "5b7c2a10-0d3e-4f4a-8c6b-2e9f1a7d3c55"


def slow_unavailable(request: Request) -> Response:
    time.sleep(2.0)
    return Response('{"message": "busy"}', status=503, content_type="application/json")


def test_a_slow_server_is_cut_off_at_the_command_deadline(
    threaded_httpserver: HTTPServer,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threaded_httpserver.expect_request(f"/v1/dataSources/{DS_ID}").respond_with_handler(
        slow_unavailable
    )
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", "static-token-value-123456")
    monkeypatch.setenv("WEBEX_API_BASE_URL", threaded_httpserver.url_for("/v1"))
    result = run_cli(["--timeout", "1s", "show", DS_ID])
    assert result.exit_code == 1
    assert "--timeout 1s" in result.stderr
    assert len(threaded_httpserver.log) <= 1, "retries went on past the deadline"


def test_retries_stop_when_the_wait_would_pass_the_deadline(
    httpserver: HTTPServer, sleeps: list[float]
) -> None:
    httpserver.expect_request("/v1/x").respond_with_data(
        "", status=503, headers={"Retry-After": "30"}
    )
    clock = [0.0]
    deadline = Deadline(10.0, clock=lambda: clock[0])
    http = HttpClient(
        httpserver.url_for("/v1"),
        None,
        retry=RetryPolicy(max_retries=3),
        sleep=sleeps.append,
        deadline=deadline,
    )
    with pytest.raises(DeadlineExceeded, match="HTTP 503"):
        http.request("GET", "/x", authenticated=False)
    assert sleeps == []
    assert len(httpserver.log) == 1


def test_nothing_is_sent_once_the_deadline_has_passed(httpserver: HTTPServer) -> None:
    clock = [0.0]
    deadline = Deadline(5.0, clock=lambda: clock[0])
    http = HttpClient(httpserver.url_for("/v1"), None, deadline=deadline)
    clock[0] = 6.0
    with pytest.raises(DeadlineExceeded, match="nothing more was sent"):
        http.request("GET", "/x", authenticated=False)
    assert httpserver.log == []


def test_request_timeouts_are_capped_by_what_is_left() -> None:
    clock = [0.0]
    deadline = Deadline(20.0, clock=lambda: clock[0])
    clock[0] = 15.0
    assert deadline.cap((10.0, 30.0)) == (5.0, 5.0)
    assert deadline.cap(2.0) == 2.0


def test_invalid_timeout_is_bad_usage(
    run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", "static-token-value-123456")
    monkeypatch.setenv("WEBEX_API_BASE_URL", "http://127.0.0.1:9/v1")
    result = run_cli(["--timeout", "soon", "show", DS_ID])
    assert result.exit_code == 2
    assert "invalid duration" in result.stderr


def test_a_lifted_deadline_never_expires_for_the_clients_sharing_it(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/v1/x").respond_with_json({"ok": 1})
    clock = [0.0]
    deadline = Deadline(5.0, clock=lambda: clock[0])
    http = HttpClient(httpserver.url_for("/v1"), None, deadline=deadline, timeout=2.0)
    deadline.lift()
    clock[0] = 1e9
    assert http.request("GET", "/x", authenticated=False).data == {"ok": 1}
    assert deadline.cap((10.0, 30.0)) == (10.0, 30.0)
