"""Where requests (and the secrets they carry) may go: the base URL, next-page links,
and clear messages when the base URL is wrong."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer

from byods_manager.base_url import check_base_url, same_origin_below
from byods_manager.client import DataSourceClient
from byods_manager.errors import ApiError, InputError
from tests.fixtures_core import data_source_payload

RunCli = Callable[..., Result]


@pytest.mark.parametrize(
    "url",
    ["127.0.0.1:8765/v1", "webexapis.com/v1", "ftp://webexapis.com/v1", "http://example.com/v1"],
)
def test_unsafe_or_schemeless_base_urls_are_refused(url: str) -> None:
    with pytest.raises(InputError, match="https://"):
        check_base_url(url)


@pytest.mark.parametrize(
    "url", ["https://webexapis.com/v1/", "http://127.0.0.1:8765/v1", "http://localhost:1/v1"]
)
def test_https_anywhere_and_http_to_loopback_are_accepted(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


def test_cli_refuses_a_base_url_without_scheme_with_exit_2(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", "static-token-value-123456")
    result = run_cli(["--base-url", "127.0.0.1:8765/v1", "list"])
    assert result.exit_code == 2
    assert "must start with https://" in result.stderr


def test_cli_refuses_cleartext_http_to_another_host(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", "static-token-value-123456")
    monkeypatch.setenv("WEBEX_API_BASE_URL", "http://api.example.invalid/v1")
    result = run_cli(["list"])
    assert result.exit_code == 2
    assert "clear text" in result.stderr


def test_cli_warns_once_about_a_host_that_is_not_webex(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", "static-token-value-123456")
    result = run_cli(["--base-url", "https://api.example.invalid/v1", "--timeout", "1s", "list"])
    assert result.stderr.count("is not a Webex host") == 1


def test_connection_refused_names_the_host_and_the_setting(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", "static-token-value-123456")
    result = run_cli(["--base-url", f"http://127.0.0.1:{port}/v1", "--timeout", "1s", "list"])
    assert result.exit_code == 1
    assert f"127.0.0.1:{port}" in result.stderr
    assert "WEBEX_API_BASE_URL" in result.stderr


def test_every_tier_404_says_the_base_url_looks_wrong(
    httpserver: HTTPServer,
    tokens_config: Callable[..., Path],
    tokens_store: Path,
    run_cli: RunCli,
) -> None:
    """Without /v1 every token endpoint is 404: a config problem (exit 2), not an auth one."""
    httpserver.expect_request(re.compile(".*")).respond_with_json(
        {"message": "Not Found"}, status=404
    )
    config = tokens_config(seed_refresh="sa-refresh-seed-SECRET-0004")
    base = httpserver.url_for("/").rstrip("/")
    result = run_cli(["--config", str(config), "--base-url", base, "token", "refresh"])
    assert result.exit_code == 2, result.output
    assert "looks wrong" in result.stderr
    assert "/v1" in result.stderr


def test_next_link_to_another_host_is_not_followed(
    httpserver: HTTPServer, api_client: DataSourceClient
) -> None:
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        other.expect_request("/v1/dataSources/").respond_with_json({"items": []})
        evil = other.url_for("/v1/dataSources/") + "?cursor=2"
        httpserver.expect_request("/v1/dataSources/").respond_with_json(
            {"items": [data_source_payload()]}, headers={"Link": f'<{evil}>; rel="next"'}
        )
        with pytest.raises(ApiError, match="outside the API base URL"):
            api_client.list()
        assert other.log == [], "the bearer token went to another host"
    finally:
        other.clear()
        other.stop()


def test_relative_next_link_below_the_base_is_followed(
    httpserver: HTTPServer, api_client: DataSourceClient
) -> None:
    first, second = data_source_payload(), data_source_payload()
    httpserver.expect_ordered_request("/v1/dataSources/", query_string="").respond_with_json(
        {"items": [first]}, headers={"Link": '</v1/dataSources/?cursor=2>; rel="next"'}
    )
    httpserver.expect_ordered_request(
        "/v1/dataSources/", query_string="cursor=2"
    ).respond_with_json({"items": [second]})
    assert [ds.id for ds in api_client.list()] == [first["id"], second["id"]]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://webexapis.com/v1/dataSources/?c=2", True),
        ("https://webexapis.com:443/v1/x", True),
        ("http://webexapis.com/v1/x", False),
        ("https://webexapis.com:8443/v1/x", False),
        ("https://evil.example/v1/x", False),
        ("https://webexapis.com/v2/x", False),
        ("https://webexapis.com/v1evil/x", False),
    ],
)
def test_same_origin_below(url: str, expected: bool) -> None:
    assert same_origin_below("https://webexapis.com/v1", url) is expected
