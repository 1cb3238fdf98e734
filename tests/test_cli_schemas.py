"""`byods schemas list/show`."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer

from tests.fixtures_core import API_TOKEN, OTHER_SCHEMA_ID, SCHEMA_ID, schema_payload

RunCli = Callable[..., Result]
pytestmark = pytest.mark.usefixtures("cli_env")


def test_list_table_and_cache(httpserver: HTTPServer, run_cli: RunCli) -> None:
    httpserver.expect_request(
        "/v1/dataSources/schemas", headers={"Authorization": f"Bearer {API_TOKEN}"}
    ).respond_with_json(
        {"items": [schema_payload(), schema_payload(OTHER_SCHEMA_ID, "contactCenter", "HTTPS")]}
    )
    result = run_cli(["schemas", "list"])
    assert result.exit_code == 0, result.output
    assert SCHEMA_ID in result.stdout and "voiceVirtualAgent" in result.stdout
    assert "contactCenter" in result.stdout and "HTTPS" in result.stdout
    assert run_cli(["schemas", "list"]).exit_code == 0
    assert len(httpserver.log) == 1  # the second listing came from the cache
    assert run_cli(["schemas", "list", "--refresh"]).exit_code == 0
    assert len(httpserver.log) == 2


def test_list_json(httpserver: HTTPServer, run_cli: RunCli) -> None:
    httpserver.expect_request("/v1/dataSources/schemas").respond_with_json(
        {"items": [schema_payload()]}
    )
    result = run_cli(["schemas", "list", "--json"])
    assert json.loads(result.stdout) == [schema_payload()]


def test_show(httpserver: HTTPServer, run_cli: RunCli) -> None:
    httpserver.expect_request(f"/v1/dataSources/schemas/{SCHEMA_ID}").respond_with_json(
        schema_payload()
    )
    human = run_cli(["schemas", "show", SCHEMA_ID])
    assert human.exit_code == 0
    assert "serviceType" in human.stdout and "voiceVirtualAgent" in human.stdout
    as_json = run_cli(["schemas", "show", SCHEMA_ID, "--json"])
    assert json.loads(as_json.stdout)["protocol"] == "gRPC"


def test_show_unknown(httpserver: HTTPServer, run_cli: RunCli) -> None:
    httpserver.expect_request(f"/v1/dataSources/schemas/{SCHEMA_ID}").respond_with_json(
        {"message": "not found", "trackingId": "ROUTER_S"}, status=404
    )
    result = run_cli(["schemas", "show", SCHEMA_ID])
    assert result.exit_code == 1
    assert "Schema ID not found" in result.stderr and "ROUTER_S" in result.stderr
