"""Request bodies for /dataSources, built without I/O.

PUT replaces the whole data source, so every update body is the full set of values:
the current ones, the requested changes, and always a fresh nonce (the nonce becomes
the JWS ``jti``; reusing one is refused by Webex and would defeat replay protection).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .models import DataSource
from .validation import MAX_LIFETIME_MINUTES, MIN_LIFETIME_MINUTES

DEFAULT_LIFETIME_MINUTES = MAX_LIFETIME_MINUTES
STATUS_ACTIVE = "active"
STATUS_DISABLED = "disabled"


def new_nonce() -> str:
    """An unpredictable nonce (about 190 bits, URL-safe)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Changes:
    """What an update changes; ``None`` keeps the current value."""

    url: str | None = None
    schema_id: str | None = None
    audience: str | None = None
    subject: str | None = None
    lifetime_minutes: int | None = None
    status: str | None = None
    error_message: str | None = None

    def as_api(self) -> dict[str, Any]:
        """The changes under their API field names (``None``: unchanged)."""
        return {
            "url": self.url,
            "schemaId": self.schema_id,
            "audience": self.audience,
            "subject": self.subject,
            "tokenLifetimeMinutes": self.lifetime_minutes,
            "status": self.status,
            "errorMessage": self.error_message,
        }


def register_body(
    *,
    url: str,
    schema_id: str,
    audience: str,
    subject: str,
    nonce: str,
    lifetime_minutes: int = DEFAULT_LIFETIME_MINUTES,
) -> dict[str, Any]:
    return {
        "schemaId": schema_id,
        "url": url,
        "audience": audience,
        "subject": subject,
        "nonce": nonce,
        "tokenLifetimeMinutes": lifetime_minutes,
    }


def _current_lifetime(current: DataSource) -> int:
    """The current lifetime; else the JWS's exp - iat; else the 1440-minute default."""
    if current.token_lifetime_minutes:
        return current.token_lifetime_minutes
    claims = current.claims or {}
    issued, expires = claims.get("iat"), claims.get("exp")
    if isinstance(issued, (int, float)) and isinstance(expires, (int, float)):
        minutes = round((expires - issued) / 60)
        if MIN_LIFETIME_MINUTES <= minutes <= MAX_LIFETIME_MINUTES:
            return minutes
    return DEFAULT_LIFETIME_MINUTES


def merged_update_body(current: DataSource, changes: Changes, new_nonce: str) -> dict[str, Any]:
    """The full PUT body: current values, overridden by ``changes``, with ``new_nonce``."""
    requested = changes.as_api()
    fields = {
        name: requested[name] or current.value_or_claim(name)
        for name in ("audience", "subject", "schemaId", "url")
    }
    missing = [name for name, value in fields.items() if not value]
    if missing:
        raise InputError(
            f"data source {current.id} has no {', '.join(missing)} in the API response or its "
            "JWS; give the value explicitly (e.g. `byods update ID --audience ...`)"
        )
    status = (changes.status or current.status or STATUS_ACTIVE).lower()
    body: dict[str, Any] = {
        **fields,
        "tokenLifetimeMinutes": changes.lifetime_minutes or _current_lifetime(current),
        "nonce": new_nonce,
        "status": status,
    }
    if status == STATUS_DISABLED:
        body["errorMessage"] = changes.error_message or current.error_message or "disabled"
    return body


def extend_body(
    current: DataSource, new_nonce: str, lifetime_minutes: int | None = None
) -> dict[str, Any]:
    """Renew the JWS: same values, a fresh nonce, optionally a new lifetime."""
    return merged_update_body(current, Changes(lifetime_minutes=lifetime_minutes), new_nonce)


def disable_body(current: DataSource, reason: str, new_nonce: str) -> dict[str, Any]:
    """Set status ``disabled``; ``reason`` becomes the errorMessage shown in Control Hub."""
    changes = Changes(status=STATUS_DISABLED, error_message=reason)
    return merged_update_body(current, changes, new_nonce)


def enable_body(current: DataSource, new_nonce: str) -> dict[str, Any]:
    """Set status ``active`` (no errorMessage is sent)."""
    return merged_update_body(current, Changes(status=STATUS_ACTIVE), new_nonce)
