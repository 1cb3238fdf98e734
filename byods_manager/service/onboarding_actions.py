"""What an ``authorized``/``deauthorized`` event does with what exists today: mint the
org's service-app token pair through the Applications API and keep it in the token store
under ``<appId>@<orgId>``, or drop that pair.

The fleet layer (org registry, ``apply`` template, alerts) plugs in through the two
optional hooks, so this module needs nothing above ``tokens/``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ApiError, ByodsError, ConfigError, TransportError
from ..stores.scopes import service_app_scope
from ..tokens import endpoints
from ..tokens.bearer import TokenManagerBearer
from .onboarding import WebhookEvent, WebhookReceiver

if TYPE_CHECKING:
    from ..http import HttpClient
    from ..tokens.manager import TokenManager

log = logging.getLogger(__name__)

WEBHOOK_SOURCE = "webhook"
# Authorization can take a moment to reach the Applications API: 403/404 then mean
# "not yet". 429 and 5xx are temporary anyway.
NOT_YET_STATUSES = frozenset({403, 404, 409, 423, 425, 429, 500, 502, 503, 504})

OrgHook = Callable[[str], None]


@dataclass(frozen=True)
class MintRetry:
    """Backoff for the first mint: ``attempts`` tries, waits doubling up to ``max_delay``."""

    attempts: int = 6
    first_delay: float = 0.5
    max_delay: float = 8.0

    def delays(self) -> list[float]:
        waits, delay = [], self.first_delay
        for _ in range(self.attempts - 1):
            waits.append(delay)
            delay = min(delay * 2, self.max_delay)
        return waits


def org_store_key(app_id: str, org_id: str) -> str:
    """Where an org's service-app tokens live in the store (the token manager's key)."""
    return f"{app_id}@{org_id}"


class TokenOnboarder:
    """An :class:`~.onboarding.OnboardingHandler` that keeps each org's token pair.

    ``apply_template(org_id)`` runs after the tokens are saved (e.g. the ``apply``
    engine registering the template's data sources); ``after_deauthorize(org_id)`` runs
    after they are dropped (e.g. mark the org in the registry, send an alert).
    """

    def __init__(
        self,
        manager: TokenManager,
        *,
        apply_template: OrgHook | None = None,
        after_deauthorize: OrgHook | None = None,
        retry: MintRetry | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.manager = manager
        self.bearer = TokenManagerBearer(manager)
        self.apply_template = apply_template
        self.after_deauthorize = after_deauthorize
        self.retry = retry or MintRetry()
        self._sleep = sleep
        self._http: HttpClient | None = None

    @property
    def app_id(self) -> str:
        return self.manager.config.service_app.app_id

    def on_authorized(self, org_id: str, event: WebhookEvent) -> None:
        grant = self._mint_with_backoff(org_id, event)
        if grant is None:
            log.info("org %s: authorized, then a later event arrived; not onboarded", org_id)
            return
        store = self.manager.store
        key = org_store_key(self.app_id, org_id)
        with store.locked(service_app_scope(key)) as data:  # this org's entry only
            data.service_app(key).set_grant(grant, WEBHOOK_SOURCE)
            store.save(data)
        log.info("org %s authorized the service app: token pair minted and saved", org_id)
        if self.apply_template is not None:
            self.apply_template(org_id)

    def on_deauthorized(self, org_id: str, event: WebhookEvent) -> None:
        store = self.manager.store
        key = org_store_key(self.app_id, org_id)
        with store.locked(service_app_scope(key)) as data:
            if data.service_apps.pop(key, None) is not None:
                store.save(data)
        log.info("org %s deauthorized the service app: its tokens were dropped", org_id)
        if self.after_deauthorize is not None:
            self.after_deauthorize(org_id)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _mint_with_backoff(
        self, org_id: str, event: WebhookEvent
    ) -> endpoints.TokenResponse | None:
        """The org's new pair; None when a later event for the org made it moot."""
        waits = self.retry.delays()
        while True:
            if event.superseded():
                return None
            try:
                return self.bearer.call(lambda token: self._mint(org_id, token))
            except (ApiError, TransportError) as exc:
                temporary = not isinstance(exc, ApiError) or exc.status in NOT_YET_STATUSES
                if not temporary or not waits:
                    raise ByodsError(
                        f"could not mint tokens for org {org_id}: {_describe(exc)}"
                    ) from None
                delay = waits.pop(0)
                log.info("org %s: not minted yet (%s); retrying in %.1fs", org_id, exc, delay)
                self._sleep(delay)

    def _mint(self, org_id: str, bearer: str) -> endpoints.TokenResponse:
        service = self.manager.config.service_app
        return endpoints.mint_service_app_token(
            self._client(),
            app_id=service.app_id,
            client_id=service.client_id,
            client_secret=service.client_secret,
            target_org_id=org_id,
            bearer=bearer,
        )

    def _client(self) -> HttpClient:
        if self._http is None:
            from ..http import TOKEN_ENDPOINT_RETRY, HttpClient

            self._http = HttpClient(self.manager.base_url, None, retry=TOKEN_ENDPOINT_RETRY)
        return self._http


def build_receiver(
    manager: TokenManager,
    secret: str | None = None,
    *,
    apply_template: OrgHook | None = None,
    after_deauthorize: OrgHook | None = None,
) -> WebhookReceiver:
    """The receiver for ``manager``'s service app: ``secret`` (``--webhook-secret`` /
    ``BYODS_WEBHOOK_SECRET``) when given, else every secret ``byods webhooks register``
    saved in the token store."""
    from ..tokens import webhook_secrets

    secrets = [secret] if secret else [s.secret for s in webhook_secrets.load_all(manager.store)]
    if not secrets:
        raise ConfigError(
            "no webhook secret: pass --webhook-secret (or set BYODS_WEBHOOK_SECRET), or run "
            "`byods webhooks register --target-url URL` first"
        )
    onboarder = TokenOnboarder(
        manager, apply_template=apply_template, after_deauthorize=after_deauthorize
    )
    return WebhookReceiver(secrets, onboarder, app_id=manager.config.service_app.app_id)


def _describe(exc: ByodsError) -> str:
    return exc.describe() if isinstance(exc, ApiError) else str(exc)
