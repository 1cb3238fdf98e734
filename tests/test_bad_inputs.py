"""Bad input exits 2 with one line on stderr, no traceback, and nothing sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer

from tests.fixtures_core import SCHEMA_ID

DS_ID = "f29bb291-5db0-411b-834a-e64f8dee0658"
GOOD = ["--url", "https://a.example", "--schema-id", SCHEMA_ID, "--audience", "a", "--subject", "s"]


def register_with(**overrides: str) -> list[str]:
    args = dict(zip(GOOD[::2], GOOD[1::2], strict=True))
    args.update({f"--{k.replace('_', '-')}": v for k, v in overrides.items()})
    return ["register", *[item for pair in args.items() for item in pair]]


BAD_INPUTS = {
    "http url": register_with(url="http://a.example"),
    "ftp url": register_with(url="ftp://a.example"),
    "url without host": register_with(url="https://"),
    "url with spaces": register_with(url="https://a b.example"),
    "lifetime zero": [*register_with(), "--lifetime-minutes", "0"],
    "lifetime too long": [*register_with(), "--lifetime-minutes", "1441"],
    "lifetime not a number": [*register_with(), "--lifetime-minutes", "ten"],
    "schema id not a uuid": register_with(schema_id="voiceVirtualAgent"),
    "empty audience": register_with(audience="  "),
    "empty subject": register_with(subject=""),
    "empty nonce": [*register_with(), "--nonce", " "],
    "missing values without a terminal": ["register", "--url", "https://a.example"],
    "empty reason": ["disable", DS_ID, "--reason", "   "],
    "missing reason": ["disable", DS_ID],
    "id with a slash": ["show", "../admin"],
    "id with spaces": ["show", "f29bb291 5db0"],
    "unknown id format": ["show", "my-data-source"],
    "empty id": ["extend", ""],
    "update with a bad url": ["update", DS_ID, "--url", "http://a.example"],
    "update with nothing": ["update", DS_ID],
    "update bad lifetime": ["update", DS_ID, "--lifetime-minutes", "-5"],
    "extend both id and all": ["extend", DS_ID, "--all"],
    "extend neither": ["extend"],
    "window without all": ["extend", DS_ID, "--if-expiring-within", "6h"],
    "bad window": ["extend", "--all", "--if-expiring-within", "soon"],
    "delete without yes off a terminal": ["delete", DS_ID],
    "delete bad id": ["delete", "x/y", "--yes"],
    "schema show not a uuid": ["schemas", "show", "webService"],
    "timeout beyond any date": ["--timeout", "99999999999999d", "list"],
    "window beyond any date": ["extend", "--all", "--if-expiring-within", "99999999999999999d"],
    "renew-before beyond any date": ["keepalive", "--once", "--renew-before", "99999999999999999d"],
}


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("args", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line(
    httpserver: HTTPServer, run_cli: Callable[..., Result], args: list[str]
) -> None:
    result = run_cli(args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    assert httpserver.log == []


def test_there_are_at_least_15_distinct_cases() -> None:
    assert len({tuple(args) for args in BAD_INPUTS.values()}) >= 15


ID_COMMANDS = {
    "show": ["show", "{id}"],
    "update": ["update", "{id}", "--audience", "a"],
    "extend": ["extend", "{id}"],
    "disable": ["disable", "{id}", "--reason", "r"],
    "enable": ["enable", "{id}"],
    "delete": ["delete", "{id}", "--yes"],
}


@pytest.mark.parametrize("template", list(ID_COMMANDS.values()), ids=list(ID_COMMANDS))
def test_a_bad_id_is_reported_before_the_config_is_read(
    run_cli: Callable[..., Result], tmp_path: Path, template: list[str]
) -> None:
    missing_config = tmp_path / "no-such-config.json"
    args = [arg.format(id="../admin") for arg in template]
    result = run_cli(["--config", str(missing_config), *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: the data source ID '../admin' contains '/'")
    assert str(missing_config) not in result.stderr
