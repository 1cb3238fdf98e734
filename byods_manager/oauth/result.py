"""What a setup run reports: which tier worked, and token prefixes with their expiries."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..secrets import redact


@dataclass(frozen=True)
class TokenSummary:
    """What may be shown about a token: a prefix and its expiry (epoch seconds)."""

    prefix: str
    expires_at: float | None = None

    @classmethod
    def of(cls, token: str, expires_at: float | None = None) -> TokenSummary:
        return cls(redact(token), expires_at)

    def to_json(self) -> dict[str, Any]:
        return {"prefix": self.prefix, "expiresAt": _iso(self.expires_at)}


@dataclass(frozen=True)
class SetupResult:
    tier: int
    method: str  # existing-token | integration-refresh | browser-flow | personal-token
    config_path: Path
    credential: str  # "integration" or "personal"
    applications_token: TokenSummary
    service_app_token: TokenSummary
    service_app_refresh_token: TokenSummary | None = None
    integration_refresh_token: TokenSummary | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "method": self.method,
            "config": str(self.config_path),
            "credential": self.credential,
            "applicationsToken": self.applications_token.to_json(),
            "integrationRefreshToken": _summary_json(self.integration_refresh_token),
            "serviceAppToken": self.service_app_token.to_json(),
            "serviceAppRefreshToken": _summary_json(self.service_app_refresh_token),
        }


def _summary_json(summary: TokenSummary | None) -> dict[str, Any] | None:
    return summary.to_json() if summary else None


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
