"""The setup cascade against a fake Webex over loopback HTTP, with the real token manager."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from byods_manager.errors import ByodsError, ConfigError, InputError
from byods_manager.http import HttpClient, RetryPolicy
from byods_manager.oauth.browser_flow import BrowserFlowSettings
from byods_manager.oauth.prompter import ClickPrompter, Prompter
from byods_manager.oauth.wizard import SetupOptions, SetupResult, SetupWizard
from byods_manager.tokens.manager import TokenManager
from tests.fixtures_oauth import (
    APP_ID,
    INTEGRATION_CLIENT_ID,
    INTEGRATION_CLIENT_SECRET,
    Browser,
    FakeWebex,
    ScriptedPrompter,
)

MINT = f"POST /v1/applications/{APP_ID}/token"
TOKEN = "POST /v1/access_token"
AUTHORIZE = "GET /v1/authorize"
# The client ID/secret check before the browser opens (a code that cannot exist).
CHECK = TOKEN
WriteConfig = Callable[..., Path]


@pytest.fixture
def http(fake_webex: FakeWebex) -> Iterator[HttpClient]:
    client = HttpClient(fake_webex.base_url, None, retry=RetryPolicy(max_retries=0))
    yield client
    client.close()


@pytest.fixture
def settings(free_port: int) -> BrowserFlowSettings:
    return BrowserFlowSettings(
        redirect_uri=f"http://127.0.0.1:{free_port}/callback", timeout=10, open_browser=True
    )


def integration(**extra: str) -> dict[str, str]:
    return {
        "oauthClientId": INTEGRATION_CLIENT_ID,
        "oauthClientSecret": INTEGRATION_CLIENT_SECRET,
        **extra,
    }


def run_wizard(
    http: HttpClient,
    config: Path,
    prompter: Prompter,
    options: SetupOptions | None = None,
    browser: Browser | None = None,
) -> SetupResult:
    wizard = SetupWizard(
        http,
        config,
        profile=None,
        prompter=prompter,
        options=options,
        open_url=(browser or Browser()).open_in_background,
    )
    return wizard.run()


def manager_token(fake_webex: FakeWebex, config: Path) -> str:
    """What the token manager hands the data-source client next, with no further request."""
    before = len(fake_webex.calls())
    token = TokenManager.from_config(config, base_url=fake_webex.base_url).get_token()
    assert len(fake_webex.calls()) == before
    return token


def test_tier1_working_personal_token_stops_after_one_request(
    fake_webex: FakeWebex, http: HttpClient, write_config: WriteConfig
) -> None:
    pat = fake_webex.new_personal_token()
    config = write_config({"personalAccessToken": pat}, extraTopLevel={"keep": True})
    before = config.read_text()
    result = run_wizard(http, config, ScriptedPrompter(interactive=False))
    assert (result.tier, result.method, result.credential) == (1, "existing-token", "personal")
    assert fake_webex.calls() == [MINT]
    assert config.read_text() == before  # nothing to change in the config
    assert manager_token(fake_webex, config) == fake_webex.minted[-1]["access_token"]


def test_tier2_refreshes_the_integration_when_the_personal_token_expired(
    fake_webex: FakeWebex, http: HttpClient, write_config: WriteConfig
) -> None:
    old_refresh = fake_webex.new_integration_refresh()
    config = write_config(
        integration(personalAccessToken="personal-expired-token", oauthRefreshToken=old_refresh)
    )
    result = run_wizard(http, config, ScriptedPrompter(interactive=False))
    assert (result.tier, result.method, result.credential) == (
        2,
        "integration-refresh",
        "integration",
    )
    assert fake_webex.calls() == [MINT, TOKEN, MINT]
    saved = json.loads(config.read_text())["tokenManager"]
    assert saved["oauthRefreshToken"] in fake_webex.integration_refresh  # the rotated one
    assert saved["oauthRefreshToken"] != old_refresh
    assert saved["personalAccessToken"] == "personal-expired-token"  # left alone
    assert manager_token(fake_webex, config) == fake_webex.minted[-1]["access_token"]


def test_tier1_reuses_the_stored_integration_token_on_a_second_run(
    fake_webex: FakeWebex, http: HttpClient, write_config: WriteConfig
) -> None:
    config = write_config(integration(oauthRefreshToken=fake_webex.new_integration_refresh()))
    first = run_wizard(http, config, ScriptedPrompter(interactive=False))
    assert first.tier == 2
    fake_webex.server.clear_log()
    second = run_wizard(http, config, ScriptedPrompter(interactive=False))
    assert (second.tier, second.credential) == (1, "integration")
    assert fake_webex.calls() == [MINT]


def test_tier3_runs_the_browser_flow_with_the_configured_integration(
    fake_webex: FakeWebex,
    http: HttpClient,
    write_config: WriteConfig,
    settings: BrowserFlowSettings,
) -> None:
    config = write_config(
        integration(personalAccessToken="personal-expired", oauthRefreshToken="refresh-revoked")
    )
    browser = Browser()
    result = run_wizard(
        http,
        config,
        ScriptedPrompter(confirm_answers=[True]),
        SetupOptions(browser=settings),
        browser,
    )
    browser.join()
    assert (result.tier, result.method) == (3, "browser-flow")
    assert fake_webex.calls() == [MINT, TOKEN, CHECK, AUTHORIZE, TOKEN, MINT]
    callback_page = browser.pages[-1]
    assert callback_page.status == 200
    assert "close this tab" in callback_page.text
    assert not any(token in callback_page.text for token in fake_webex.all_tokens())
    saved = json.loads(config.read_text())["tokenManager"]
    assert saved["oauthRefreshToken"] in fake_webex.integration_refresh
    assert manager_token(fake_webex, config) == fake_webex.minted[-1]["access_token"]


def test_tier3_declined_falls_through_to_the_question(
    fake_webex: FakeWebex, http: HttpClient, write_config: WriteConfig
) -> None:
    pat = fake_webex.new_personal_token()
    config = write_config(integration())
    prompter = ScriptedPrompter(["2", pat], confirm_answers=[False])
    result = run_wizard(http, config, prompter)
    assert (result.tier, result.method) == (4, "personal-token")
    assert any("12 hours" in message for message in prompter.messages)
    assert json.loads(config.read_text())["tokenManager"]["personalAccessToken"] == pat
    assert fake_webex.calls() == [MINT]


def test_tier4_integration_answer_runs_the_browser_flow(
    fake_webex: FakeWebex,
    http: HttpClient,
    write_config: WriteConfig,
    settings: BrowserFlowSettings,
) -> None:
    config = write_config(None, unrelated={"nested": [1, 2, 3]})
    prompter = ScriptedPrompter(["1", INTEGRATION_CLIENT_ID, INTEGRATION_CLIENT_SECRET])
    browser = Browser()
    result = run_wizard(http, config, prompter, SetupOptions(browser=settings), browser)
    browser.join()
    assert (result.tier, result.method) == (4, "browser-flow")
    assert fake_webex.calls() == [CHECK, AUTHORIZE, TOKEN, MINT]
    document = json.loads(config.read_text())
    assert document["unrelated"] == {"nested": [1, 2, 3]}
    assert document["tokenManager"] == {
        "oauthClientId": INTEGRATION_CLIENT_ID,
        "oauthClientSecret": INTEGRATION_CLIENT_SECRET,
        "oauthRefreshToken": result_refresh(fake_webex),
    }
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def result_refresh(fake_webex: FakeWebex) -> str:
    (refresh,) = fake_webex.integration_refresh
    return refresh


def test_without_a_terminal_and_nothing_working_it_is_a_config_error(
    fake_webex: FakeWebex, http: HttpClient, write_config: WriteConfig
) -> None:
    config = write_config({"personalAccessToken": "personal-expired"})
    with pytest.raises(ConfigError, match="--client-id"):
        run_wizard(http, config, ScriptedPrompter(interactive=False))
    assert fake_webex.calls() == [MINT]


def test_explicit_personal_token_skips_the_cascade(
    fake_webex: FakeWebex, http: HttpClient, write_config: WriteConfig
) -> None:
    old = fake_webex.new_personal_token()
    new = fake_webex.new_personal_token()
    config = write_config({"personalAccessToken": old})
    result = run_wizard(
        http, config, ScriptedPrompter(interactive=False), SetupOptions(personal_token=new)
    )
    assert (result.tier, result.method) == (4, "personal-token")
    assert fake_webex.calls() == [MINT]
    assert json.loads(config.read_text())["tokenManager"]["personalAccessToken"] == new


def test_rejected_explicit_personal_token_is_not_saved(
    fake_webex: FakeWebex, http: HttpClient, write_config: WriteConfig
) -> None:
    config = write_config({})
    before = config.read_text()
    with pytest.raises(ByodsError, match="rejected"):
        run_wizard(
            http,
            config,
            ScriptedPrompter(interactive=False),
            SetupOptions(personal_token="personal-unknown-token"),
        )
    assert config.read_text() == before


def test_explicit_client_id_without_secret_and_terminal_names_the_option(
    fake_webex: FakeWebex, http: HttpClient, write_config: WriteConfig
) -> None:
    config = write_config({})
    with pytest.raises(InputError, match="BYODS_OAUTH_CLIENT_SECRET"):
        run_wizard(
            http,
            config,
            ClickPrompter(interactive=False),
            SetupOptions(client_id=INTEGRATION_CLIENT_ID),
        )
    assert fake_webex.calls() == []


def test_explicit_client_id_reuses_the_configured_secret(
    fake_webex: FakeWebex,
    http: HttpClient,
    write_config: WriteConfig,
    settings: BrowserFlowSettings,
) -> None:
    config = write_config(integration())
    browser = Browser()
    result = run_wizard(
        http,
        config,
        ClickPrompter(interactive=False),
        SetupOptions(client_id=INTEGRATION_CLIENT_ID, browser=settings),
        browser,
    )
    browser.join()
    assert result.method == "browser-flow"
    assert fake_webex.calls() == [CHECK, AUTHORIZE, TOKEN, MINT]


def test_force_skips_working_tokens(
    fake_webex: FakeWebex,
    http: HttpClient,
    write_config: WriteConfig,
    settings: BrowserFlowSettings,
) -> None:
    pat = fake_webex.new_personal_token()
    config = write_config(integration(personalAccessToken=pat))
    browser = Browser()
    result = run_wizard(
        http,
        config,
        ScriptedPrompter(interactive=False),
        SetupOptions(force=True, browser=settings),
        browser,
    )
    browser.join()
    assert result.method == "browser-flow"
    assert fake_webex.calls() == [CHECK, AUTHORIZE, TOKEN, MINT]


def test_missing_config_is_created_from_answers(
    fake_webex: FakeWebex, http: HttpClient, tmp_path: Path
) -> None:
    from tests.fixtures_oauth import service_app_section

    config = tmp_path / "new" / "token-config.json"
    pat = fake_webex.new_personal_token()
    section = service_app_section()
    answers = [section[k] for k in ("appId", "clientId", "clientSecret", "targetOrgId")]
    prompter = ScriptedPrompter([*answers, "2", pat])
    result = run_wizard(http, config, prompter)
    assert result.method == "personal-token"
    assert json.loads(config.read_text()) == {
        "serviceApp": section,
        "tokenManager": {"personalAccessToken": pat},
    }
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_missing_config_without_a_terminal_is_a_config_error(
    fake_webex: FakeWebex, http: HttpClient, tmp_path: Path
) -> None:
    config = tmp_path / "token-config.json"
    with pytest.raises(ConfigError, match="does not exist"):
        run_wizard(http, config, ScriptedPrompter(interactive=False))
    assert not config.exists()
    assert fake_webex.calls() == []


def test_a_broken_service_app_is_reported_not_retried_as_another_tier(
    fake_webex: FakeWebex, http: HttpClient, write_config: WriteConfig
) -> None:
    config = write_config(integration(personalAccessToken=fake_webex.new_personal_token()))
    document: dict[str, Any] = json.loads(config.read_text())
    document["serviceApp"]["clientSecret"] = "wrong-secret"
    config.write_text(json.dumps(document))
    with pytest.raises(ByodsError, match="serviceApp"):
        run_wizard(http, config, ScriptedPrompter(interactive=False))
    assert fake_webex.calls() == [MINT]


def test_a_refreshed_integration_token_is_stored_even_if_the_applications_api_refuses_it(
    fake_webex: FakeWebex, http: HttpClient, write_config: WriteConfig
) -> None:
    from byods_manager.tokens.store import TokenStore, default_store_path

    old_refresh = fake_webex.new_integration_refresh()
    config = write_config(integration(oauthRefreshToken=old_refresh))
    fake_webex.mint_status = 403
    prompter = ScriptedPrompter(["2", "personal-unknown-token"], confirm_answers=[False])
    with pytest.raises(ByodsError, match="rejected"):
        run_wizard(http, config, prompter)
    assert fake_webex.calls() == [TOKEN, MINT, MINT]
    (rotated,) = fake_webex.integration_refresh  # the old one stopped working when used
    stored = TokenStore(default_store_path()).load().integrations[INTEGRATION_CLIENT_ID]
    assert stored.refresh_token == rotated
    assert stored.access_token in fake_webex.integration_access
    # The token manager carries on with it, although the config still holds the old one.
    fake_webex.mint_status = None
    TokenManager.from_config(config, base_url=fake_webex.base_url).refresh(force=True)
    stored = TokenStore(default_store_path()).load().integrations[INTEGRATION_CLIENT_ID]
    assert stored.refresh_token == rotated
