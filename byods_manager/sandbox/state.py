"""Everything the sandbox remembers: identities, orgs, tokens, data sources, nonces, webhooks.

All access goes through ``SandboxState.lock``. With a state file, every change is saved
atomically (0600: the file holds client secrets, tokens and the signing keys).
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..fileio import atomic_write_json, read_json
from ..jws import b64url_encode
from .webex import APPLICATIONS_TOKEN_SCOPE, DATASOURCE_SCOPES

SERVICE_APP = "service_app"
INTEGRATION = "integration"
PERSONAL = "personal"
TOKEN_KINDS = (SERVICE_APP, INTEGRATION, PERSONAL)

SERVICE_APP_SCOPES = list(DATASOURCE_SCOPES)
PERSONAL_SCOPES = ["spark:all", "spark:kms", APPLICATIONS_TOKEN_SCOPE]
STATE_VERSION = 2
READABLE_VERSIONS = (1, 2)


def spark_id(kind: str, raw: str) -> str:
    """The base64 ``ciscospark://us/KIND/raw`` form Webex uses for public ids."""
    return b64url_encode(f"ciscospark://us/{kind}/{raw}".encode())


def new_token() -> str:
    return secrets.token_urlsafe(48)


@dataclass
class Lifetimes:
    """Seconds. Defaults follow Webex: 14 days, 12 h personal tokens, 90-day refresh."""

    service_app: int = 14 * 86400
    integration: int = 14 * 86400
    personal: int = 12 * 3600
    refresh: int = 90 * 86400

    def access(self, kind: str) -> int:
        return int(getattr(self, kind))


LIFETIME_NAMES = tuple(item.name for item in fields(Lifetimes))


@dataclass
class Identity:
    """The developer (own org, admin user, service app, integration) and the first customer.

    ``org_uuid`` is the first customer org that authorized the service app (the default
    ``targetOrgId``); ``developer_org_uuid`` is the org that owns the apps and webhooks.
    """

    org_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    admin_user_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    app_client_id: str = field(default_factory=lambda: "C" + secrets.token_hex(32))
    app_client_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    integration_client_id: str = field(default_factory=lambda: "C" + secrets.token_hex(32))
    integration_client_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    developer_org_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def org_id(self) -> str:
        return spark_id("ORGANIZATION", self.org_uuid)

    @property
    def app_id(self) -> str:
        return spark_id("APPLICATION", self.app_client_id)

    @property
    def developer_org_id(self) -> str:
        return spark_id("ORGANIZATION", self.developer_org_uuid)

    @property
    def admin_user_id(self) -> str:
        return spark_id("PEOPLE", self.admin_user_uuid)


@dataclass
class Org:
    """A customer org; ``authorized`` while its full admin allows the service app."""

    uuid: str
    authorized: bool = True

    @property
    def id(self) -> str:
        return spark_id("ORGANIZATION", self.uuid)


@dataclass
class AccessToken:
    kind: str
    expires_at: float
    scopes: list[str]
    revoked: bool = False
    org: str = ""  # the customer org uuid of a service-app token

    def valid(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at


@dataclass
class RefreshToken:
    kind: str
    expires_at: float
    scopes: list[str]
    used: bool = False
    revoked: bool = False
    org: str = ""

    def valid(self, now: float) -> bool:
        return not (self.used or self.revoked) and now < self.expires_at


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    expires_at: float
    used: bool = False


class SandboxState:
    def __init__(
        self,
        identity: Identity | None = None,
        lifetimes: Lifetimes | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.identity = identity or Identity()
        self.lifetimes = lifetimes or Lifetimes()
        self.state_file = state_file
        self.orgs: dict[str, Org] = {self.identity.org_uuid: Org(self.identity.org_uuid)}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.data_sources: dict[str, dict[str, Any]] = {}
        self.used_nonces: dict[str, set[str]] = {}  # org uuid -> every nonce it ever sent
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.personal_token = ""
        self.signing_keys: list[dict[str, Any]] = []  # {"pem", "kid", "published"}, newest last

    # -- orgs ---------------------------------------------------------------------------

    def find_org(self, org_id: str) -> Org | None:
        """The org with this base64 id or uuid."""
        for org in self.orgs.values():
            if org_id in (org.id, org.uuid):
                return org
        return None

    def authorized_orgs(self) -> list[Org]:
        return [org for org in self.orgs.values() if org.authorized]

    def org_is_authorized(self, org_uuid: str) -> bool:
        org = self.orgs.get(org_uuid)
        return org is not None and org.authorized

    def nonces_of(self, org_uuid: str) -> set[str]:
        return self.used_nonces.setdefault(org_uuid, set())

    # -- tokens -------------------------------------------------------------------------

    def issue_access(
        self, kind: str, scopes: list[str], now: float, org: str = ""
    ) -> tuple[str, int]:
        lifetime = self.lifetimes.access(kind)
        token = new_token()
        self.access_tokens[token] = AccessToken(kind, now + lifetime, list(scopes), org=org)
        return token, lifetime

    def issue_pair(self, kind: str, scopes: list[str], now: float, org: str = "") -> dict[str, Any]:
        """An OAuth token response (the shape of the Service Apps spec's 200 answer)."""
        access, expires_in = self.issue_access(kind, scopes, now, org)
        refresh = self.issue_refresh(kind, scopes, now, org)
        return {
            "access_token": access,
            "expires_in": expires_in,
            "refresh_token": refresh,
            "refresh_token_expires_in": self.lifetimes.refresh,
            "token_type": "Bearer",
        }

    def issue_refresh(self, kind: str, scopes: list[str], now: float, org: str = "") -> str:
        refresh = new_token()
        self.refresh_tokens[refresh] = RefreshToken(
            kind, now + self.lifetimes.refresh, list(scopes), org=org
        )
        return refresh

    def ensure_personal_token(self, now: float) -> str:
        """The current personal access token, issuing a new one if it is no longer valid."""
        record = self.access_tokens.get(self.personal_token)
        if record is None or not record.valid(now):
            self.personal_token, _ = self.issue_access(PERSONAL, PERSONAL_SCOPES, now)
        return self.personal_token

    def expire_access_tokens(self, kind: str | None, now: float) -> int:
        count = 0
        for record in self.access_tokens.values():
            if (kind is None or record.kind == kind) and record.valid(now):
                record.expires_at = now - 1
                count += 1
        return count

    def revoke_tokens(self, kind: str | None, refresh: bool, org: str | None = None) -> int:
        """Revoke access (and with ``refresh``, refresh) tokens of ``kind`` and ``org``."""
        count = 0
        for record in self.access_tokens.values():
            if _selected(record.kind, record.org, kind, org) and not record.revoked:
                record.revoked = True
                count += 1
        if refresh:
            for grant in self.refresh_tokens.values():
                if _selected(grant.kind, grant.org, kind, org) and not grant.revoked:
                    grant.revoked = True
                    count += 1
        return count

    def token_counts(self, now: float) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for kind in TOKEN_KINDS:
            counts[kind] = {
                "issued": sum(1 for r in self.access_tokens.values() if r.kind == kind),
                "valid": sum(
                    1 for r in self.access_tokens.values() if r.kind == kind and r.valid(now)
                ),
            }
        return counts

    # -- data sources -------------------------------------------------------------------

    def list_data_sources(self, org_uuid: str | None = None) -> list[dict[str, Any]]:
        """Copies of the data sources (of one org, or all), safe to hand out."""
        with self.lock:
            return [
                dict(ds)
                for ds in self.data_sources.values()
                if org_uuid is None or ds["orgId"] == org_uuid
            ]

    # -- persistence --------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "identity": asdict(self.identity),
            "lifetimes": asdict(self.lifetimes),
            "orgs": [asdict(org) for org in self.orgs.values()],
            "accessTokens": {k: asdict(v) for k, v in self.access_tokens.items()},
            "refreshTokens": {k: asdict(v) for k, v in self.refresh_tokens.items()},
            "dataSources": self.data_sources,
            "usedNonces": {org: sorted(nonces) for org, nonces in self.used_nonces.items()},
            "webhooks": self.webhooks,
            "personalToken": self.personal_token,
            "signingKeys": self.signing_keys,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], state_file: Path | None = None) -> SandboxState:
        state = cls(
            Identity(**data["identity"]), Lifetimes(**data["lifetimes"]), state_file=state_file
        )
        default_org = state.identity.org_uuid
        if "orgs" in data:
            state.orgs = {item["uuid"]: Org(**item) for item in data["orgs"]}
        state.access_tokens = {k: AccessToken(**v) for k, v in data.get("accessTokens", {}).items()}
        state.refresh_tokens = {
            k: RefreshToken(**v) for k, v in data.get("refreshTokens", {}).items()
        }
        records: list[AccessToken | RefreshToken] = [
            *state.access_tokens.values(),
            *state.refresh_tokens.values(),
        ]
        for record in records:
            if record.kind == SERVICE_APP and not record.org:
                record.org = default_org  # version 1 knew one org
        state.data_sources = dict(data.get("dataSources", {}))
        nonces = data.get("usedNonces", {})
        if isinstance(nonces, list):  # version 1: one org
            nonces = {default_org: nonces}
        state.used_nonces = {org: set(values) for org, values in nonces.items()}
        state.webhooks = dict(data.get("webhooks", {}))
        state.personal_token = str(data.get("personalToken", ""))
        if "signingKeys" in data:
            state.signing_keys = list(data["signingKeys"])
        elif (data.get("signingKey") or {}).get("pem"):
            old = data["signingKey"]
            state.signing_keys = [{"pem": old["pem"], "kid": old["kid"], "published": True}]
        return state

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock while the block changes the state; save if it finishes normally."""
        with self.lock:
            yield
            self.save()

    def save(self) -> None:
        """Write the state file, if there is one (callers hold the lock)."""
        if self.state_file is not None:
            atomic_write_json(self.state_file, self.to_json())


def _selected(kind: str, org: str, wanted_kind: str | None, wanted_org: str | None) -> bool:
    return (wanted_kind is None or kind == wanted_kind) and (
        wanted_org is None or org == wanted_org
    )


def load_state(state_file: Path) -> SandboxState:
    """The saved state if the file exists, else a fresh one that will be saved there."""
    if state_file.exists():
        data = read_json(state_file, what="sandbox state file")
        if not isinstance(data, dict) or data.get("version") not in READABLE_VERSIONS:
            raise ConfigError(
                f"{state_file} is not a byods sandbox state file (version {STATE_VERSION})"
            )
        try:
            state = SandboxState.from_json(data, state_file)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"sandbox state file {state_file} is damaged: {exc}") from None
        return state
    return SandboxState(state_file=state_file)
