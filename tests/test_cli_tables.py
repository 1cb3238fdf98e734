"""Tables fit the terminal: $COLUMNS, columns by priority, ellipsis, --wide, --columns."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer

from byods_manager.cli.tables import Column, render_table
from tests.fixtures_core import OTHER_SCHEMA_ID, SCHEMA_ID, data_source_payload, schema_payload

RunCli = Callable[..., Result]
DS_ID = "f29bb291-5db0-411b-834a-e64f8dee0658"
LONG_URL = "https://dap.example.com/" + "very-long-path/" * 8 + "ingest"


@pytest.fixture
def listing(httpserver: HTTPServer, cli_env: None) -> None:
    items = [data_source_payload(id=DS_ID, thin=True, url=LONG_URL, expires_in=3 * 3600)]
    httpserver.expect_request("/v1/dataSources/").respond_with_json({"items": items})
    httpserver.expect_request("/v1/dataSources/schemas").respond_with_json(
        {"items": [schema_payload()]}
    )


def _widths(output: str) -> list[int]:
    return [len(line) for line in output.splitlines()]


@pytest.mark.usefixtures("listing")
@pytest.mark.parametrize("columns", [80, 60, 120])
def test_list_fits_columns(columns: int, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    result = run_cli(["list"])
    assert result.exit_code == 0, result.output
    assert max(_widths(result.stdout)) <= columns
    header = result.stdout.splitlines()[0].split()
    assert header[:4] == ["ID", "STATUS", "EXPIRES", "IN"]  # the first columns by priority
    assert DS_ID in result.stdout  # the id is never shortened
    assert LONG_URL not in result.stdout


@pytest.mark.usefixtures("listing")
def test_long_cells_get_an_ellipsis(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    result = run_cli(["list", "--columns", "id,url"])
    assert result.exit_code == 0, result.output
    row = result.stdout.splitlines()[2]
    assert row.startswith(DS_ID)
    assert row.endswith("…")
    assert len(row) == 120


@pytest.mark.usefixtures("listing")
def test_wide_shows_everything(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli(["list", "--wide"])
    assert result.exit_code == 0, result.output
    assert LONG_URL in result.stdout
    assert "SUBJECT" in result.stdout and "callAudioData" in result.stdout


@pytest.mark.usefixtures("listing")
def test_columns_picks_and_orders(run_cli: RunCli) -> None:
    result = run_cli(["list", "--columns", "url,id"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split() == ["URL", "ID"]
    assert result.stdout.splitlines()[2].split() == [LONG_URL, DS_ID]


@pytest.mark.usefixtures("listing")
def test_unknown_column_is_bad_usage(run_cli: RunCli) -> None:
    result = run_cli(["list", "--columns", "id,colour"])
    assert result.exit_code == 2
    assert "unknown column colour; use: id,status,expires,audience,schema,url,subject" in (
        result.stderr
    )


def test_schemas_list_shows_the_name_not_the_url(
    httpserver: HTTPServer, cli_env: None, run_cli: RunCli
) -> None:
    named = schema_payload(OTHER_SCHEMA_ID, "contactCenter", "HTTPS")
    named["url"] = "https://github.com/webex/dataSourceSchemas/tree/main/Services/AudioForking/x"
    schemas = [schema_payload(), named]
    httpserver.expect_request("/v1/dataSources/schemas").respond_with_json({"items": schemas})
    result = run_cli(["schemas", "list"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[:2] == ["ID", "NAME"]
    assert SCHEMA_ID in result.stdout
    assert result.stdout.splitlines()[3].split()[:2] == [OTHER_SCHEMA_ID, "AudioForking"]
    assert "/path/to/definition" not in result.stdout and "github" not in result.stdout
    wide = run_cli(["schemas", "list", "--wide"])
    assert "/path/to/definition" in wide.stdout


def test_fit_drops_low_priority_columns_before_shortening_below_the_minimum() -> None:
    columns = [Column("id", "ID", shrinkable=False), Column("a", "A"), Column("b", "B")]
    rows = [{"id": "x" * 20, "a": "a" * 30, "b": "b" * 30}]
    text = render_table(columns, rows, width=40)
    assert text.splitlines()[0].split() == ["ID", "A"]
    assert max(_widths(text)) <= 40
    assert render_table(columns, rows, width=None).splitlines()[2].split()[1] == "a" * 30
