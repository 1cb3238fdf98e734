"""The setup cascade: stop at the first tier that yields a working Applications API token.

1. a token already there (the integration's stored access token, the personal token);
2. the integration's refresh token;
3. the integration's client id/secret from the config: the browser flow;
4. ask: paste a personal access token, or enter integration credentials and sign in.

"Works" means the Applications API mints a service-app token with it, for the configured
service app; the minted tokens go into the token store instead of being thrown away.
Credentials given explicitly (``personal_token``, ``client_id``) skip the cascade: they
are the user's answer to tier 4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ApiError, ByodsError, ConfigError
from ..tokens.config import ProfileConfig, load_config
from ..tokens.endpoints import TokenResponse, mint_service_app_token
from ..tokens.manager import TokenManager
from .browser_flow import BrowserFlowSettings, run_browser_flow
from .config_writer import update_token_config
from .prompter import Prompter
from .result import SetupResult, TokenSummary
from .service_app_setup import ensure_service_app

if TYPE_CHECKING:
    from ..http import HttpClient

# Statuses that mean "this credential does not work", as opposed to a broken setup.
REJECTED_STATUSES = frozenset({400, 401, 403})
PERSONAL_TOKEN_HOURS = 12


@dataclass(frozen=True)
class SetupOptions:
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    personal_token: str | None = field(default=None, repr=False)
    force: bool = False
    browser: BrowserFlowSettings = field(default_factory=BrowserFlowSettings)


class SetupWizard:
    """One run of ``byods auth setup`` against one config profile.

    The token manager for the profile reads and writes the token store; it is rebuilt
    when the wizard changes the integration in the config.
    """

    _tokens: TokenManager

    def __init__(
        self,
        http: HttpClient,
        config_path: Path,
        *,
        profile: str | None,
        prompter: Prompter,
        options: SetupOptions | None = None,
        open_url: Callable[[str], bool] | None = None,
    ) -> None:
        self.http = http
        self.config_path = config_path
        self.profile = profile
        self.prompter = prompter
        self.options = options or SetupOptions()
        self.open_url = open_url

    # -- the cascade ----------------------------------------------------------------------

    def run(self) -> SetupResult:
        config = ensure_service_app(self.config_path, self.profile, self.prompter)
        self._tokens = TokenManager(config, base_url=self.http.base_url)
        try:
            return self._cascade(config)
        finally:
            self._tokens.close()

    def _cascade(self, config: ProfileConfig) -> SetupResult:
        options = self.options
        if options.personal_token:
            return self._use_personal_token(config, options.personal_token, tier=4)
        if options.client_id:
            secret = options.client_secret or self._configured_secret_for(config, options.client_id)
            return self._browser_flow(
                config, options.client_id, secret or self._ask_client_secret(), tier=4
            )
        if not options.force:
            result = self._existing_token(config) or self._refresh_integration(config)
            if result is not None:
                return result
        manager = config.token_manager
        if manager.oauth_client_id and manager.oauth_client_secret:
            question = (
                f"Sign in with integration {manager.oauth_client_id} in the browser "
                "to get a token that renews itself?"
            )
            if not self.prompter.interactive or self.prompter.confirm(question, default=True):
                return self._browser_flow(
                    config, manager.oauth_client_id, manager.oauth_client_secret, tier=3
                )
        return self._ask(config)

    def _existing_token(self, config: ProfileConfig) -> SetupResult | None:
        """Tier 1: the integration's stored access token, then the personal token."""
        manager = config.token_manager
        stored = self._tokens.integration_entry()
        if stored is not None and stored.access_token and stored.access_valid(threshold=60):
            token, expires_at = stored.access_token, stored.expires_at
            minted = self._validate(config, token, "the integration's stored access token")
            if minted is not None:
                return self._finish(
                    config, 1, "existing-token", "integration", token, expires_at, minted
                )
        if manager.personal_access_token:
            token = manager.personal_access_token
            minted = self._validate(config, token, "the personal access token in the config")
            if minted is not None:
                self.prompter.warn(
                    f"the personal access token expires within {PERSONAL_TOKEN_HOURS} hours of "
                    "its creation; for unattended use, run `byods auth setup --client-id ID` "
                    "with an integration."
                )
                return self._finish(config, 1, "existing-token", "personal", token, None, minted)
        return None

    def _refresh_integration(self, config: ProfileConfig) -> SetupResult | None:
        """Tier 2: refresh the integration's token and check the result.

        The token manager rotates it under the store lock and saves the new pair before
        it is checked, so a refusal by the Applications API cannot lose it.
        """
        manager = config.token_manager
        if not (manager.oauth_client_id and manager.oauth_client_secret):
            return None
        try:
            tokens = self._tokens.refresh_integration()
        except ApiError as exc:
            if exc.status not in REJECTED_STATUSES:
                raise
            self.prompter.say(f"The integration's refresh token no longer works ({exc}).")
            return None
        if tokens is None:
            return None
        self.prompter.say("Refreshed the integration's token.")
        minted = self._validate(config, tokens.access_token, "the refreshed integration token")
        if minted is None:
            return None
        return self._save_integration(
            config,
            2,
            "integration-refresh",
            manager.oauth_client_id,
            manager.oauth_client_secret,
            tokens,
            minted,
        )

    def _ask(self, config: ProfileConfig) -> SetupResult:
        """Tier 4: nothing configured works; the person chooses."""
        if not self.prompter.interactive:
            raise ConfigError(
                "no working credentials for the Applications API and no terminal to ask: "
                "pass --client-id (and --client-secret or $BYODS_OAUTH_CLIENT_SECRET) to "
                "sign in with an integration, or --personal-token TOKEN"
            )
        choice = self.prompter.choose(
            "How should byods get tokens for the Applications API?",
            [
                (
                    "1",
                    "Integration client ID and secret, signing in once in the browser "
                    "(recommended: renews itself for months)",
                ),
                (
                    "2",
                    f"Paste a personal access token (quick start: it expires in "
                    f"{PERSONAL_TOKEN_HOURS} hours)",
                ),
            ],
            default="1",
        )
        if choice == "2":
            self.prompter.say(
                f"A personal access token from developer.webex.com expires {PERSONAL_TOKEN_HOURS} "
                "hours after it was issued; run this setup again with an integration before then."
            )
            token = self.prompter.ask("Personal access token", secret=True)
            return self._use_personal_token(config, token, tier=4)
        client_id = self.prompter.ask("Integration client ID")
        secret = self.options.client_secret or self._ask_client_secret()
        return self._browser_flow(config, client_id, secret, tier=4)

    # -- the two ways of adding a credential ----------------------------------------------

    def _use_personal_token(self, config: ProfileConfig, token: str, *, tier: int) -> SetupResult:
        token = token.strip()
        minted = self._validate(config, token, "the personal access token")
        if minted is None:
            raise ByodsError(
                "the personal access token was rejected by the Applications API; create a "
                "new one on developer.webex.com (it must belong to a full admin of the org)"
            )
        update_token_config(
            self.config_path, profile=self.profile, token_manager={"personalAccessToken": token}
        )
        return self._finish(config, tier, "personal-token", "personal", token, None, minted)

    def _browser_flow(
        self, config: ProfileConfig, client_id: str, client_secret: str, *, tier: int
    ) -> SetupResult:
        tokens = run_browser_flow(
            self.http,
            client_id=client_id,
            client_secret=client_secret,
            settings=self.options.browser,
            prompter=self.prompter,
            open_url=self.open_url,
        )
        minted = self._validate(config, tokens.access_token, "the new integration token")
        if minted is None:
            raise ByodsError(
                "the integration signed in, but the Applications API rejected its token; "
                "check that the integration has the spark:applications_token scope and "
                "that you signed in as a full admin of the org that authorized the service app"
            )
        return self._save_integration(
            config, tier, "browser-flow", client_id, client_secret, tokens, minted
        )

    # -- helpers --------------------------------------------------------------------------

    def _validate(self, config: ProfileConfig, token: str, what: str) -> TokenResponse | None:
        """Mint a service-app token with ``token``: the response, or None if it was refused."""
        app = config.service_app
        try:
            return mint_service_app_token(
                self.http,
                app_id=app.app_id,
                client_id=app.client_id,
                client_secret=app.client_secret,
                target_org_id=app.target_org_id,
                bearer=token,
            )
        except ApiError as exc:
            if exc.status in (401, 403):
                self.prompter.say(f"The Applications API refused {what} ({exc}).")
                return None
            raise ByodsError(
                f"the Applications API failed for service app {app.app_id} ({exc}); "
                f"check the serviceApp section of {self.config_path}"
            ) from None

    def _save_integration(
        self,
        config: ProfileConfig,
        tier: int,
        method: str,
        client_id: str,
        client_secret: str,
        tokens: TokenResponse,
        minted: TokenResponse,
    ) -> SetupResult:
        fields = {"oauthClientId": client_id, "oauthClientSecret": client_secret}
        if tokens.refresh_token:
            fields["oauthRefreshToken"] = tokens.refresh_token
        update_token_config(self.config_path, profile=self.profile, token_manager=fields)
        # The integration may be a new one: the token manager must see the config as written.
        self._tokens.close()
        self._tokens = TokenManager(
            load_config(self.config_path, self.profile), base_url=self.http.base_url
        )
        self._tokens.save_integration_tokens(tokens)
        return self._finish(
            config,
            tier,
            method,
            "integration",
            tokens.access_token,
            tokens.expires_at,
            minted,
            integration_refresh=(
                TokenSummary.of(tokens.refresh_token, tokens.refresh_expires_at)
                if tokens.refresh_token
                else None
            ),
        )

    def _finish(
        self,
        config: ProfileConfig,
        tier: int,
        method: str,
        credential: str,
        token: str,
        expires_at: float | None,
        minted: TokenResponse,
        *,
        integration_refresh: TokenSummary | None = None,
    ) -> SetupResult:
        self._tokens.save_minted_tokens(minted)
        return SetupResult(
            tier=tier,
            method=method,
            config_path=self.config_path,
            credential=credential,
            applications_token=TokenSummary.of(token, expires_at),
            service_app_token=TokenSummary.of(minted.access_token, minted.expires_at),
            service_app_refresh_token=(
                TokenSummary.of(minted.refresh_token, minted.refresh_expires_at)
                if minted.refresh_token
                else None
            ),
            integration_refresh_token=integration_refresh,
        )

    @staticmethod
    def _configured_secret_for(config: ProfileConfig, client_id: str) -> str | None:
        """The config's integration secret, when ``client_id`` is the configured one."""
        manager = config.token_manager
        return manager.oauth_client_secret if manager.oauth_client_id == client_id else None

    def _ask_client_secret(self) -> str:
        return self.prompter.ask(
            "Integration client secret",
            secret=True,
            hint="pass --client-secret or set BYODS_OAUTH_CLIENT_SECRET",
        )
