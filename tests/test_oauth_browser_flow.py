"""The browser flow over real HTTP: fake authorization server, a browser thread, the callback."""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Iterator

import pytest
import requests

from byods_manager.errors import ByodsError, InputError
from byods_manager.http import HttpClient, RetryPolicy
from byods_manager.oauth.browser_flow import BrowserFlowSettings, run_browser_flow
from byods_manager.oauth.redirect import AuthorizationDenied, AuthorizationTimeout, StateMismatch
from byods_manager.tokens.endpoints import TokenResponse
from tests.fixtures_oauth import (
    INTEGRATION_CLIENT_ID,
    INTEGRATION_CLIENT_SECRET,
    Browser,
    FakeWebex,
    ScriptedPrompter,
)

# The client ID/secret check before the browser opens (redeems a code that cannot exist).
CHECK = "POST /v1/access_token"


@pytest.fixture
def http(fake_webex: FakeWebex) -> Iterator[HttpClient]:
    client = HttpClient(fake_webex.base_url, None, retry=RetryPolicy(max_retries=0))
    yield client
    client.close()


@pytest.fixture
def redirect_uri(free_port: int) -> str:
    return f"http://localhost:{free_port}/callback"


def flow(
    http: HttpClient,
    prompter: ScriptedPrompter,
    browser: Browser | None,
    **settings: object,
) -> TokenResponse:
    return run_browser_flow(
        http,
        client_id=INTEGRATION_CLIENT_ID,
        client_secret=INTEGRATION_CLIENT_SECRET,
        settings=BrowserFlowSettings(**settings),  # type: ignore[arg-type]
        prompter=prompter,
        open_url=browser.open_in_background if browser else _no_browser,
    )


def _no_browser(url: str) -> bool:
    raise AssertionError("the browser must not be opened")


def test_full_flow_exchanges_the_code_for_both_tokens(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    browser = Browser()
    tokens = flow(http, ScriptedPrompter(), browser, redirect_uri=redirect_uri, timeout=10)
    browser.join()
    assert tokens.access_token in fake_webex.integration_access
    assert tokens.refresh_token in fake_webex.integration_refresh
    authorize = urllib.parse.urlsplit(browser.pages[0].url)
    query = urllib.parse.parse_qs(authorize.query)
    assert authorize.path == "/v1/authorize"
    assert query["scope"] == ["spark:applications_token"]
    assert query["redirect_uri"] == [redirect_uri]
    assert len(query["state"][0]) >= 32
    exchange = fake_webex.server.log[-1][0]
    assert exchange.form["grant_type"] == "authorization_code"
    assert exchange.form["redirect_uri"] == redirect_uri
    assert browser.pages[-1].status == 200
    assert "close this tab" in browser.pages[-1].text


def test_every_run_uses_a_fresh_state(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    states = []
    for _ in range(2):
        browser = Browser()
        flow(http, ScriptedPrompter(), browser, redirect_uri=redirect_uri, timeout=10)
        browser.join()
        states.append(urllib.parse.parse_qs(urllib.parse.urlsplit(browser.pages[0].url).query))
    assert states[0]["state"] != states[1]["state"]


def test_no_browser_prints_the_url_for_the_person(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    browser = Browser()
    prompter = ScriptedPrompter(on_url=browser.open_in_background)
    tokens = flow(http, prompter, None, redirect_uri=redirect_uri, timeout=10, open_browser=False)
    browser.join()
    assert tokens.refresh_token in fake_webex.integration_refresh


def test_wrong_state_is_rejected_and_the_right_one_still_accepted(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    seen: list[int] = []

    def forge_first(location: str) -> None:
        forged = location.replace("state=", "state=forged")
        seen.append(requests.get(forged, timeout=5).status_code)

    browser = Browser(before_callback=forge_first)
    tokens = flow(http, ScriptedPrompter(), browser, redirect_uri=redirect_uri, timeout=10)
    browser.join()
    assert seen == [400]
    assert browser.pages[-1].status == 200
    assert tokens.access_token in fake_webex.integration_access


def test_access_denied_is_a_clear_error(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    fake_webex.authorize_mode = "deny"
    browser = Browser()
    with pytest.raises(AuthorizationDenied, match="access_denied"):
        flow(http, ScriptedPrompter(), browser, redirect_uri=redirect_uri, timeout=10)
    browser.join()
    # Only the client check before the browser: no code was exchanged.
    assert [c for c in fake_webex.calls() if c.startswith("POST")] == [CHECK]


def test_foreign_state_only_leads_to_a_timeout(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    fake_webex.authorize_mode = "foreign-state"
    browser = Browser()
    with pytest.raises(AuthorizationTimeout, match="--timeout"):
        flow(http, ScriptedPrompter(), browser, redirect_uri=redirect_uri, timeout=1)
    browser.join()
    assert browser.pages[-1].status == 400
    assert fake_webex.calls() == [CHECK, "GET /v1/authorize"]


def test_port_in_use_falls_back_to_pasting_the_redirected_url(
    fake_webex: FakeWebex, http: HttpClient, free_port: int
) -> None:
    browser = Browser()
    seen: list[str] = []
    prompter = ScriptedPrompter([lambda: browser.redirect_for(seen[-1])], on_url=seen.append)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", free_port))
        squatter.listen()
        tokens = flow(
            http,
            prompter,
            None,
            redirect_uri=f"http://127.0.0.1:{free_port}/callback",
            timeout=10,
            open_browser=False,
        )
    assert tokens.refresh_token in fake_webex.integration_refresh
    assert any("already in use" in message for message in prompter.messages)
    assert prompter.questions == ["Paste the redirected URL (or just the code)"]


def test_manual_paste_rejects_a_foreign_state_then_accepts_the_code(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    browser = Browser()
    seen: list[str] = []

    def bare_code() -> str:
        location = browser.redirect_for(seen[-1])
        return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]

    prompter = ScriptedPrompter(
        [f"{redirect_uri}?code=stolen&state=someone-else", bare_code], on_url=seen.append
    )
    tokens = flow(http, prompter, None, redirect_uri=redirect_uri, manual=True, open_browser=False)
    assert tokens.access_token in fake_webex.integration_access
    assert any("state does not match" in message for message in prompter.messages)
    assert len(prompter.questions) == 2


def test_manual_paste_gives_up_after_three_bad_answers(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    bad = f"{redirect_uri}?code=x&state=wrong"
    prompter = ScriptedPrompter([bad, bad, bad])
    with pytest.raises(StateMismatch):
        flow(http, prompter, None, redirect_uri=redirect_uri, manual=True, open_browser=False)
    assert fake_webex.calls() == [CHECK]


def test_paste_without_a_terminal_is_an_input_error(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    with pytest.raises(InputError, match="no terminal"):
        flow(
            http,
            ScriptedPrompter(interactive=False),
            None,
            redirect_uri=redirect_uri,
            manual=True,
            open_browser=False,
        )


def test_a_grant_without_refresh_token_is_refused(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    fake_webex.issue_refresh_token = False
    browser = Browser()
    with pytest.raises(ByodsError, match="no refresh token"):
        flow(http, ScriptedPrompter(), browser, redirect_uri=redirect_uri, timeout=10)
    browser.join()


def test_a_failing_browser_still_leaves_the_printed_url(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    browser = Browser()
    prompter = ScriptedPrompter(on_url=browser.open_in_background)
    tokens = run_browser_flow(
        http,
        client_id=INTEGRATION_CLIENT_ID,
        client_secret=INTEGRATION_CLIENT_SECRET,
        settings=BrowserFlowSettings(redirect_uri=redirect_uri, timeout=10),
        prompter=prompter,
        open_url=lambda url: False,
    )
    browser.join()
    assert tokens.access_token in fake_webex.integration_access
    assert any("open the URL above yourself" in message for message in prompter.messages)


def test_the_flow_uses_pkce_s256(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    browser = Browser()
    tokens = flow(http, ScriptedPrompter(), browser, redirect_uri=redirect_uri, timeout=10)
    browser.join()
    assert tokens.refresh_token in fake_webex.integration_refresh
    authorize = next(r for r, _ in fake_webex.server.log if r.path.endswith("/authorize"))
    assert authorize.args["code_challenge_method"] == "S256"
    assert len(fake_webex.challenges) == 1  # the fake checked the verifier against it
    exchange = [r for r, _ in fake_webex.server.log if r.form.get("code") in fake_webex.challenges]
    verifier = exchange[0].form["code_verifier"]
    assert 43 <= len(verifier) <= 128
    assert verifier not in authorize.full_path


def test_wrong_client_secret_is_reported_before_the_browser_opens(
    fake_webex: FakeWebex, http: HttpClient, redirect_uri: str
) -> None:
    with pytest.raises(InputError, match="does not accept the integration's client ID and secret"):
        run_browser_flow(
            http,
            client_id=INTEGRATION_CLIENT_ID,
            client_secret="wrong-secret",
            settings=BrowserFlowSettings(redirect_uri=redirect_uri, timeout=5),
            prompter=ScriptedPrompter(),
            open_url=_no_browser,
        )
    assert fake_webex.calls() == [CHECK]
