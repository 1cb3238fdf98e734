"""Extend every data source of an org, continuing past individual failures.

Disabled data sources are skipped: Webex sends them no data, and `byods enable`
renews their JWS anyway (it sends a fresh nonce). Webex's list items carry no
status, so "disabled" is usually learned from the GET that extending starts with,
and then no PUT follows. A data source whose expiry cannot be read from its JWS is
extended whatever the window, because not knowing is riskier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .client import DataSourceClient
from .errors import AuthRequiredError, ByodsError
from .models import DataSource

EXTENDED = "extended"
SKIPPED = "skipped"
FAILED = "failed"


@dataclass
class ItemResult:
    data_source_id: str
    outcome: str
    detail: str = ""
    expires_at: datetime | None = None
    tracking_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.data_source_id,
            "outcome": self.outcome,
            "detail": self.detail,
            "expiresAt": self.expires_at.isoformat() if self.expires_at else None,
            "trackingId": self.tracking_id,
        }


@dataclass
class BulkResult:
    results: list[ItemResult] = field(default_factory=list)

    def _with(self, outcome: str) -> list[ItemResult]:
        return [r for r in self.results if r.outcome == outcome]

    @property
    def extended(self) -> list[ItemResult]:
        return self._with(EXTENDED)

    @property
    def skipped(self) -> list[ItemResult]:
        return self._with(SKIPPED)

    @property
    def failed(self) -> list[ItemResult]:
        return self._with(FAILED)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"{len(self.extended)} extended, {len(self.skipped)} skipped, {len(self.failed)} failed"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "results": [r.to_dict() for r in self.results],
            "summary": {
                "extended": len(self.extended),
                "skipped": len(self.skipped),
                "failed": len(self.failed),
            },
        }


def skip_reason(data_source: DataSource, within: timedelta | None, now: datetime) -> str | None:
    """Why ``data_source`` needs no extension now, or None when it should be extended.

    A list item without a status is not known to be disabled here; see :func:`extend_all`.
    """
    if data_source.is_disabled:
        return "disabled"
    expires = data_source.expires_at
    if within is not None and expires is not None and expires - now > within:
        return f"expires {expires.isoformat()}, beyond the window"
    return None


def extend_all(
    client: DataSourceClient,
    within: timedelta | None = None,
    lifetime_minutes: int | None = None,
    on_result: Callable[[ItemResult], None] | None = None,
    now: datetime | None = None,
) -> BulkResult:
    """Extend each data source (only those expiring within ``within`` when given).

    A failure on one data source is recorded and the rest are still tried; only an
    authentication failure stops the run, since every later request would fail too.
    """
    current_time = now or datetime.now(timezone.utc)
    result = BulkResult()
    for data_source in client.list():
        reason = skip_reason(data_source, within, current_time)
        if reason is not None:
            item = ItemResult(data_source.id, SKIPPED, reason, data_source.expires_at)
        else:
            try:
                extended = client.extend(data_source.id, lifetime_minutes, skip_disabled=True)
            except AuthRequiredError:
                raise
            except ByodsError as exc:
                item = ItemResult(
                    data_source.id, FAILED, str(exc), tracking_id=getattr(exc, "tracking_id", None)
                )
            else:
                outcome, detail = (SKIPPED, "disabled") if extended.is_disabled else (EXTENDED, "")
                item = ItemResult(data_source.id, outcome, detail, extended.expires_at)
        result.results.append(item)
        if on_result is not None:
            on_result(item)
    return result
