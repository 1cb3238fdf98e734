"""``Sandbox``: the embedded Webex stand-in, its lifecycle and its test controls."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import ConfigError
from ..fileio import atomic_write_json
from ..tokens.endpoints import APPLICATIONS_TOKEN_SCOPE
from .admin import AdminApi
from .api import WebexApi
from .faults import Fault, FaultPlan
from .protocol import Stats
from .signing import Signer
from .state import (
    INTEGRATION,
    LIFETIME_NAMES,
    PERSONAL_SCOPES,
    SERVICE_APP,
    SERVICE_APP_SCOPES,
    TOKEN_KINDS,
    SandboxState,
    load_state,
)

DEFAULT_SCOPES = {
    SERVICE_APP: SERVICE_APP_SCOPES,
    INTEGRATION: [APPLICATIONS_TOKEN_SCOPE, "spark:kms"],
    "personal": PERSONAL_SCOPES,
}


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(f"the sandbox only listens on loopback addresses, not {host!r}")


class Sandbox:
    """A local Webex API for tests and demos. Loopback only; state in memory or a file.

    >>> with Sandbox() as sandbox:            # doctest: +SKIP
    ...     config = sandbox.write_config(tmp / "token-config.json")
    ...     # BYODS_CONFIG=config WEBEX_API_BASE_URL=sandbox.base_url byods list
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: str | Path | None = None,
        access_token_lifetime: int | None = None,
        integration_token_lifetime: int | None = None,
        personal_token_lifetime: int | None = None,
        refresh_token_lifetime: int | None = None,
        latency_ms: float = 0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        _check_loopback(host)
        self.host = host
        self.requested_port = port
        self.log = log
        self.state = SandboxState() if state_file is None else load_state(Path(state_file))
        self.signer = Signer(self.state.signing_key_pem, self.state.signing_kid)
        with self.state.transaction():
            self.state.signing_key_pem = self.signer.private_pem
            self.state.signing_kid = self.signer.kid
            self.state.ensure_personal_token(time.time())
        # Options given now win over the lifetimes saved in the state file; the rest stay.
        given = {
            "service_app": access_token_lifetime,
            "integration": integration_token_lifetime,
            "personal": personal_token_lifetime,
            "refresh": refresh_token_lifetime,
        }
        overrides = {name: value for name, value in given.items() if value is not None}
        if overrides:
            self.set_lifetimes(**overrides)
        self.stats = Stats()
        self.faults = FaultPlan()
        self.set_latency(latency_ms)
        self.api = WebexApi(self.state, self.signer, self.issuer, self.stats)
        self.admin = AdminApi(self)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Listen and serve on a background thread."""
        from .server import SandboxHttpServer

        if self._server is not None:
            return self
        try:
            self._server = SandboxHttpServer((self.host, self.requested_port), self)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {self.host}:{self.requested_port}: {exc.strerror}"
            ) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="byods-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What ``WEBEX_API_BASE_URL`` should be, e.g. ``http://127.0.0.1:PORT/v1``."""
        return self.origin + "/v1"

    def issuer(self) -> str:
        return self.origin + "/idb"

    def log_request(self, method: str, path: str, status: int) -> None:
        """One line per request; paths only (queries may carry codes), never bodies."""
        if self.log is not None:
            self.log(f"{method} {path} -> {status}")

    # -- the config a newcomer needs --------------------------------------------------------

    def config_data(self) -> dict[str, Any]:
        """A ``token-config.json`` the sandbox accepts, with a fresh integration refresh token."""
        ident = self.state.identity
        now = time.time()
        with self.state.transaction():
            personal = self.state.ensure_personal_token(now)
            refresh = self.state.issue_refresh(INTEGRATION, DEFAULT_SCOPES[INTEGRATION], now)
        return {
            "serviceApp": {
                "appId": ident.app_id,
                "clientId": ident.app_client_id,
                "clientSecret": ident.app_client_secret,
                "targetOrgId": ident.org_id,
            },
            "tokenManager": {
                "personalAccessToken": personal,
                "oauthClientId": ident.integration_client_id,
                "oauthClientSecret": ident.integration_client_secret,
                "oauthRefreshToken": refresh,
            },
        }

    def write_config(self, path: str | Path) -> Path:
        """Write :meth:`config_data` to ``path`` (mode 0600, atomically)."""
        target = Path(path)
        atomic_write_json(target, self.config_data())
        return target

    # -- test controls ----------------------------------------------------------------------

    def issue_access_token(self, kind: str, scopes: list[str] | None = None) -> str:
        """A valid access token of ``kind`` (service_app, integration, personal)."""
        if kind not in TOKEN_KINDS:
            raise ValueError(f"kind must be one of {TOKEN_KINDS}")
        with self.state.transaction():
            chosen = DEFAULT_SCOPES[kind] if scopes is None else scopes
            token, _ = self.state.issue_access(kind, chosen, time.time())
        return token

    def issue_refresh_token(self, kind: str, scopes: list[str] | None = None) -> str:
        """A valid refresh token for the service app or the integration."""
        if kind not in (SERVICE_APP, INTEGRATION):
            raise ValueError("refresh tokens exist for service_app and integration only")
        with self.state.transaction():
            chosen = DEFAULT_SCOPES[kind] if scopes is None else scopes
            refresh = self.state.issue_refresh(kind, chosen, time.time())
        return refresh

    def expire_access_tokens(self, kind: str | None = None) -> int:
        """Make every current access token of ``kind`` (None: all) expired. Returns the count."""
        with self.state.transaction():
            count = self.state.expire_access_tokens(kind, time.time())
        return count

    def revoke_tokens(self, kind: str | None = None, refresh: bool = True) -> int:
        """Revoke access tokens of ``kind`` and, with ``refresh``, its refresh tokens too."""
        with self.state.transaction():
            count = self.state.revoke_tokens(kind, refresh)
        return count

    def set_lifetimes(self, **seconds: int) -> dict[str, int]:
        """Lifetimes (seconds) for tokens issued from now on: service_app, integration,
        personal, refresh."""
        with self.state.transaction():
            for name, value in seconds.items():
                if name not in LIFETIME_NAMES:
                    raise ValueError(f"unknown lifetime {name!r}")
                setattr(self.state.lifetimes, name, int(value))
            return dict(vars(self.state.lifetimes))

    def add_fault(
        self,
        status: int,
        count: int = 1,
        path: str = "",
        method: str | None = None,
        retry_after: float | None = None,
        after: bool = False,
    ) -> None:
        """Answer ``status`` to the next ``count`` API requests under ``path``."""
        self.faults.add(Fault(status, count, path, method, retry_after, after))

    def set_latency(self, ms: float) -> None:
        self.faults.latency_seconds = max(0.0, float(ms)) / 1000.0

    def reset(self, data: bool = False) -> None:
        """Forget faults, latency and counters; with ``data``, data sources and nonces too."""
        self.faults.clear()
        self.stats.clear()
        if data:
            with self.state.transaction():
                self.state.data_sources.clear()
                self.state.used_nonces.clear()

    def stats_snapshot(self) -> dict[str, Any]:
        with self.state.lock:
            tokens = self.state.token_counts(time.time())
            data_sources = len(self.state.data_sources)
        return {
            "requests": self.stats.snapshot(),
            "tokens": tokens,
            "dataSources": data_sources,
            "faultsPending": self.faults.pending(),
        }

    def jwks(self) -> dict[str, Any]:
        return self.signer.jwks()

    def data_sources(self) -> list[dict[str, Any]]:
        return self.state.list_data_sources()
