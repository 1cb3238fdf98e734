"""`--client-secret -` reads stdin; a secret on the command line earns a warning."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.fixtures_oauth import INTEGRATION_CLIENT_SECRET, Browser, FakeWebex
from tests.test_oauth_cli import integration_setup

WriteConfig = Callable[..., Path]
RunCli = Callable[..., Result]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    person = Browser()
    monkeypatch.setattr("webbrowser.open", person.open_in_background)
    yield person
    person.join()


def _setup(fake_webex: FakeWebex, config: Path, port: int, *secret_args: str) -> list[str]:
    args = integration_setup(
        config, fake_webex.base_url, f"http://127.0.0.1:{port}/callback", secret=False
    )
    return [*args, *secret_args, "--timeout", "10"]


def test_client_secret_dash_reads_stdin_without_a_warning(
    fake_webex: FakeWebex,
    write_config: WriteConfig,
    browser: Browser,
    free_port: int,
    run_cli: RunCli,
) -> None:
    config = write_config({})
    result = run_cli(
        _setup(fake_webex, config, free_port, "--client-secret", "-"),
        input=INTEGRATION_CLIENT_SECRET + "\n",
    )
    browser.join()
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr
    saved = json.loads(config.read_text())["tokenManager"]
    assert saved["oauthClientSecret"] == INTEGRATION_CLIENT_SECRET


def test_client_secret_dash_with_empty_stdin_is_bad_input(
    fake_webex: FakeWebex, write_config: WriteConfig, free_port: int, run_cli: RunCli
) -> None:
    result = run_cli(_setup(fake_webex, write_config({}), free_port, "--client-secret", "-"))
    assert result.exit_code == 2
    assert "--client-secret -: nothing was read from stdin" in result.stderr
    assert fake_webex.calls() == []


def test_client_secret_in_argv_is_warned_about(
    fake_webex: FakeWebex,
    write_config: WriteConfig,
    browser: Browser,
    free_port: int,
    run_cli: RunCli,
) -> None:
    config = write_config({})
    result = run_cli(
        _setup(fake_webex, config, free_port, "--client-secret", INTEGRATION_CLIENT_SECRET)
    )
    browser.join()
    assert result.exit_code == 0, result.output
    assert "Warning: --client-secret on the command line is visible" in result.stderr
    assert "BYODS_OAUTH_CLIENT_SECRET or --client-secret -" in result.stderr
    assert INTEGRATION_CLIENT_SECRET not in result.output
