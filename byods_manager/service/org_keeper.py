"""One org's keepalive pass: tokens first, then one list, then the extensions that are due.

An idle pass costs one ``GET /dataSources/`` and a few token-store reads. What is
learned (failure counts for backoff, disabled data sources) is kept between passes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import AuthRequiredError, ByodsError
from ..tokens.tiers import iso
from . import alerts
from .alerts import Alert, Alerter
from .logs import EventLog
from .metrics import KeepaliveMetrics
from .orgs import OrgTarget
from .scheduler import BACKOFF_BASE_SECONDS, backoff_delay, renewal_time

if TYPE_CHECKING:
    from ..client import DataSourceClient
    from ..models import DataSource
    from ..tokens.manager import TokenManager

REFRESH_TOKEN_WARNING_SECONDS = 14 * 86400
DATA_SOURCE_WARNING_SECONDS = 3600
INTEGRATION_KEEPALIVE_KEY = "integration"


@dataclass(frozen=True)
class Settings:
    renew_before: float | None = None  # None: a third of each data source's lifetime
    token_renew_before: float | None = None  # None: a third of the access token's lifetime
    backoff: bool = True  # False for --once: every pass tries everything that is due
    backoff_base: float = BACKOFF_BASE_SECONDS  # first wait after a failure, then doubling


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


class OrgKeeper:
    def __init__(
        self,
        target: OrgTarget,
        settings: Settings,
        metrics: KeepaliveMetrics,
        alerter: Alerter,
        log: EventLog,
        stop: threading.Event,
    ) -> None:
        self.target = target
        self.org = target.org_id
        self.settings = settings
        self.metrics = metrics
        self.alerter = alerter
        self.log = log
        self.stop = stop
        self._client: DataSourceClient | None = None
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        self._disabled: dict[str, float | None] = {}
        metrics.add_org(self.org)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def client(self) -> DataSourceClient:
        if self._client is None:
            self._client = self.target.client_factory()
            self._client.http.on_response = self.metrics.observe_response
        return self._client

    def run(self, now: float | None = None) -> OrgReport:
        report = OrgReport(self.org)
        current = time.time() if now is None else now
        tokens = self.target.tokens
        if tokens is not None:
            usable = self._keep_service_app_token(tokens, current, report)
            self._keep_integration(tokens, current, report)
            self._publish_token_expiries(tokens, current)
            if not usable:
                return report
        if not self.stop.is_set():
            self._keep_data_sources(current, report)
        return report

    # -- tokens ------------------------------------------------------------------------

    def _keep_service_app_token(self, tokens: TokenManager, now: float, report: OrgReport) -> bool:
        """Refresh ahead of expiry; True when a usable access token remains."""
        entry = tokens.usable_entry()
        subject = f"{self.org}:service_app"
        if entry is not None and entry.expires_at is not None:
            due = renewal_time(
                entry.expires_at, entry.updated_at, self.settings.token_renew_before, subject
            )
            due = max(due, self._retry_at.get(subject, 0.0))
            if now < due:
                report.due_times.append(due)
                return True
        elif entry is not None:
            return True  # a seed token of unknown expiry: used until Webex rejects it
        if entry is not None and now < self._retry_at.get(subject, 0.0):
            return True
        try:
            outcome = tokens.refresh(force=entry is not None)
        except AuthRequiredError as exc:
            self._token_failed(subject, "auth_required", exc, report, critical=True)
            return entry is not None
        except ByodsError as exc:
            self._token_failed(subject, "failure", exc, report, critical=False)
            return entry is not None
        self._succeeded(subject)
        self.metrics.token_refresh_total.labels(str(outcome.tier), "success").inc()
        self.log.event(
            "token_refreshed", org=self.org, tier=outcome.tier, expires=iso(outcome.expires_at)
        )
        self.alerter.resolve(
            alerts.TOKEN_REFRESH_FAILED,
            subject,
            f"The service-app token of org {self.org} was refreshed again ({outcome.tier_name}).",
        )
        return True

    def _token_failed(
        self, subject: str, outcome: str, exc: ByodsError, report: OrgReport, *, critical: bool
    ) -> None:
        self.metrics.token_refresh_total.labels("all", outcome).inc()
        self._failed(subject, report.due_times)
        first_line = str(exc).splitlines()[0]
        report.failures.append(f"token refresh: {first_line}")
        report.auth_required = report.auth_required or critical
        self.log.event("token_refresh_failed", "error", org=self.org, error=str(exc))
        text = (
            f"Every refresh tier failed for the service-app token of org {self.org}: "
            "a person must run `byods auth setup`."
            if critical
            else f"Refreshing the service-app token of org {self.org} failed: {first_line}"
        )
        severity = alerts.CRITICAL if critical else alerts.WARNING
        self.alerter.fire(subject, Alert(alerts.TOKEN_REFRESH_FAILED, severity, text, org=self.org))

    def _keep_integration(self, tokens: TokenManager, now: float, report: OrgReport) -> None:
        """Use the integration's refresh token well before it could lapse from disuse."""
        entry = tokens.integration_entry()
        if entry is None or not entry.refresh_usable(now):
            return
        subject = f"{self.org}:{INTEGRATION_KEEPALIVE_KEY}"
        if entry.refresh_expires_at is not None and entry.updated_at is not None:
            due = renewal_time(entry.refresh_expires_at, entry.updated_at, None, subject)
            due = max(due, self._retry_at.get(subject, 0.0))
            if now < due:
                report.due_times.append(due)
                return
        elif now < self._retry_at.get(subject, 0.0):
            return
        try:
            response = tokens.refresh_integration()
        except ByodsError as exc:
            self.metrics.token_refresh_total.labels("integration", "failure").inc()
            self._failed(subject, report.due_times)
            report.failures.append(f"integration refresh: {str(exc).splitlines()[0]}")
            self.log.event("integration_refresh_failed", "error", org=self.org, error=str(exc))
            self.alerter.fire(
                subject,
                Alert(
                    alerts.TOKEN_REFRESH_FAILED,
                    alerts.WARNING,
                    f"Refreshing the integration token (tier 3) for org {self.org} failed: "
                    f"{str(exc).splitlines()[0]}",
                    org=self.org,
                ),
            )
            return
        if response is None:
            return
        self._succeeded(subject)
        self.metrics.token_refresh_total.labels("integration", "success").inc()
        self.log.event("integration_refreshed", org=self.org)
        self.alerter.resolve(
            alerts.TOKEN_REFRESH_FAILED,
            subject,
            f"The integration token for org {self.org} was refreshed again.",
        )

    def _publish_token_expiries(self, tokens: TokenManager, now: float) -> None:
        service = tokens.usable_entry()
        integration = tokens.integration_entry()
        values = {
            "service_app_access": service.expires_at if service else None,
            "service_app_refresh": service.refresh_expires_at if service else None,
            "integration_access": integration.expires_at if integration else None,
            "integration_refresh": integration.refresh_expires_at if integration else None,
        }
        for kind, expires_at in values.items():
            if expires_at is not None:
                self.metrics.token_expiry.labels(self.org, kind).set(expires_at)
        for kind in ("service_app_refresh", "integration_refresh"):
            expires_at = values[kind]
            subject = f"{self.org}:{kind}"
            if expires_at is not None and expires_at - now < REFRESH_TOKEN_WARNING_SECONDS:
                who = kind.replace("_refresh", "").replace("_", "-")
                self.alerter.fire(
                    subject,
                    Alert(
                        alerts.REFRESH_TOKEN_EXPIRING,
                        alerts.WARNING,
                        f"The {who} refresh token of org {self.org} expires {iso(expires_at)}.",
                        org=self.org,
                    ),
                )
            elif expires_at is not None:
                self.alerter.resolve(
                    alerts.REFRESH_TOKEN_EXPIRING,
                    subject,
                    f"The {kind.replace('_', ' ')} token of org {self.org} was renewed.",
                )

    # -- data sources ------------------------------------------------------------------

    def _keep_data_sources(self, now: float, report: OrgReport) -> None:
        try:
            sources = self.client().list()
        except AuthRequiredError as exc:
            self._auth_lost("list", exc, report)
            return
        except ByodsError as exc:
            self._failed(f"{self.org}:list", report.due_times)
            report.failures.append(f"list: {exc}")
            self.log.event("list_failed", "error", org=self.org, error=str(exc))
            return
        report.lists += 1
        self._succeeded(f"{self.org}:list")
        expiries = {ds.id: _timestamp(ds) for ds in sources}
        self.metrics.set_data_source_expiries(self.org, expiries)
        for data_source in sources:
            if self.stop.is_set():
                return
            self._keep_data_source(data_source, expiries[data_source.id], now, report)

    def _keep_data_source(
        self, data_source: DataSource, expires_at: float | None, now: float, report: OrgReport
    ) -> None:
        ds_id = data_source.id
        if ds_id in self._disabled and self._disabled[ds_id] == expires_at:
            return  # known disabled, and unchanged since: nothing to renew
        if expires_at is not None:
            claims = data_source.claims or {}
            issued = claims.get("iat")
            issued_at = float(issued) if isinstance(issued, (int, float)) else None
            due = renewal_time(expires_at, issued_at, self.settings.renew_before, ds_id)
            retry_at = self._retry_at.get(ds_id, 0.0)
            if now < max(due, retry_at):
                report.due_times.append(max(due, retry_at))
                if now >= due:
                    self._warn_if_expiring(ds_id, expires_at, now)
                return
        try:
            extended = self.client().extend(ds_id, skip_disabled=True)
        except AuthRequiredError as exc:
            self._auth_lost(f"extend {ds_id}", exc, report)
            return
        except ByodsError as exc:
            self._extend_failed(ds_id, expires_at, exc, now, report)
            return
        if extended.is_disabled:
            self._disabled[ds_id] = expires_at
            self.metrics.extend_total.labels(self.org, "skipped").inc()
            self.log.event("extend_skipped", org=self.org, data_source=ds_id, reason="disabled")
            return
        self._disabled.pop(ds_id, None)
        self._succeeded(ds_id)
        report.extended += 1
        self.metrics.extend_total.labels(self.org, "success").inc()
        new_expiry = _timestamp(extended)
        if new_expiry is not None:
            self.metrics.set_data_source_expiry(self.org, ds_id, new_expiry)
        self.log.event("extended", org=self.org, data_source=ds_id, expires=iso(new_expiry))
        for event in (alerts.EXTEND_FAILED, alerts.DATA_SOURCE_EXPIRING):
            self.alerter.resolve(
                event,
                f"{self.org}:{ds_id}",
                f"Data source {ds_id} of org {self.org} was extended; it expires "
                f"{iso(new_expiry)}.",
            )

    def _auth_lost(self, what: str, exc: AuthRequiredError, report: OrgReport) -> None:
        """Webex refused the token and no other can be had (e.g. a fixed token from the
        environment was rejected): a person must act."""
        first_line = str(exc).splitlines()[0]
        report.auth_required = True
        report.failures.append(f"{what}: {first_line}")
        self.log.event("auth_required", "error", org=self.org, during=what, error=str(exc))
        self.alerter.fire(
            f"{self.org}:service_app",
            Alert(
                alerts.TOKEN_REFRESH_FAILED,
                alerts.CRITICAL,
                f"Webex rejected the service-app token of org {self.org} and no other could "
                f"be obtained: a person must act ({first_line})",
                org=self.org,
            ),
        )

    def _extend_failed(
        self,
        ds_id: str,
        expires_at: float | None,
        exc: ByodsError,
        now: float,
        report: OrgReport,
    ) -> None:
        self.metrics.extend_total.labels(self.org, "failure").inc()
        self._failed(ds_id, report.due_times)
        report.failures.append(f"extend {ds_id}: {exc}")
        self.log.event("extend_failed", "error", org=self.org, data_source=ds_id, error=str(exc))
        self.alerter.fire(
            f"{self.org}:{ds_id}",
            Alert(
                alerts.EXTEND_FAILED,
                alerts.WARNING,
                f"Extending data source {ds_id} of org {self.org} failed: {exc}",
                org=self.org,
                data_source_id=ds_id,
            ),
        )
        if expires_at is not None:
            self._warn_if_expiring(ds_id, expires_at, now)

    def _warn_if_expiring(self, ds_id: str, expires_at: float, now: float) -> None:
        if expires_at - now >= DATA_SOURCE_WARNING_SECONDS:
            return
        self.alerter.fire(
            f"{self.org}:{ds_id}",
            Alert(
                alerts.DATA_SOURCE_EXPIRING,
                alerts.CRITICAL,
                f"Data source {ds_id} of org {self.org} expires {iso(expires_at)} and has "
                "not been renewed: Webex stops sending data then.",
                org=self.org,
                data_source_id=ds_id,
            ),
        )

    # -- backoff bookkeeping -----------------------------------------------------------

    def _failed(self, key: str, due_times: list[float]) -> None:
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        if self.settings.backoff:
            retry_at = time.time() + backoff_delay(failures, self.settings.backoff_base)
            self._retry_at[key] = retry_at
            due_times.append(retry_at)

    def _succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
        self._retry_at.pop(key, None)


def _timestamp(data_source: DataSource) -> float | None:
    expires = data_source.expires_at
    return expires.timestamp() if expires is not None else None
