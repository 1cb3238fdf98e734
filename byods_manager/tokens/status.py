"""What `byods token status` shows: each tier's credential, its prefix and expiry, warnings.

Built from the config and a read-only, reconciled copy of the store: looking never writes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, NamedTuple

from ..secrets import redact
from .config import ProfileConfig
from .store import StoreData, TokenEntry
from .tiers import TIER_NAMES, iso, token_manager_bearer

WARN_DAYS = 14
DAY = 86400.0


def relative(when: float | None, now: float | None = None) -> str:
    """'in 13d 4h', '2h 5m ago', 'unknown'."""
    if when is None:
        return "unknown"
    delta = when - (time.time() if now is None else now)
    seconds = abs(int(delta))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days}d {hours}h"
    elif hours:
        text = f"{hours}h {minutes}m"
    else:
        text = f"{minutes}m"
    return f"in {text}" if delta >= 0 else f"{text} ago"


class TierStatus:
    """One tier's credential as `token status` shows it (a prefix, never the secret).

    A plain class (and the records below NamedTuples) rather than dataclasses: this module
    is on the start-up path of `byods token status`, where each dataclass costs about half
    a millisecond to define.
    """

    def __init__(
        self,
        tier: int,
        credential: str,
        present: bool,
        prefix: str | None = None,
        *,
        expires_at: float | None = None,
        refresh_expires_at: float | None = None,
        source: str | None = None,
        note: str | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.tier = tier
        self.credential = credential
        self.present = present
        self.prefix = prefix
        self.expires_at = expires_at
        self.refresh_expires_at = refresh_expires_at
        self.source = source
        self.note = note
        self.warnings = warnings or []

    @property
    def name(self) -> str:
        return TIER_NAMES[self.tier]

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "name": self.name,
            "credential": self.credential,
            "present": self.present,
            "prefix": self.prefix,
            "expiresAt": iso(self.expires_at),
            "expiresIn": relative(self.expires_at) if self.expires_at else None,
            "refreshExpiresAt": iso(self.refresh_expires_at),
            "refreshExpiresIn": (
                relative(self.refresh_expires_at) if self.refresh_expires_at else None
            ),
            "source": self.source,
            "note": self.note,
            "warnings": list(self.warnings),
        }


class TokenStatus(NamedTuple):
    """Everything `token status` shows for one profile."""

    config_path: Path
    profile: str | None
    store_path: Path | str
    app_id: str
    target_org_id: str
    threshold_seconds: float
    tiers: list[TierStatus]
    env_bypass: bool = False

    @property
    def warnings(self) -> list[str]:
        return [w for tier in self.tiers for w in tier.warnings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": str(self.config_path),
            "profile": self.profile,
            "store": str(self.store_path),
            "appId": self.app_id,
            "targetOrgId": self.target_org_id,
            "refreshThresholdSeconds": self.threshold_seconds,
            "envTokenBypass": self.env_bypass,
            "tiers": [tier.to_dict() for tier in self.tiers],
            "warnings": self.warnings,
        }


class CheckResult(NamedTuple):
    """The outcome of one `token status --check` probe."""

    name: str
    ok: bool
    detail: str
    exit_code: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def _expiry_warnings(label: str, when: float | None, now: float, fallback: str) -> list[str]:
    if when is None:
        return []
    if when <= now:
        return [f"{label} expired {relative(when, now)}; {fallback}"]
    if when - now < WARN_DAYS * DAY:
        return [f"{label} expires {relative(when, now)} (under {WARN_DAYS} days); {fallback}"]
    return []


def build_status(
    config: ProfileConfig,
    data: StoreData,
    *,
    store_path: Path | str,
    threshold: float,
    env_bypass: bool = False,
    now: float | None = None,
) -> TokenStatus:
    current = time.time() if now is None else now
    service = config.service_app
    manager = config.token_manager
    entry = data.service_apps.get(service.store_key) or TokenEntry()
    integration = (
        data.integrations.get(manager.oauth_client_id) if manager.oauth_client_id else None
    ) or TokenEntry()
    has_tier2 = bool(manager.personal_access_token or manager.has_integration)
    later = (
        "tier 2 (Applications API) takes over after that"
        if has_tier2
        else "configure a token-manager token before then (`byods auth setup`)"
    )

    access = TierStatus(
        0,
        "service-app access token",
        bool(entry.access_token),
        redact(entry.access_token) if entry.access_token else None,
        expires_at=entry.expires_at,
        source=entry.source,
    )
    if entry.access_token and entry.expires_at is None:
        access.note = "expiry unknown (taken from the config); used until Webex rejects it"
    elif entry.access_token and not entry.access_valid(threshold, current):
        expired = entry.expires_at is not None and entry.expires_at <= current
        access.note = (
            "expired; the next command refreshes it"
            if expired
            else "within the refresh threshold; the next command refreshes it"
        )

    refresh = TierStatus(
        1,
        "service-app refresh token",
        bool(entry.refresh_token),
        redact(entry.refresh_token) if entry.refresh_token else None,
        refresh_expires_at=entry.refresh_expires_at,
        source=entry.source,
        warnings=_expiry_warnings(
            "the service-app refresh token", entry.refresh_expires_at, current, later
        ),
    )

    pat = manager.personal_access_token
    mint = TierStatus(
        2,
        "token-manager token (personal access token or integration access token)",
        bool(pat or integration.access_token),
    )
    bearer = token_manager_bearer(config, data, threshold, current)
    if bearer is not None and bearer[0] == pat:
        mint.prefix = redact(pat)
        mint.source = "personalAccessToken (config)"
        mint.note = "personal access tokens last 12 hours; expiry is not recorded"
    elif bearer is not None:
        mint.prefix = redact(bearer[0])
        mint.expires_at = integration.expires_at
        mint.source = "integration (store)"
    elif integration.access_token:
        mint.prefix = redact(integration.access_token)
        mint.expires_at = integration.expires_at
        mint.source = "integration (store)"
        mint.note = "expired; tier 3 refreshes it when needed"

    oauth = TierStatus(
        3,
        "integration OAuth credentials",
        manager.has_integration and bool(integration.refresh_token),
        redact(integration.refresh_token) if integration.refresh_token else None,
        refresh_expires_at=integration.refresh_expires_at,
        source=integration.source,
        warnings=_expiry_warnings(
            "the integration refresh token",
            integration.refresh_expires_at,
            current,
            "re-authorize with `byods auth setup` before then",
        ),
    )
    if not manager.has_integration:
        oauth.note = "not configured (oauthClientId/oauthClientSecret)"
        oauth.warnings = []
    elif not integration.refresh_token:
        oauth.note = "integration configured but no refresh token: run `byods auth setup`"

    return TokenStatus(
        config_path=config.path,
        profile=config.profile,
        store_path=store_path,
        app_id=service.app_id,
        target_org_id=service.target_org_id,
        threshold_seconds=threshold,
        tiers=[access, refresh, mint, oauth],
        env_bypass=env_bypass,
    )
