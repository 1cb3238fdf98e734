"""The authorization-code flow: authorize URL, browser, loopback callback or paste, exchange."""

from __future__ import annotations

import secrets
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ByodsError, InputError
from ..tokens.endpoints import TokenResponse, authorization_code_grant, authorize_url
from . import DEFAULT_REDIRECT_URI, DEFAULT_TIMEOUT_SECONDS
from .callback import CallbackServer, CallbackUnavailable
from .client_check import check_client_credentials
from .pkce import Pkce
from .prompter import Prompter
from .redirect import MalformedRedirect, RedirectTarget, code_from_pasted

if TYPE_CHECKING:
    from ..http import HttpClient

PASTE_ATTEMPTS = 3
PASTE_QUESTION = "Paste the redirected URL (or just the code)"


@dataclass(frozen=True)
class BrowserFlowSettings:
    redirect_uri: str = DEFAULT_REDIRECT_URI
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    open_browser: bool = True
    manual: bool = False


def run_browser_flow(
    http: HttpClient,
    *,
    client_id: str,
    client_secret: str,
    settings: BrowserFlowSettings,
    prompter: Prompter,
    open_url: Callable[[str], bool] | None = None,
) -> TokenResponse:
    """Sign in with the integration in a browser; return its access and refresh token.

    ``open_url`` opens the sign-in URL (default: :func:`webbrowser.open`, looked up when
    it is needed).
    """
    target = RedirectTarget.parse(settings.redirect_uri)

    def check_credentials() -> None:
        check_client_credentials(
            http, client_id=client_id, client_secret=client_secret, redirect_uri=target.uri
        )

    state = secrets.token_urlsafe(32)
    pkce = Pkce.new()
    url = authorize_url(
        http.base_url,
        client_id=client_id,
        redirect_uri=target.uri,
        state=state,
        code_challenge=pkce.challenge,
    )
    code = _obtain_code(url, target, state, settings, prompter, open_url, check_credentials)
    prompter.say("Exchanging the authorization code for tokens…")
    tokens = authorization_code_grant(
        http,
        client_id=client_id,
        client_secret=client_secret,
        code=code,
        redirect_uri=target.uri,
        code_verifier=pkce.verifier,
    )
    if not tokens.refresh_token:
        raise ByodsError(
            "the token endpoint returned no refresh token; the integration cannot be "
            "refreshed unattended (check the integration in the Webex developer portal)"
        )
    return tokens


def _obtain_code(
    url: str,
    target: RedirectTarget,
    state: str,
    settings: BrowserFlowSettings,
    prompter: Prompter,
    open_url: Callable[[str], bool] | None,
    before_browser: Callable[[], None],
) -> str:
    """The code, by callback or paste; ``before_browser`` runs once the way to receive
    it is settled and before the person is sent to sign in."""
    server: CallbackServer | None = None
    if not settings.manual:
        try:
            server = CallbackServer(target, state)
        except CallbackUnavailable as exc:
            prompter.warn(f"cannot receive the redirect myself: {exc}.")
    if server is None:
        if not prompter.interactive:
            raise InputError(
                "the redirected URL must be pasted, but there is no terminal "
                "(free the redirect URI's port or pick another with --redirect-uri)"
            )
        before_browser()
        _show_and_open(url, settings, prompter, open_url)
        prompter.say(
            "After you accept, the browser is sent to "
            f"{target.uri}?code=…; copy that full URL from the address bar "
            "(the page itself may fail to load)."
        )
        return _paste_code(state, prompter)
    with server:
        before_browser()
        _show_and_open(url, settings, prompter, open_url)
        prompter.say(f"Waiting up to {settings.timeout:g}s for the browser sign-in…")
        return server.wait(settings.timeout)


def _show_and_open(
    url: str,
    settings: BrowserFlowSettings,
    prompter: Prompter,
    open_url: Callable[[str], bool] | None,
) -> None:
    prompter.say(f"Open this URL to sign in with the integration:\n\n  {url}\n")
    if not settings.open_browser:
        return
    try:
        opened = (open_url or webbrowser.open)(url)
    except (webbrowser.Error, OSError):
        opened = False
    if not opened:
        prompter.say("Could not open a browser; open the URL above yourself.")


def _paste_code(state: str, prompter: Prompter) -> str:
    for _ in range(PASTE_ATTEMPTS - 1):
        try:
            return code_from_pasted(prompter.ask(PASTE_QUESTION), state)
        except MalformedRedirect as exc:
            prompter.warn(f"{exc}; try again.")
    return code_from_pasted(prompter.ask(PASTE_QUESTION), state)  # last try: errors propagate
