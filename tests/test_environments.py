"""--env / BYODS_ENV: the API base URL and identity brokers; --base-url and the env var win."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import Result

from byods_manager.cli.context import AppContext
from byods_manager.environments import INTEGRATION, PRODUCTION, resolve_environment
from byods_manager.errors import ConfigError

TOKEN = "env-token-0123456789abcdefSECRET"


def test_production_is_the_default_and_byods_env_or_the_option_change_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert resolve_environment() is PRODUCTION
    monkeypatch.setenv("BYODS_ENV", "integration")
    assert resolve_environment() is INTEGRATION
    assert resolve_environment("production") is PRODUCTION
    monkeypatch.setenv("BYODS_ENV", "staging")
    with pytest.raises(ConfigError, match="unknown Webex environment 'staging'"):
        resolve_environment()


def test_the_environment_sets_the_base_url_unless_one_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert AppContext().base_url == "https://webexapis.com/v1"
    assert AppContext(env_option="integration").base_url == "https://integration.webexapis.com/v1"
    given = AppContext(env_option="integration", base_url_option="http://127.0.0.1:9/v1")
    assert given.base_url == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("WEBEX_API_BASE_URL", "http://127.0.0.1:8/v1")
    assert AppContext(env_option="integration").base_url == "http://127.0.0.1:8/v1"


def test_a_base_url_of_a_known_environment_selects_it_unless_env_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    integration_url = "https://integration.webexapis.com/v1/"
    assert AppContext(base_url_option=integration_url).environment is INTEGRATION
    monkeypatch.setenv("WEBEX_API_BASE_URL", integration_url)
    assert AppContext().environment is INTEGRATION
    assert AppContext(env_option="production").environment is PRODUCTION
    monkeypatch.setenv("BYODS_ENV", "production")
    assert AppContext().environment is PRODUCTION
    monkeypatch.setenv("WEBEX_API_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.delenv("BYODS_ENV")
    assert AppContext().environment is PRODUCTION


def status(run_cli: Callable[..., Result], *args: str) -> dict[str, str]:
    result = run_cli([*args, "token", "status", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    return {"environment": payload["environment"], "baseUrl": payload["baseUrl"]}


def test_token_status_shows_the_environment_in_use(
    run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", TOKEN)
    assert status(run_cli) == {"environment": "production", "baseUrl": "https://webexapis.com/v1"}
    assert status(run_cli, "--env", "integration") == {
        "environment": "integration",
        "baseUrl": "https://integration.webexapis.com/v1",
    }
    text = run_cli(["--env", "integration", "token", "status"])
    assert text.stdout.splitlines()[0] == (
        "Environment: integration (https://integration.webexapis.com/v1)"
    )
    monkeypatch.setenv("BYODS_ENV", "integration")
    overridden = run_cli(["--base-url", "http://127.0.0.1:9/v1", "token", "status"])
    assert overridden.stdout.splitlines()[0] == (
        "Environment: integration (API base URL overridden: http://127.0.0.1:9/v1)"
    )
    assert TOKEN not in overridden.stdout


def test_token_status_with_a_config_shows_the_environment_too(
    run_cli: Callable[..., Result], sandbox_env: dict[str, str]
) -> None:
    result = run_cli(["--env", "integration", "token", "status"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Environment: integration (API base URL overridden: http://")
    assert status(run_cli)["environment"] == "production"


def test_an_unknown_env_is_bad_usage(
    run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli(["--env", "staging", "token", "status"])
    assert result.exit_code == 2
    assert "staging" in result.stderr
    monkeypatch.setenv("BYODS_ENV", "staging")
    assert run_cli(["token", "status"]).exit_code == 2


@pytest.mark.parametrize(
    ("environment", "issuer", "trusted"),
    [
        ("production", "https://idbroker.webex.com/idb", True),
        ("production", "https://idbroker-eu.webex.com/idb", True),
        ("production", "https://idbroker-ca.webex.com/idb", True),
        ("production", "https://idbrokerbts.webex.com/idb", False),
        ("integration", "https://idbrokerbts.webex.com/idb", True),
        ("integration", "https://idbrokerbts-eu.webex.com/idb", True),
        ("integration", "https://idbroker.webex.com/idb", False),
        ("production", "https://idbroker.webex.com.evil.example/idb", False),
        ("production", "https://idbroker.webex.com/idbx", False),
    ],
)
def test_each_environment_trusts_its_own_brokers_only(
    environment: str, issuer: str, trusted: bool
) -> None:
    assert resolve_environment(environment).trusts_issuer(issuer) is trusted
