"""The token manager: a :class:`~byods_manager.auth.TokenProvider` over config + store.

``get_token()`` costs one small file read while the stored token is valid; otherwise it
takes the store lock of its service app (``locked(service_app_scope(...))``: per credential
on PostgreSQL, the one file lock on the file store), re-reads (another process may have
refreshed meanwhile) and runs the refresh chain in :mod:`.tiers`. ``invalidate()`` is the
reactive path: the HTTP layer calls it on a 401, and the next ``get_token()`` goes through
the chain again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..auth import environment_token
from ..errors import ByodsError, ConfigError
from ..stores.scopes import integration_scope, service_app_scope
from ..stores.select import open_config_store
from .config import ProfileConfig, fingerprint, load_config
from .status import CheckResult, TokenStatus, build_status
from .store import StoreData, TokenEntry
from .tiers import (
    DEFAULT_THRESHOLD_SECONDS,
    REJECTED_SOURCE,
    RefreshChain,
    RefreshOutcome,
    reconcile,
)

if TYPE_CHECKING:
    from ..deadline import Deadline
    from ..http import HttpClient
    from ..stores.base import StateStore
    from .endpoints import TokenResponse

Notify = Callable[[str], None]


def _quiet(message: str) -> None:
    """Default sink for notes and warnings when the caller gives none."""


class TokenManager:
    """Keeps a valid service-app access token for one profile (app id + org id)."""

    def __init__(
        self,
        config: ProfileConfig,
        *,
        base_url: str,
        store: StateStore | None = None,
        threshold_seconds: float | None = None,
        notify: Notify | None = None,
        warn: Notify | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.config = config
        self.deadline = deadline
        self.base_url = base_url.rstrip("/")
        self.store = store or open_config_store(config, warn=warn, deadline=deadline)
        if threshold_seconds is None:
            threshold_seconds = config.refresh_threshold_seconds
        self.threshold = (
            DEFAULT_THRESHOLD_SECONDS if threshold_seconds is None else threshold_seconds
        )
        self.notify = notify or _quiet
        self.warn = warn or _quiet
        self._rejected: set[str] = set()
        self._token_http: HttpClient | None = None
        self._scope = service_app_scope(config.service_app.store_key)
        self._chain = RefreshChain(
            config, self._http, self.threshold, self.notify, self._integration_locked
        )

    @classmethod
    def from_config(
        cls,
        config_path: Path | str,
        *,
        profile: str | None = None,
        base_url: str,
        notify: Notify | None = None,
        warn: Notify | None = None,
        deadline: Deadline | None = None,
        store: str | None = None,
    ) -> TokenManager:
        """``store`` is a ``--store`` location (path or URL); it wins over the environment
        and the config's ``tokenStore``."""
        config = load_config(config_path, profile, warn=warn)
        return cls(
            config,
            base_url=base_url,
            store=open_config_store(config, store, warn=warn, deadline=deadline),
            notify=notify,
            warn=warn,
            deadline=deadline,
        )

    # -- the TokenProvider interface -------------------------------------------------

    def get_token(self) -> str:
        """A service-app access token believed valid for at least the threshold."""
        snapshot = self._own_entries()
        edited = reconcile(snapshot, self.config)
        token = self._usable(snapshot)
        if token is not None and not edited:
            return token
        with self.store.locked(self._scope) as data:
            self._reconcile_and_save(data)
            token = self._usable(data)
            if token is not None:
                return token
            self.store.reserve()
            return self._chain.run(data, lambda: self.store.save(data)).token

    def invalidate(self, token: str) -> bool:
        """Webex rejected ``token``: forget it so the next :meth:`get_token` refreshes.

        Always True: the refresh chain decides whether another token can be had and, if
        not, explains why in its AuthRequiredError.
        """
        self._rejected.add(token)
        with self.store.locked(self._scope) as data:
            entry = data.service_apps.get(self.config.service_app.store_key)
            if entry is not None and entry.access_token == token:
                entry.access_token, entry.expires_at = None, None
                entry.source = REJECTED_SOURCE
                self.store.save(data)
        self.notify("Webex rejected the access token; getting a new one")
        return True

    # -- explicit operations ----------------------------------------------------------

    def refresh(self, force: bool = False) -> RefreshOutcome:
        """Refresh now. Without ``force`` a still-valid stored token is kept (tier 0)."""
        with self.store.locked(self._scope) as data:
            self._reconcile_and_save(data)
            entry = data.service_app(self.config.service_app.store_key)
            token = self._usable(data)
            if token is not None and not force:
                return RefreshOutcome(0, entry.expires_at, entry.refresh_expires_at, token)
            self.store.reserve()
            return self._chain.run(data, lambda: self.store.save(data), forced=force)

    def is_token_valid(self) -> bool:
        """True when a stored token is usable without any network call."""
        return self.usable_entry() is not None

    def usable_entry(self) -> TokenEntry | None:
        """The stored service-app entry (a copy) when its access token is usable without
        any network call, else None; its ``expires_at`` is None when the expiry is unknown."""
        snapshot = self._own_entries()
        if reconcile(snapshot, self.config) or self._usable(snapshot) is None:
            return None
        return snapshot.service_apps[self.config.service_app.store_key]

    def status(self) -> TokenStatus:
        snapshot = self.store.load()
        reconcile(snapshot, self.config)
        return build_status(
            self.config,
            snapshot,
            store_path=self.store.location,
            threshold=self.threshold,
            env_bypass=environment_token() is not None,
        )

    def check(self) -> list[CheckResult]:
        """Validate against the endpoints the tool uses: ``GET /dataSources/`` with the
        service-app token, and the Applications API with the token-manager token (which
        mints a new service-app pair; it is saved, not wasted)."""
        return [self._check_service_app(), self._check_token_manager()]

    def integration_entry(self) -> TokenEntry | None:
        """The store's entry for the configured integration as the refresh chain sees it
        (a copy, config edits applied in memory only), or None."""
        client_id = self.config.token_manager.oauth_client_id
        if not client_id:
            return None
        snapshot = self.store.load()
        reconcile(snapshot, self.config)
        return snapshot.integrations.get(client_id)

    def refresh_integration(self, seen: str | None = None) -> TokenResponse | None:
        """Rotate the integration's tokens now (the setup wizard's check of its refresh
        token), under the store lock; the new pair is saved before it is returned.

        ``seen``: the :func:`~.config.fingerprint` of the refresh token the caller decided
        on. When the stored one differs under the lock, another worker (an org's pass, a
        replica) rotated it meanwhile: nothing is sent and None is returned, so the shared
        integration rotates once however many callers found it due at the same time.

        None when no integration is configured or no usable refresh token is stored for
        it. Raises what the token endpoint raises (an ApiError when it is refused).
        """
        client_id = self.config.token_manager.oauth_client_id
        if not (client_id and self.config.token_manager.has_integration):
            return None
        with self.store.locked(integration_scope(client_id)) as data:
            self._reconcile_and_save(data)
            integration = data.integrations.get(client_id)
            if integration is None or not integration.refresh_usable():
                return None
            if seen is not None and fingerprint(integration.refresh_token) != seen:
                return None
            self.store.reserve()
            return self._chain.refresh_integration(data, lambda: self.store.save(data))

    def save_minted_tokens(self, response: TokenResponse) -> None:
        """Keep a service-app pair obtained elsewhere (e.g. by the setup wizard)."""
        with self.store.locked(self._scope) as data:
            reconcile(data, self.config)
            data.service_app(self.config.service_app.store_key).set_grant(
                response, "applications-api"
            )
            self.store.save(data)

    def save_integration_tokens(self, response: TokenResponse) -> None:
        """Keep the integration's access/refresh tokens (tier 3 input) obtained elsewhere."""
        client_id = self.config.token_manager.oauth_client_id
        if not client_id:
            raise ConfigError(
                f"config {self.config.path}: $.tokenManager.oauthClientId is missing; "
                "hint: store the integration's client id before saving its tokens"
            )
        with self.store.locked(integration_scope(client_id)) as data:
            reconcile(data, self.config)
            data.integration(client_id).set_integration_grant(
                response, "oauth", self.config.token_manager.personal_access_token
            )
            self.store.save(data)

    def close(self) -> None:
        if self._token_http is not None:
            self._token_http.close()
            self._token_http = None

    # -- internals ---------------------------------------------------------------------

    def _own_entries(self) -> StoreData:
        """The two entries :func:`reconcile` and :meth:`_usable` look at (a copy), read
        without copying every other org's tokens."""
        return self.store.load_credentials(
            self.config.service_app.store_key, self.config.token_manager.oauth_client_id
        )

    def _usable(self, data: StoreData) -> str | None:
        entry = data.service_apps.get(self.config.service_app.store_key)
        if entry is None or not entry.access_valid(self.threshold):
            return None
        if entry.bound_elsewhere(self.base_url):
            return None
        token = entry.access_token
        if token is None or token in self._rejected:
            return None
        return token

    @contextlib.contextmanager
    def _integration_locked(self, data: StoreData) -> Iterator[None]:
        """For tiers 2 and 3 (see :class:`RefreshChain`): hold the integration's lock too,
        nested in this org's (always in that order), and put its entry as it is now into
        ``data``. Without an integration there is nothing shared to lock."""
        manager = self.config.token_manager
        client_id = manager.oauth_client_id
        if not (client_id and manager.has_integration):
            yield
            return
        with self.store.locked(integration_scope(client_id)) as fresh:
            current = fresh.integrations.get(client_id)
            if current is None:
                data.integrations.pop(client_id, None)
            else:
                data.integrations[client_id] = current
            self._reconcile_and_save(data)
            yield

    def _reconcile_and_save(self, data: StoreData) -> None:
        if reconcile(data, self.config):
            self.notify("the config holds new credentials; they replace the stored ones")
            self.store.save(data)

    def _http(self) -> HttpClient:
        """The client for token endpoints: no provider, each call brings its credential."""
        if self._token_http is None:
            from ..http import TOKEN_ENDPOINT_RETRY, HttpClient

            self._token_http = HttpClient(
                self.base_url,
                None,
                retry=TOKEN_ENDPOINT_RETRY,
                notify=self.notify,
                deadline=self.deadline,
            )
        return self._token_http

    def _check_service_app(self) -> CheckResult:
        from ..http import HttpClient

        name = "service-app token: GET /dataSources/"
        http = HttpClient(self.base_url, self, notify=self.notify, deadline=self.deadline)
        try:
            before = self.get_token()
            response = http.request("GET", "/dataSources/")
        except ByodsError as exc:
            return CheckResult(name, False, str(exc), exc.exit_code)
        finally:
            http.close()
        items = response.data.get("items") if isinstance(response.data, dict) else None
        detail = f"HTTP {response.status}"
        if isinstance(items, list):
            detail += f", {len(items)} data source(s) visible"
        if before in self._rejected:
            detail += " (the stored token was rejected and replaced by a refreshed one)"
        return CheckResult(name, True, detail)

    def _check_token_manager(self) -> CheckResult:
        app_id = self.config.service_app.app_id
        name = f"token-manager token: POST /applications/{app_id}/token"
        try:
            with self.store.locked(self._scope) as data:
                self._reconcile_and_save(data)
                self.store.reserve()
                outcome = self._chain.run(data, lambda: self.store.save(data), start_tier=2)
        except ByodsError as exc:
            return CheckResult(name, False, str(exc), exc.exit_code)
        detail = "OK; minted a new service-app token pair (saved to the token store)"
        if outcome.tier == 3:
            detail += " after refreshing the integration token"
        return CheckResult(name, True, detail)
