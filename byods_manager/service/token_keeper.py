"""One org's tokens: refresh the service-app token ahead of expiry, keep the integration's
refresh token in use, publish every expiry, warn before a refresh token runs out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import AuthRequiredError, ByodsError
from ..tokens.config import fingerprint
from ..tokens.tiers import iso
from . import alerts
from .alerts import Alert
from .cycle import OrgReport, RetryBook, Settings, Sinks, first_line
from .scheduler import renewal_time

if TYPE_CHECKING:
    from ..tokens.manager import TokenManager

REFRESH_TOKEN_WARNING_SECONDS = 14 * 86400


class TokenKeeper:
    def __init__(
        self,
        org: str,
        tokens: TokenManager,
        settings: Settings,
        sinks: Sinks,
        retries: RetryBook,
    ) -> None:
        self.org = org
        self.tokens = tokens
        self.settings = settings
        self.sinks = sinks
        self.retries = retries
        self.service_subject = f"{org}:service_app"
        self.integration_subject = f"{org}:integration"

    def run(self, now: float, report: OrgReport) -> bool:
        """One pass; True when a usable service-app access token remains."""
        usable = self._keep_service_app_token(now, report)
        self._keep_integration(now, report)
        self._publish_expiries(now)
        return usable

    def _keep_service_app_token(self, now: float, report: OrgReport) -> bool:
        entry = self.tokens.usable_entry()
        subject = self.service_subject
        if entry is not None:
            if entry.expires_at is None:
                return True  # a seed token of unknown expiry: used until Webex rejects it
            due = renewal_time(
                entry.expires_at, entry.updated_at, self.settings.token_renew_before, subject
            )
            due = max(due, self.retries.retry_at(subject))
            if now < due:
                report.due_times.append(due)
                return True
        elif now < self.retries.retry_at(subject):
            # No usable token and the last refresh failed: wait for the backoff instead of
            # asking the token endpoints again every cycle (no request storm for an org
            # whose authorization is gone). The alert sent then still stands.
            retry_at = self.retries.retry_at(subject)
            report.due_times.append(retry_at)
            report.failures.append(f"token refresh: no usable token; next attempt {iso(retry_at)}")
            return False
        try:
            outcome = self.tokens.refresh(force=entry is not None)
        except AuthRequiredError as exc:
            self._refresh_failed("auth_required", exc, report, critical=True)
            return entry is not None
        except ByodsError as exc:
            self._refresh_failed("failure", exc, report, critical=False)
            return entry is not None
        self.retries.succeeded(subject)
        self.sinks.metrics.token_refresh_total.labels(str(outcome.tier), "success").inc()
        self.sinks.log.event(
            "token_refreshed", org=self.org, tier=outcome.tier, expires=iso(outcome.expires_at)
        )
        self.sinks.alerter.resolve(
            alerts.TOKEN_REFRESH_FAILED,
            subject,
            f"The service-app token of org {self.org} was refreshed again ({outcome.tier_name}).",
        )
        return True

    def _refresh_failed(
        self, outcome: str, exc: ByodsError, report: OrgReport, *, critical: bool
    ) -> None:
        self.sinks.metrics.token_refresh_total.labels("all", outcome).inc()
        self.retries.failed(self.service_subject, report)
        report.failures.append(f"token refresh: {first_line(exc)}")
        report.auth_required = report.auth_required or critical
        self.sinks.log.event("token_refresh_failed", "error", org=self.org, error=str(exc))
        text = (
            f"Every refresh tier failed for the service-app token of org {self.org}: "
            "a person must run `byods auth setup`."
            if critical
            else f"Refreshing the service-app token of org {self.org} failed: {first_line(exc)}"
        )
        severity = alerts.CRITICAL if critical else alerts.WARNING
        self.sinks.alerter.fire(
            self.service_subject, Alert(alerts.TOKEN_REFRESH_FAILED, severity, text, org=self.org)
        )

    def _keep_integration(self, now: float, report: OrgReport) -> None:
        """Rotate the integration's refresh token in the last third of its lifetime (or at
        once when its expiry is unknown), well before it could lapse from disuse."""
        entry = self.tokens.integration_entry()
        if entry is None or not entry.refresh_usable(now):
            return
        subject = self.integration_subject
        due = self.retries.retry_at(subject)
        if entry.refresh_expires_at is not None and entry.updated_at is not None:
            due = max(due, renewal_time(entry.refresh_expires_at, entry.updated_at, None, subject))
        if now < due:
            report.due_times.append(due)
            return
        seen = fingerprint(entry.refresh_token)
        try:
            response = self.tokens.refresh_integration(seen)
        except ByodsError as exc:
            self.sinks.metrics.token_refresh_total.labels("integration", "failure").inc()
            self.retries.failed(subject, report)
            report.failures.append(f"integration refresh: {first_line(exc)}")
            self.sinks.log.event(
                "integration_refresh_failed", "error", org=self.org, error=str(exc)
            )
            self.sinks.alerter.fire(
                subject,
                Alert(
                    alerts.TOKEN_REFRESH_FAILED,
                    alerts.WARNING,
                    f"Refreshing the integration token (tier 3) for org {self.org} failed: "
                    f"{first_line(exc)}",
                    org=self.org,
                ),
            )
            return
        if response is None:
            self._integration_not_rotated(seen)
            return
        self.retries.succeeded(subject)
        self.sinks.metrics.token_refresh_total.labels("integration", "success").inc()
        self.sinks.log.event("integration_refreshed", org=self.org)
        self.sinks.alerter.resolve(
            alerts.TOKEN_REFRESH_FAILED,
            subject,
            f"The integration token for org {self.org} was refreshed again.",
        )

    def _integration_not_rotated(self, seen: str | None) -> None:
        """Nothing was sent: say so when another worker (an org's pass, a replica)
        rotated the shared integration between our read and our turn at its lock."""
        entry = self.tokens.integration_entry()
        if entry is not None and fingerprint(entry.refresh_token) != seen:
            self.retries.succeeded(self.integration_subject)
            self.sinks.log.event(
                "integration_refresh_skipped", org=self.org, reason="already_refreshed"
            )

    def _publish_expiries(self, now: float) -> None:
        service = self.tokens.usable_entry()
        integration = self.tokens.integration_entry()
        values = {
            "service_app_access": service.expires_at if service else None,
            "service_app_refresh": service.refresh_expires_at if service else None,
            "integration_access": integration.expires_at if integration else None,
            "integration_refresh": integration.refresh_expires_at if integration else None,
        }
        for kind, expires_at in values.items():
            if expires_at is not None:
                self.sinks.metrics.token_expiry.labels(self.org, kind).set(expires_at)
        for kind, who in (
            ("service_app_refresh", "service-app"),
            ("integration_refresh", "integration"),
        ):
            expires_at = values[kind]
            if expires_at is None:
                continue
            subject = f"{self.org}:{kind}"
            if expires_at - now < REFRESH_TOKEN_WARNING_SECONDS:
                self.sinks.alerter.fire(
                    subject,
                    Alert(
                        alerts.REFRESH_TOKEN_EXPIRING,
                        alerts.WARNING,
                        f"The {who} refresh token of org {self.org} expires {iso(expires_at)}.",
                        org=self.org,
                    ),
                )
            else:
                self.sinks.alerter.resolve(
                    alerts.REFRESH_TOKEN_EXPIRING,
                    subject,
                    f"The {who} refresh token of org {self.org} was renewed; it expires "
                    f"{iso(expires_at)}.",
                )
