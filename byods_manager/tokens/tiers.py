"""The refresh chain, cheapest first, run while the caller holds the store lock of the
service app (tiers 2 and 3 add the shared integration's lock, see :class:`RefreshChain`).

0. the stored access token, unless within the refresh threshold of its expiry;
1. the stored service-app refresh token (``POST /access_token``);
2. the Applications API (``POST /applications/{appId}/token``) with the token-manager token;
3. after a 401 (or with no usable token-manager token), the integration's own OAuth refresh,
   persisted at once, then tier 2 once more.

Every new token pair is saved before it is returned, so a rotated refresh token is never
lost even if the process dies right after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import ApiError, AuthRequiredError, ByodsError, ConfigError
from ..secrets import redact
from .config import ProfileConfig
from .store import StoreData, TokenEntry

if TYPE_CHECKING:
    from ..http import HttpClient
    from . import endpoints  # imported where a token endpoint is called: looking is cheaper

DEFAULT_THRESHOLD_SECONDS = 300.0
REJECTED_SOURCE = "rejected"

TIER_NAMES = {
    0: "stored access token",
    1: "service-app refresh token",
    2: "Applications API",
    3: "integration OAuth refresh",
}

SETUP_HINT = "Run `byods auth setup` (or `python setup_oauth.py`), then `byods token refresh`."

# Statuses that mean "these credentials will not work": a person has to act.
DEFINITIVE_STATUSES = frozenset({400, 401, 403, 404})


class RefreshOutcome(NamedTuple):
    """Which tier produced the access token (0 = the stored one was kept) and its expiry.

    NamedTuples, not dataclasses: this module is imported at start-up by every command
    that reads a token, where a dataclass costs about half a millisecond to define.
    """

    tier: int
    expires_at: float | None
    refresh_expires_at: float | None
    token: str = ""

    def __repr__(self) -> str:  # without the token
        return (
            f"RefreshOutcome(tier={self.tier!r}, expires_at={self.expires_at!r}, "
            f"refresh_expires_at={self.refresh_expires_at!r})"
        )

    @property
    def refreshed(self) -> bool:
        return self.tier > 0

    @property
    def tier_name(self) -> str:
        return TIER_NAMES[self.tier]

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "tierName": self.tier_name,
            "refreshed": self.refreshed,
            "expiresAt": iso(self.expires_at),
            "refreshExpiresAt": iso(self.refresh_expires_at),
        }


class _Failure(NamedTuple):
    """Why one tier could not produce a token."""

    tier: int
    text: str
    definitive: bool
    status: int | None = None


def iso(when: float | None) -> str | None:
    """An epoch time as ISO 8601 in UTC, to the second (None stays None)."""
    if when is None:
        return None
    return datetime.fromtimestamp(when, tz=timezone.utc).isoformat(timespec="seconds")


def reconcile(data: StoreData, config: ProfileConfig) -> bool:
    """Let values a person put into the config win over the store; True if anything changed.

    A config value wins when the store has never seen it (the entry does not know its
    fingerprint): the person replaced it after the store last looked. Otherwise the store
    holds the newest rotated value and wins. Either way the value's fingerprint is kept
    among the entry's config fingerprints, which no number of rotations pushes out.
    """
    changed = False
    service = config.service_app
    entry = data.service_apps.get(service.store_key)
    seed_refresh, seed_access = service.seed_refresh_token, service.seed_access_token
    if entry is None and (seed_refresh or seed_access):
        entry = data.service_app(service.store_key)
    if entry is not None:
        if seed_refresh and not entry.knows(seed_refresh):
            entry.adopt_refresh(seed_refresh)
            changed = True
        if seed_access and not entry.knows(seed_access):
            entry.access_token, entry.expires_at = seed_access, None
            entry.source = "config"
            changed = True
        entry.remember_config(seed_refresh, seed_access)
    manager = config.token_manager
    if manager.has_integration and manager.oauth_client_id:
        refresh = manager.oauth_refresh_token
        integration = data.integrations.get(manager.oauth_client_id)
        if refresh and (integration is None or not integration.knows(refresh)):
            integration = data.integration(manager.oauth_client_id)
            integration.adopt_refresh(refresh)
            changed = True
        if refresh and integration is not None:
            integration.remember_config(refresh)
    return changed


def token_manager_bearer(
    config: ProfileConfig,
    data: StoreData,
    threshold: float,
    now: float | None = None,
    base_url: str | None = None,
) -> tuple[str, str] | None:
    """The token that authorizes the Applications API, with a label for messages.

    A personal access token the store has not seen before (just pasted) wins; otherwise a
    still-valid integration access token from tier 3 wins; otherwise the personal token.
    """
    manager = config.token_manager
    pat = manager.personal_access_token
    integration = (
        data.integrations.get(manager.oauth_client_id) if manager.oauth_client_id else None
    )
    integration_valid = (
        integration is not None
        and integration.access_valid(threshold, now)
        and not (base_url and integration.bound_elsewhere(base_url))
    )
    if pat and (integration is None or not integration.knows(pat) or not integration_valid):
        return pat, f"personal access token {redact(pat)}"
    if integration is not None and integration_valid and integration.access_token:
        return (
            integration.access_token,
            f"integration access token {redact(integration.access_token)}",
        )
    return None


def _no_extra_lock(data: StoreData) -> AbstractContextManager[object]:
    return contextlib.nullcontext()


class RefreshChain:
    """Runs tiers 1..3 for one profile against one store snapshot (lock held by the caller).

    The caller's lock covers the service-app entry. Tiers 2 and 3 also read (and tier 3
    rotates) the integration's entry, which every org of a fleet shares: before the chain
    goes past tier 1 it enters ``lock_integration(data)``, which holds the integration's
    lock for the rest of the run and puts the entry as it is now into ``data`` (another
    org may have rotated it since the caller read ``data``).
    """

    def __init__(
        self,
        config: ProfileConfig,
        http: Callable[[], HttpClient],
        threshold: float,
        notify: Callable[[str], None],
        lock_integration: Callable[[StoreData], AbstractContextManager[object]] = _no_extra_lock,
    ) -> None:
        self.config = config
        self._http = http
        self.threshold = threshold
        self.notify = notify
        self._lock_integration = lock_integration

    def run(
        self,
        data: StoreData,
        save: Callable[[], None],
        *,
        forced: bool = False,
        start_tier: int = 1,
    ) -> RefreshOutcome:
        """Try tiers ``start_tier``..3 in order; raise when all fail.

        Raises AuthRequiredError when every failure was definitive (a person must act),
        a plain ByodsError when some were temporary (network, 5xx, 429). Its list of
        reasons names only the tiers this run considered.
        """
        service = self.config.service_app
        entry = data.service_app(service.store_key)
        failures: list[_Failure] = []

        if start_tier <= 1:
            failures.append(_Failure(0, self._tier0_reason(entry, forced), True))
            outcome = self._tier1(entry, save, failures)
            if outcome is not None:
                return outcome
        with self._lock_integration(data):
            return self._tiers_2_and_3(data, entry, save, failures)

    def _tiers_2_and_3(
        self,
        data: StoreData,
        entry: TokenEntry,
        save: Callable[[], None],
        failures: list[_Failure],
    ) -> RefreshOutcome:
        bearer = token_manager_bearer(
            self.config, data, self.threshold, base_url=self._http().base_url
        )
        needs_tier3 = bearer is None
        if bearer is None:
            failures.append(
                _Failure(
                    2,
                    "tier 2 (Applications API): no usable token-manager token "
                    "(tokenManager.personalAccessToken or an integration)",
                    True,
                )
            )
        else:
            outcome, status = self._tier2(entry, bearer, save, failures)
            if outcome is not None:
                self._remember_token_manager(data, bearer[0], save)
                return outcome
            needs_tier3 = status == 401

        if needs_tier3:
            outcome = self._tier3(data, entry, save, failures)
            if outcome is not None:
                return outcome
        elif self.config.token_manager.has_integration:
            failures.append(
                _Failure(3, "tier 3 (integration OAuth refresh): skipped (tier 2 got no 401)", True)
            )
        raise _final_error(failures, self._http().base_url)

    def _tier0_reason(self, entry: TokenEntry, forced: bool) -> str:
        if forced:
            return "tier 0 (stored access token): skipped (forced refresh)"
        if entry.source == REJECTED_SOURCE:
            return "tier 0 (stored access token): rejected by Webex (HTTP 401)"
        if not entry.access_token:
            return "tier 0 (stored access token): none stored"
        if entry.bound_elsewhere(self._http().base_url):
            return (
                f"tier 0 (stored access token {redact(entry.access_token)}): "
                f"{_elsewhere(entry, self._http())}"
            )
        return (
            f"tier 0 (stored access token {redact(entry.access_token)}): expires "
            f"{iso(entry.expires_at)}, within the refresh threshold or past"
        )

    def _tier1(
        self, entry: TokenEntry, save: Callable[[], None], failures: list[_Failure]
    ) -> RefreshOutcome | None:
        label = "tier 1 (service-app refresh token"
        if not entry.refresh_token:
            failures.append(_Failure(1, f"{label}): none stored", True))
            return None
        label += f" {redact(entry.refresh_token)})"
        if entry.bound_elsewhere(self._http().base_url):
            failures.append(_Failure(1, f"{label}: {_elsewhere(entry, self._http())}", True))
            return None
        if not entry.refresh_usable():
            failures.append(_Failure(1, f"{label}: expired {iso(entry.refresh_expires_at)}", True))
            return None
        service = self.config.service_app
        self.notify("refreshing the service-app access token with its refresh token")
        from . import endpoints

        try:
            response = endpoints.refresh_grant(
                self._http(),
                client_id=service.client_id,
                client_secret=service.client_secret,
                refresh_token=entry.refresh_token,
            )
        except ByodsError as exc:
            failures.append(_failure(1, label, exc))
            return None
        return self._store_pair(entry, response, 1, "refresh-token", save)

    def _tier2(
        self,
        entry: TokenEntry,
        bearer: tuple[str, str],
        save: Callable[[], None],
        failures: list[_Failure],
    ) -> tuple[RefreshOutcome | None, int | None]:
        token, what = bearer
        label = f"tier 2 (Applications API with the {what})"
        service = self.config.service_app
        self.notify("requesting a new service-app token pair from the Applications API")
        from . import endpoints

        try:
            response = endpoints.mint_service_app_token(
                self._http(),
                app_id=service.app_id,
                client_id=service.client_id,
                client_secret=service.client_secret,
                target_org_id=service.target_org_id,
                bearer=token,
            )
        except ByodsError as exc:
            failures.append(_failure(2, label, exc))
            return None, exc.status if isinstance(exc, ApiError) else None
        return self._store_pair(entry, response, 2, "applications-api", save), None

    def _tier3(
        self,
        data: StoreData,
        entry: TokenEntry,
        save: Callable[[], None],
        failures: list[_Failure],
    ) -> RefreshOutcome | None:
        manager = self.config.token_manager
        label = "tier 3 (integration OAuth refresh"
        if not manager.has_integration or not manager.oauth_client_id:
            failures.append(
                _Failure(3, f"{label}): not configured (oauthClientId/oauthClientSecret)", True)
            )
            return None
        integration = data.integration(manager.oauth_client_id)
        if not integration.refresh_token:
            failures.append(_Failure(3, f"{label}): no integration refresh token", True))
            return None
        label += f" {redact(integration.refresh_token)})"
        if integration.bound_elsewhere(self._http().base_url):
            failures.append(_Failure(3, f"{label}: {_elsewhere(integration, self._http())}", True))
            return None
        if not integration.refresh_usable():
            failures.append(
                _Failure(3, f"{label}: expired {iso(integration.refresh_expires_at)}", True)
            )
            return None
        self.notify("refreshing the integration token, then retrying the Applications API")
        try:
            response = self.refresh_integration(data, save)
        except ByodsError as exc:
            failures.append(_failure(3, label, exc))
            return None
        bearer = (
            response.access_token,
            f"refreshed integration token {redact(response.access_token)}",
        )
        outcome, _status = self._tier2(entry, bearer, save, failures)
        if outcome is None:
            return None
        return RefreshOutcome(3, outcome.expires_at, outcome.refresh_expires_at, outcome.token)

    def refresh_integration(
        self, data: StoreData, save: Callable[[], None]
    ) -> endpoints.TokenResponse:
        """Tier 3's first half: rotate the integration's tokens with its refresh token and
        save the new pair before anything uses it.

        The caller has checked that an integration is configured and that its stored
        refresh token is usable. Raises what the token endpoint raises.
        """
        manager = self.config.token_manager
        assert manager.oauth_client_id is not None
        integration = data.integration(manager.oauth_client_id)
        assert integration.refresh_token is not None
        from . import endpoints

        response = endpoints.refresh_grant(
            self._http(),
            client_id=manager.oauth_client_id,
            client_secret=manager.oauth_client_secret or "",
            refresh_token=integration.refresh_token,
        )
        integration.set_integration_grant(response, "oauth-refresh", manager.personal_access_token)
        save()
        return response

    def _store_pair(
        self,
        entry: TokenEntry,
        response: endpoints.TokenResponse,
        tier: int,
        source: str,
        save: Callable[[], None],
    ) -> RefreshOutcome:
        entry.set_grant(response, source)
        save()
        return RefreshOutcome(
            tier, entry.expires_at, entry.refresh_expires_at, response.access_token
        )

    def _remember_token_manager(
        self, data: StoreData, token: str, save: Callable[[], None]
    ) -> None:
        """Once a pasted personal token has worked, the store no longer treats it as new."""
        client_id = self.config.token_manager.oauth_client_id
        if client_id and self.config.token_manager.has_integration:
            integration = data.integration(client_id)
            if not integration.knows(token):
                integration.remember(token)
                save()


def _elsewhere(entry: TokenEntry, http: HttpClient) -> str:
    return (
        f"issued by {entry.base_url}, not sent to {http.base_url} "
        "(stored tokens are only used with the base URL they came from)"
    )


def _failure(tier: int, label: str, exc: ByodsError) -> _Failure:
    if isinstance(exc, ApiError):
        definitive = exc.status in DEFINITIVE_STATUSES
        return _Failure(tier, f"{label}: rejected, {exc.describe()}", definitive, exc.status)
    return _Failure(tier, f"{label}: {exc}", False)


def _final_error(failures: list[_Failure], base_url: str) -> ByodsError:
    lines = [f.text for f in failures]
    statuses = [f.status for f in failures if f.status is not None]
    if statuses and all(status == 404 for status in statuses):
        return ConfigError(
            f"Every token endpoint answered 404 Not Found: the API base URL {base_url} looks "
            "wrong (Webex's is https://webexapis.com/v1; note the /v1). "
            "Check --base-url / WEBEX_API_BASE_URL.\n" + "\n".join(f"  - {line}" for line in lines)
        )
    if all(f.definitive for f in failures):
        return AuthRequiredError(
            "No valid service-app access token could be obtained: every refresh tier failed. "
            + SETUP_HINT,
            attempts=lines,
        )
    return ByodsError(
        "Could not obtain a service-app access token because of a temporary failure "
        "(network or server); try again later:\n" + "\n".join(f"  - {line}" for line in lines)
    )
