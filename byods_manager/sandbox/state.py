"""Everything the sandbox remembers: identities, tokens, data sources, used nonces.

All access goes through ``SandboxState.lock``. With a state file, every change is saved
atomically (0600: the file holds client secrets, tokens and the signing key).
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
from ..tokens.endpoints import APPLICATIONS_TOKEN_SCOPE

SERVICE_APP = "service_app"
INTEGRATION = "integration"
PERSONAL = "personal"
TOKEN_KINDS = (SERVICE_APP, INTEGRATION, PERSONAL)

SERVICE_APP_SCOPES = ["spark-admin:datasource_read", "spark-admin:datasource_write"]
PERSONAL_SCOPES = ["spark:all", "spark:kms", APPLICATIONS_TOKEN_SCOPE]
STATE_VERSION = 1


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
    """The one org, service app, admin user and integration the sandbox knows."""

    org_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    admin_user_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    app_client_id: str = field(default_factory=lambda: "C" + secrets.token_hex(32))
    app_client_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    integration_client_id: str = field(default_factory=lambda: "C" + secrets.token_hex(32))
    integration_client_secret: str = field(default_factory=lambda: secrets.token_hex(32))

    @property
    def org_id(self) -> str:
        return spark_id("ORGANIZATION", self.org_uuid)

    @property
    def app_id(self) -> str:
        return spark_id("APPLICATION", self.app_client_id)


@dataclass
class AccessToken:
    kind: str
    expires_at: float
    scopes: list[str]
    revoked: bool = False

    def valid(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at


@dataclass
class RefreshToken:
    kind: str
    expires_at: float
    scopes: list[str]
    used: bool = False
    revoked: bool = False

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
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.data_sources: dict[str, dict[str, Any]] = {}
        self.used_nonces: set[str] = set()
        self.personal_token = ""
        self.signing_key_pem: str | None = None
        self.signing_kid: str | None = None

    # -- tokens -------------------------------------------------------------------------

    def issue_access(self, kind: str, scopes: list[str], now: float) -> tuple[str, int]:
        lifetime = self.lifetimes.access(kind)
        token = new_token()
        self.access_tokens[token] = AccessToken(kind, now + lifetime, list(scopes))
        return token, lifetime

    def issue_pair(self, kind: str, scopes: list[str], now: float) -> dict[str, Any]:
        """An OAuth token response (the shape of the Service Apps spec's 200 answer)."""
        access, expires_in = self.issue_access(kind, scopes, now)
        refresh = self.issue_refresh(kind, scopes, now)
        return {
            "access_token": access,
            "expires_in": expires_in,
            "refresh_token": refresh,
            "refresh_token_expires_in": self.lifetimes.refresh,
            "token_type": "Bearer",
        }

    def issue_refresh(self, kind: str, scopes: list[str], now: float) -> str:
        refresh = new_token()
        self.refresh_tokens[refresh] = RefreshToken(
            kind, now + self.lifetimes.refresh, list(scopes)
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

    def revoke_tokens(self, kind: str | None, refresh: bool) -> int:
        count = 0
        for record in self.access_tokens.values():
            if (kind is None or record.kind == kind) and not record.revoked:
                record.revoked = True
                count += 1
        if refresh:
            for grant in self.refresh_tokens.values():
                if (kind is None or grant.kind == kind) and not grant.revoked:
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

    def list_data_sources(self) -> list[dict[str, Any]]:
        """Copies of every data source, safe to hand out."""
        with self.lock:
            return [dict(ds) for ds in self.data_sources.values()]

    # -- persistence --------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "identity": asdict(self.identity),
            "lifetimes": asdict(self.lifetimes),
            "accessTokens": {k: asdict(v) for k, v in self.access_tokens.items()},
            "refreshTokens": {k: asdict(v) for k, v in self.refresh_tokens.items()},
            "dataSources": self.data_sources,
            "usedNonces": sorted(self.used_nonces),
            "personalToken": self.personal_token,
            "signingKey": {"pem": self.signing_key_pem, "kid": self.signing_kid},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], state_file: Path | None = None) -> SandboxState:
        state = cls(
            Identity(**data["identity"]), Lifetimes(**data["lifetimes"]), state_file=state_file
        )
        state.access_tokens = {k: AccessToken(**v) for k, v in data.get("accessTokens", {}).items()}
        state.refresh_tokens = {
            k: RefreshToken(**v) for k, v in data.get("refreshTokens", {}).items()
        }
        state.data_sources = dict(data.get("dataSources", {}))
        state.used_nonces = set(data.get("usedNonces", []))
        state.personal_token = str(data.get("personalToken", ""))
        key = data.get("signingKey") or {}
        state.signing_key_pem = key.get("pem")
        state.signing_kid = key.get("kid")
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


def load_state(state_file: Path) -> SandboxState:
    """The saved state if the file exists, else a fresh one that will be saved there."""
    if state_file.exists():
        data = read_json(state_file, what="sandbox state file")
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ConfigError(f"{state_file} is not a byods sandbox state file (version 1)")
        try:
            state = SandboxState.from_json(data, state_file)
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"sandbox state file {state_file} is damaged: {exc}") from None
        return state
    return SandboxState(state_file=state_file)
