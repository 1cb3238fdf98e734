"""What one org's pass shares: its settings, its report, the sinks it feeds, its retry book."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .alerts import Alerter
from .logs import EventLog
from .metrics import KeepaliveMetrics
from .scheduler import BACKOFF_BASE_SECONDS, retry_delay


@dataclass(frozen=True)
class Settings:
    renew_before: float | None = None  # None: a third of each data source's lifetime
    token_renew_before: float | None = None  # None: a third of the access token's lifetime
    backoff: bool = True  # False for --once: every pass tries everything that is due
    backoff_base: float = BACKOFF_BASE_SECONDS  # first wait after a failure, then doubling


@dataclass(frozen=True)
class Sinks:
    """Where a pass reports: metrics, alerts and the event log."""

    metrics: KeepaliveMetrics
    alerter: Alerter
    log: EventLog


@dataclass
class OrgReport:
    org: str
    failures: list[str] = field(default_factory=list)
    auth_required: bool = False
    due_times: list[float] = field(default_factory=list)
    lists: int = 0
    extended: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures and not self.auth_required


class RetryBook:
    """Consecutive failures per key (a data source, a token) and when to try again."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}

    def retry_at(self, key: str) -> float:
        """When ``key`` may be tried again (0 when it has not failed)."""
        return self._retry_at.get(key, 0.0)

    def failed(self, key: str, report: OrgReport, expires_at: float | None = None) -> None:
        """Count a failure and schedule the retry (sooner when ``expires_at`` is near)."""
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        if self.settings.backoff:
            now = time.time()
            time_left = None if expires_at is None else max(0.0, expires_at - now)
            retry_at = now + retry_delay(failures, self.settings.backoff_base, time_left)
            self._retry_at[key] = retry_at
            report.due_times.append(retry_at)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
        self._retry_at.pop(key, None)

    def forget(self, keys: set[str]) -> None:
        for key in keys:
            self.succeeded(key)


def first_line(error: BaseException) -> str:
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__
