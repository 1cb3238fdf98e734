"""Proxies, CA bundle and netrc from the environment, as requests honours them, although
the HTTP layer reads them once per session (see byods_manager/http_environment.py).

A pytest-httpserver stands in for a plain HTTP proxy: a proxied request for an http:// URL
arrives there in absolute form with the target's Host header."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from byods_manager.auth import StaticTokenProvider
from byods_manager.http import HttpClient

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD")
UNREACHABLE_TARGET = "http://dap-target.invalid:8080/v1"


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def proxy_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def proxy(proxy_server: HTTPServer) -> Iterator[HTTPServer]:
    yield proxy_server
    proxy_server.clear()


def _client(base_url: str) -> HttpClient:
    return HttpClient(base_url, StaticTokenProvider("proxy-test-token-1"))


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_requests_go_through_the_proxy_the_environment_names(
    proxy: HTTPServer, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, proxy.url_for("/").rstrip("/"))
    proxy.expect_request("/v1/things").respond_with_json({"via": "proxy"})
    http = _client(UNREACHABLE_TARGET)  # only the proxy can reach this host
    assert http.request("GET", "/things").data == {"via": "proxy"}
    assert http.request("PUT", "/things", json={"a": 1}).data == {"via": "proxy"}
    hosts = [request.headers["Host"] for request, _ in proxy.log]
    assert hosts == ["dap-target.invalid:8080"] * 2


@pytest.mark.parametrize(
    ("variable", "value"),
    [("NO_PROXY", "localhost"), ("no_proxy", "127.0.0.1,localhost"), ("NO_PROXY", "*")],
)
def test_no_proxy_sends_directly(
    httpserver: HTTPServer,
    proxy: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url_for("/").rstrip("/"))
    monkeypatch.setenv(variable, value)
    httpserver.expect_request("/v1/things").respond_with_json({"via": "direct"})
    http = _client(httpserver.url_for("/v1"))
    assert http.request("GET", "/things").data == {"via": "direct"}
    assert http.request("GET", "/things").data == {"via": "direct"}
    assert len(httpserver.log) == 2 and proxy.log == []


def test_a_proxy_for_another_scheme_is_not_used(
    httpserver: HTTPServer, proxy: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url_for("/").rstrip("/"))
    httpserver.expect_request("/v1/things").respond_with_json({"via": "direct"})
    assert _client(httpserver.url_for("/v1")).request("GET", "/things").data == {"via": "direct"}
    assert proxy.log == []


def test_each_host_gets_its_own_proxy_decision(
    httpserver: HTTPServer, proxy: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One session, two hosts: NO_PROXY covers one of them only."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url_for("/").rstrip("/"))
    monkeypatch.setenv("NO_PROXY", "localhost")
    httpserver.expect_request("/v1/things").respond_with_json({"via": "direct"})
    proxy.expect_request("/other").respond_with_json({"via": "proxy"})
    http = _client(httpserver.url_for("/v1"))
    assert http.request("GET", "/things").data == {"via": "direct"}
    assert http.request("GET", "http://dap-target.invalid:8080/other").data == {"via": "proxy"}
    assert len(httpserver.log) == 1 and len(proxy.log) == 1


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_ca_bundle_from_the_environment_is_used_for_https(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str
) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    missing = tmp_path / "no-such-bundle.pem"
    monkeypatch.setenv(variable, str(missing))
    with pytest.raises(OSError, match=r"no-such-bundle\.pem"):
        _client("https://127.0.0.1:9/v1").request("GET", "/things")


def test_netrc_credentials_are_sent_as_requests_would(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine localhost login netrc-user password netrc-pass-1\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    httpserver.expect_request("/v1/token").respond_with_json({})
    _client(httpserver.url_for("/v1")).request("POST", "/token", authenticated=False)
    request, _ = httpserver.log[0]
    expected = base64.b64encode(b"netrc-user:netrc-pass-1").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
