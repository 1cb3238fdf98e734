"""The HTTP layer against a real local server: retries, Retry-After, errors, timeouts, 401."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from byods_manager.auth import StaticTokenProvider
from byods_manager.errors import (
    AmbiguousRequestError,
    ApiError,
    AuthRequiredError,
    NotFoundError,
    TransportError,
)
from byods_manager.http import HttpClient, RetryPolicy, parse_retry_after
from tests.fixtures_core import API_TOKEN

MakeHttp = Callable[..., HttpClient]


def test_sends_bearer_token_json_and_user_agent(
    httpserver: HTTPServer, make_http: MakeHttp
) -> None:
    httpserver.expect_request(
        "/v1/things",
        method="POST",
        headers={"Authorization": f"Bearer {API_TOKEN}", "Accept": "application/json"},
        json={"a": 1},
    ).respond_with_json({"ok": True}, status=200)
    response = make_http().request("POST", "/things", json={"a": 1})
    assert response.data == {"ok": True}
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"].startswith("byods-manager/")


def test_bearer_override_and_unauthenticated(httpserver: HTTPServer, make_http: MakeHttp) -> None:
    httpserver.expect_request("/v1/token", method="POST").respond_with_json({})
    http = make_http()
    http.request("POST", "/token", form={"grant_type": "x"}, bearer="other-credential")
    http.request("POST", "/token", form={"grant_type": "x"}, authenticated=False)
    first, second = (request for request, _ in httpserver.log)
    assert first.headers["Authorization"] == "Bearer other-credential"
    assert first.form["grant_type"] == "x"
    assert "Authorization" not in second.headers


def test_429_retry_after_is_waited_out_with_a_note(
    httpserver: HTTPServer, make_http: MakeHttp, sleeps: list[float]
) -> None:
    notes: list[str] = []
    httpserver.expect_ordered_request("/v1/x").respond_with_data(
        "", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/v1/x").respond_with_json({"done": 1})
    response = make_http(notify=notes.append).request("GET", "/x")
    assert response.data == {"done": 1}
    assert sleeps == [1.0]
    assert notes == ["rate limited, waiting 1s (GET /x)"]


def test_429_on_post_is_also_waited_out(
    httpserver: HTTPServer, make_http: MakeHttp, sleeps: list[float]
) -> None:
    """A 429 means the request was not processed, so even a POST may be re-sent."""
    httpserver.expect_ordered_request("/v1/x", method="POST").respond_with_data(
        "", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/v1/x", method="POST").respond_with_json({"id": "1"})
    assert make_http().request("POST", "/x", json={}).data == {"id": "1"}
    assert sleeps == [1.0]


def test_retry_after_is_capped(
    httpserver: HTTPServer, make_http: MakeHttp, sleeps: list[float]
) -> None:
    httpserver.expect_ordered_request("/v1/x").respond_with_data(
        "", status=429, headers={"Retry-After": "86400"}
    )
    httpserver.expect_ordered_request("/v1/x").respond_with_json({})
    make_http(retry=RetryPolicy(max_retry_after_seconds=5)).request("GET", "/x")
    assert sleeps == [5.0]


def test_429_gives_up_after_max_retries(
    httpserver: HTTPServer, make_http: MakeHttp, sleeps: list[float]
) -> None:
    httpserver.expect_request("/v1/x").respond_with_json(
        {"message": "slow down", "trackingId": "ROUTER_429"},
        status=429,
        headers={"Retry-After": "1"},
    )
    with pytest.raises(ApiError) as caught:
        make_http(retry=RetryPolicy(max_retries=2)).request("GET", "/x")
    assert caught.value.status == 429
    assert caught.value.tracking_id == "ROUTER_429"
    assert len(httpserver.log) == 3
    assert sleeps == [1.0, 1.0]


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(30.0)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_reads_are_retried_on_server_and_gateway_errors(
    httpserver: HTTPServer, make_http: MakeHttp, sleeps: list[float], status: int
) -> None:
    """A GET changes nothing, so a 500 is retried like a gateway error (bounded, backoff)."""
    httpserver.expect_ordered_request("/v1/x", method="GET").respond_with_data("", status=status)
    httpserver.expect_ordered_request("/v1/x", method="GET").respond_with_json({"ok": 1})
    assert make_http().request("GET", "/x").data == {"ok": 1}
    assert len(httpserver.log) == 2
    assert len(sleeps) == 1


def test_reads_give_up_on_500_after_the_retry_budget(
    httpserver: HTTPServer, make_http: MakeHttp, sleeps: list[float]
) -> None:
    httpserver.expect_request("/v1/x").respond_with_json({"message": "boom"}, status=500)
    with pytest.raises(ApiError, match="HTTP 500: boom"):
        make_http(retry=RetryPolicy(max_retries=2, backoff_seconds=0.01)).request("GET", "/x")
    assert len(httpserver.log) == 3
    assert sleeps[1] > sleeps[0]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("status", [502, 503, 504])
def test_changes_are_left_to_the_caller_after_gateway_errors(
    httpserver: HTTPServer, make_http: MakeHttp, sleeps: list[float], method: str, status: int
) -> None:
    """A PUT's nonce is single-use and a re-sent DELETE answers 404: not re-sent blindly."""
    httpserver.expect_request("/v1/x", method=method).respond_with_data("", status=status)
    with pytest.raises(AmbiguousRequestError):
        make_http().request(method, "/x", json={} if method == "PUT" else None)
    assert len(httpserver.log) == 1
    assert sleeps == []


def test_gateway_errors_give_up_with_the_api_error(
    httpserver: HTTPServer, make_http: MakeHttp
) -> None:
    httpserver.expect_request("/v1/x").respond_with_json({"message": "down"}, status=503)
    with pytest.raises(ApiError, match="HTTP 503: down"):
        make_http(retry=RetryPolicy(max_retries=2, backoff_seconds=0.01)).request("GET", "/x")
    assert len(httpserver.log) == 3


@pytest.mark.parametrize("status", [502, 503, 504])
def test_post_is_never_retried_on_gateway_errors(
    httpserver: HTTPServer, make_http: MakeHttp, status: int
) -> None:
    httpserver.expect_request("/v1/x", method="POST").respond_with_data("", status=status)
    with pytest.raises(AmbiguousRequestError, match="may or may not"):
        make_http().request("POST", "/x", json={"a": 1})
    assert len(httpserver.log) == 1


def test_other_errors_are_not_retried(httpserver: HTTPServer, make_http: MakeHttp) -> None:
    httpserver.expect_request("/v1/x").respond_with_json({"message": "bad"}, status=400)
    with pytest.raises(ApiError):
        make_http().request("GET", "/x")
    assert len(httpserver.log) == 1


def test_error_mapping_keeps_message_details_and_tracking_id(
    httpserver: HTTPServer, make_http: MakeHttp
) -> None:
    httpserver.expect_request("/v1/x").respond_with_json(
        {
            "message": "Invalid request",
            "errors": [{"description": "url must be https"}],
            "trackingId": "ROUTER_ABC",
        },
        status=400,
    )
    with pytest.raises(ApiError) as caught:
        make_http().request("GET", "/x")
    error = caught.value
    assert (error.status, error.message, error.tracking_id) == (
        400,
        "Invalid request",
        "ROUTER_ABC",
    )
    assert str(error) == "HTTP 400: Invalid request (url must be https) [trackingId: ROUTER_ABC]"


def test_tracking_id_from_header_and_404_type(httpserver: HTTPServer, make_http: MakeHttp) -> None:
    httpserver.expect_request("/v1/x").respond_with_data(
        "not json", status=404, headers={"TrackingID": "ROUTER_HDR"}
    )
    with pytest.raises(NotFoundError) as caught:
        make_http().request("GET", "/x")
    assert caught.value.tracking_id == "ROUTER_HDR"
    assert "HTTP 404" in str(caught.value)


def _slow_server_handler(delay: float, calls: list[float]) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        calls.append(time.monotonic())
        time.sleep(delay)
        return Response("{}", content_type="application/json")

    return handler


def test_read_timeout_on_get_is_retried_then_reported(
    threaded_httpserver: HTTPServer, make_http: MakeHttp
) -> None:
    calls: list[float] = []
    threaded_httpserver.expect_request("/v1/slow").respond_with_handler(
        _slow_server_handler(0.4, calls)
    )
    http = make_http(
        threaded_httpserver.url_for("/v1"),
        timeout=(1.0, 0.1),
        retry=RetryPolicy(max_retries=1, backoff_seconds=0.01),
    )
    with pytest.raises(TransportError, match="timed out") as caught:
        http.request("GET", "/slow")
    assert not isinstance(caught.value, AmbiguousRequestError)
    assert len(calls) == 2
    time.sleep(0.4)  # let the last slow handler return before the server stops


def test_read_timeout_on_post_is_ambiguous_and_not_resent(
    threaded_httpserver: HTTPServer, make_http: MakeHttp
) -> None:
    calls: list[float] = []
    done = threading.Event()

    def handler(request: Request) -> Response:
        calls.append(time.monotonic())
        time.sleep(0.4)
        done.set()
        return Response("{}", content_type="application/json")

    threaded_httpserver.expect_request("/v1/slow", method="POST").respond_with_handler(handler)
    http = make_http(threaded_httpserver.url_for("/v1"), timeout=(1.0, 0.1))
    with pytest.raises(AmbiguousRequestError, match="may or may not"):
        http.request("POST", "/slow", json={})
    assert done.wait(5)
    assert len(calls) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connection_refused_is_retried_then_a_transport_error(
    make_http: MakeHttp, sleeps: list[float], method: str
) -> None:
    """Nothing reached a server, so even a POST may be retried; the error is not ambiguous."""
    port = _closed_port()
    http = make_http(f"http://127.0.0.1:{port}/v1")
    with pytest.raises(TransportError, match="could not connect") as caught:
        http.request(method, "/x", json={})
    assert not isinstance(caught.value, AmbiguousRequestError)
    assert f"http://127.0.0.1:{port}/v1/x" in str(caught.value), "names where it tried"
    assert len(sleeps) == 3


def test_401_with_a_static_token_needs_a_person(
    httpserver: HTTPServer, api_base: str, sleeps: list[float]
) -> None:
    httpserver.expect_request("/v1/x").respond_with_json({"message": "unauthorized"}, status=401)
    http = HttpClient(api_base, StaticTokenProvider(API_TOKEN), sleep=sleeps.append)
    with pytest.raises(AuthRequiredError, match="WEBEX_SERVICE_APP_ACCESS_TOKEN") as caught:
        http.request("GET", "/x")
    assert caught.value.exit_code == 3
    assert API_TOKEN not in str(caught.value)
    assert len(httpserver.log) == 1


class RotatingProvider:
    """A provider that can hand out one more token after a rejection."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.rejected: list[str] = []

    def get_token(self) -> str:
        return self.tokens[0]

    def invalidate(self, token: str) -> bool:
        self.rejected.append(token)
        if len(self.tokens) > 1:
            self.tokens.pop(0)
            return True
        return False


def test_401_refreshes_once_and_retries(httpserver: HTTPServer, api_base: str) -> None:
    httpserver.expect_request("/v1/x", headers={"Authorization": "Bearer old"}).respond_with_json(
        {}, status=401
    )
    httpserver.expect_request("/v1/x", headers={"Authorization": "Bearer new"}).respond_with_json(
        {"ok": True}
    )
    provider = RotatingProvider(["old", "new"])
    assert HttpClient(api_base, provider).request("GET", "/x").data == {"ok": True}
    assert provider.rejected == ["old"]


def test_a_second_401_stops(httpserver: HTTPServer, api_base: str) -> None:
    httpserver.expect_request("/v1/x").respond_with_json({}, status=401)
    provider = RotatingProvider(["old", "new", "newer"])
    with pytest.raises(AuthRequiredError, match="twice"):
        HttpClient(api_base, provider).request("GET", "/x")
    assert len(httpserver.log) == 2


def test_no_provider_is_an_auth_error_before_sending(httpserver: HTTPServer, api_base: str) -> None:
    with pytest.raises(AuthRequiredError):
        HttpClient(api_base).request("GET", "/x")
    assert httpserver.log == []
