"""``Sandbox``: the embedded Webex stand-in, its lifecycle and its test controls."""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import ConfigError
from ..fileio import atomic_write_json
from .admin import AdminApi
from .api import WebexApi
from .faults import Fault, FaultPlan
from .protocol import HttpProblem, Reply, Request, Stats
from .server import SandboxHttpServer
from .signing import KeyRing
from .state import (
    INTEGRATION,
    LIFETIME_NAMES,
    PERSONAL_SCOPES,
    SERVICE_APP,
    SERVICE_APP_SCOPES,
    TOKEN_KINDS,
    Org,
    SandboxState,
    load_state,
)
from .webex import APPLICATIONS_TOKEN_SCOPE, JWKS_PATH
from .webhooks import Deliverer, WebhooksApi

API_PREFIX = "/v1"
ADMIN_PREFIX = "/_sandbox"
ISSUER_PATH = "/idb"

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

    >>> with Sandbox(orgs=3) as sandbox:      # doctest: +SKIP
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
        orgs: int = 1,
        page_size: int = 100,
        admin_token: str | None = None,
    ) -> None:
        _check_loopback(host)
        if orgs < 1 or page_size < 1:
            raise ConfigError("the sandbox needs at least 1 org and a page size of at least 1")
        self.host = host
        self.requested_port = port
        self.log = log
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.state = SandboxState() if state_file is None else load_state(Path(state_file))
        self.keys = KeyRing(self.state.signing_keys)
        with self.state.transaction():
            self.state.ensure_personal_token(time.time())
            while len(self.state.authorized_orgs()) < orgs:
                org = Org(str(uuid.uuid4()))
                self.state.orgs[org.uuid] = org
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
        self.api = WebexApi(self.state, self.keys, self.issuer, self.stats, page_size)
        self.deliverer = Deliverer()
        self.webhooks = WebhooksApi(self.state, self.api.token_record, self.deliverer)
        self.api.add_routes(self.webhooks.routes())
        self.admin = AdminApi(self)
        self._server: SandboxHttpServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Listen and serve on a background thread."""
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
        return self.origin + API_PREFIX

    def issuer(self) -> str:
        """The JWS ``iss``: the JWKS is at ``{iss}/oauth2/v2/keys/verificationjwk``."""
        return self.origin + ISSUER_PATH

    @property
    def jwks_url(self) -> str:
        return self.issuer() + JWKS_PATH

    def log_request(self, method: str, path: str, status: int) -> None:
        """One line per request; paths only (queries may carry codes), never bodies."""
        if self.log is not None:
            self.log(f"{method} {path} -> {status}")

    # -- answering (called by the HTTP server) ----------------------------------------------

    def respond(self, request: Request) -> Reply:
        path = request.path
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            return self.admin.dispatch(request)
        if path == ISSUER_PATH + JWKS_PATH:
            if request.method != "GET":
                raise HttpProblem(405, "Method Not Allowed", headers={"Allow": "GET"})
            return Reply(200, self.jwks())
        if path.startswith(API_PREFIX + "/"):
            inner = dataclasses.replace(
                request, path=path[len(API_PREFIX) :], base_url=self.base_url
            )
            return self._api(inner)
        raise HttpProblem(404, "The requested resource could not be found.")

    def _api(self, request: Request) -> Reply:
        """Count, delay, maybe fail (before or after doing the work), else answer."""
        key, handler, params = self.api.match(request.method, request.path)
        self.stats.bump(key)
        plan = self.faults
        if plan.latency_seconds > 0:
            time.sleep(plan.latency_seconds)
        fault = plan.take(request.method, request.path, after=False)
        if fault is None:
            reply = handler(request, params)
            fault = plan.take(request.method, request.path, after=True)
            if fault is None:
                return reply
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        raise HttpProblem(fault.status, f"Injected fault: HTTP {fault.status}", headers=headers)

    # -- the config a newcomer needs --------------------------------------------------------

    def config_data(self) -> dict[str, Any]:
        """A ``token-config.json`` the sandbox accepts, with a fresh integration refresh token.

        Its ``sandbox`` section holds the admin token for ``/_sandbox/*`` (header
        ``X-Sandbox-Token``) and, once started, the URLs.
        """
        ident = self.state.identity
        now = time.time()
        with self.state.transaction():
            personal = self.state.ensure_personal_token(now)
            refresh = self.state.issue_refresh(INTEGRATION, DEFAULT_SCOPES[INTEGRATION], now)
        org_ids = self.org_ids
        sandbox: dict[str, Any] = {"adminToken": self.admin_token, "orgIds": org_ids}
        if self._server is not None:
            sandbox.update(
                baseUrl=self.base_url, adminUrl=self.origin + ADMIN_PREFIX, jwksUrl=self.jwks_url
            )
        return {
            "serviceApp": {
                "appId": ident.app_id,
                "clientId": ident.app_client_id,
                "clientSecret": ident.app_client_secret,
                "targetOrgId": org_ids[0] if org_ids else ident.org_id,
            },
            "tokenManager": {
                "personalAccessToken": personal,
                "oauthClientId": ident.integration_client_id,
                "oauthClientSecret": ident.integration_client_secret,
                "oauthRefreshToken": refresh,
            },
            "sandbox": sandbox,
        }

    def write_config(self, path: str | Path) -> Path:
        """Write :meth:`config_data` to ``path`` (mode 0600, atomically)."""
        target = Path(path)
        atomic_write_json(target, self.config_data())
        return target

    # -- orgs -------------------------------------------------------------------------------

    @property
    def org_ids(self) -> list[str]:
        """The customer orgs that currently authorize the service app (first: the default)."""
        with self.state.lock:
            return [org.id for org in self.state.authorized_orgs()]

    def orgs_snapshot(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [
                {"orgId": org.id, "uuid": org.uuid, "authorized": org.authorized}
                for org in self.state.orgs.values()
            ]

    def authorize_org(self, org_id: str | None = None) -> str:
        """A new org (or a returning one, by id) authorizes the service app; returns its id.

        Webhooks for ``serviceApp`` ``authorized`` hear about it.
        """
        with self.state.transaction():
            org = self.state.find_org(org_id) if org_id else None
            if org is None:
                org = Org(_org_uuid(org_id) if org_id else str(uuid.uuid4()))
                self.state.orgs[org.uuid] = org
            org.authorized = True
        self.webhooks.announce("authorized", org)
        return org.id

    def deauthorize_org(self, org_id: str) -> None:
        """The org removes the service app: its service-app tokens stop working at once."""
        with self.state.transaction():
            org = self.state.find_org(org_id)
            if org is None:
                raise KeyError(org_id)
            org.authorized = False
            self.state.revoke_tokens(SERVICE_APP, refresh=True, org=org.uuid)
        self.webhooks.announce("deauthorized", org)

    def wait_for_webhooks(self) -> list[dict[str, Any]]:
        """Block until every queued webhook event is delivered; the outcomes so far."""
        self.deliverer.join()
        return list(self.deliverer.outcomes)

    # -- test controls ----------------------------------------------------------------------

    def issue_access_token(
        self, kind: str, scopes: list[str] | None = None, org_id: str | None = None
    ) -> str:
        """A valid access token of ``kind`` (service_app, integration, personal).

        A service-app token belongs to ``org_id`` (default: the first authorized org).
        """
        if kind not in TOKEN_KINDS:
            raise ValueError(f"kind must be one of {TOKEN_KINDS}")
        with self.state.transaction():
            chosen = DEFAULT_SCOPES[kind] if scopes is None else scopes
            org = self._org_uuid_for(kind, org_id)
            token, _ = self.state.issue_access(kind, chosen, time.time(), org)
        return token

    def issue_refresh_token(
        self, kind: str, scopes: list[str] | None = None, org_id: str | None = None
    ) -> str:
        """A valid refresh token for the service app (of ``org_id``) or the integration."""
        if kind not in (SERVICE_APP, INTEGRATION):
            raise ValueError("refresh tokens exist for service_app and integration only")
        with self.state.transaction():
            chosen = DEFAULT_SCOPES[kind] if scopes is None else scopes
            org = self._org_uuid_for(kind, org_id)
            refresh = self.state.issue_refresh(kind, chosen, time.time(), org)
        return refresh

    def _org_uuid_for(self, kind: str, org_id: str | None) -> str:
        if kind != SERVICE_APP:
            return ""
        if org_id is None:
            authorized = self.state.authorized_orgs()
            if not authorized:
                raise ValueError("no org has authorized the service app")
            return authorized[0].uuid
        org = self.state.find_org(org_id)
        if org is None or not org.authorized:
            raise ValueError(f"org {org_id} has not authorized the service app")
        return org.uuid

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

    def add_fault_object(self, fault: Fault) -> int:
        """Queue ``fault``; returns how many faulty answers are now pending."""
        self.faults.add(fault)
        return self.faults.pending()

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_latency(self, ms: float) -> None:
        self.faults.latency_seconds = max(0.0, float(ms)) / 1000.0

    def rotate_signing_key(self, keep_old: bool = True) -> str:
        """Sign with a new key from now on; returns its ``kid``. The old keys stay in the
        JWKS only with ``keep_old`` (tokens signed with them then stop verifying)."""
        with self.state.transaction():
            kid = self.keys.rotate(keep_old)
        return kid

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
            by_org = {
                self.state.orgs[org].id if org in self.state.orgs else org: count
                for org, count in self.stats.org_snapshot().items()
            }
            webhooks = len(self.state.webhooks)
        return {
            "requests": self.stats.snapshot(),
            "requestsByOrg": by_org,
            "tokens": tokens,
            "dataSources": data_sources,
            "faultsPending": self.faults.pending(),
            "webhooks": webhooks,
            "webhookDeliveries": len(self.deliverer.outcomes),
        }

    def extensions(self) -> dict[str, list[dict[str, float]]]:
        """Every PUT per data source since the last reset: when (``at``) and the expiry
        of the token it replaced (``replacedExpiry``), epoch seconds."""
        return self.stats.extensions()

    def jwks(self) -> dict[str, Any]:
        return self.keys.jwks()

    def data_sources(self, org_id: str | None = None) -> list[dict[str, Any]]:
        """Every data source, or those of ``org_id`` (base64 id or uuid)."""
        if org_id is None:
            return self.state.list_data_sources()
        org = self.state.find_org(org_id)
        return [] if org is None else self.state.list_data_sources(org.uuid)


def _org_uuid(org_id: str) -> str:
    """The uuid inside a ``ciscospark://us/ORGANIZATION/<uuid>`` id, or the text itself."""
    try:
        decoded = base64.urlsafe_b64decode(org_id + "=" * (-len(org_id) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return org_id
    prefix = "ciscospark://us/ORGANIZATION/"
    return decoded[len(prefix) :] if decoded.startswith(prefix) else org_id
