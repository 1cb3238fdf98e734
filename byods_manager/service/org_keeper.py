"""One org's keepalive pass: tokens first, then one list, then the extensions that are due.

An idle pass costs one ``GET /dataSources/`` and a few token-store reads. What is
learned (failure counts for backoff, disabled data sources) is kept between passes.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from ..client import WriteCancelled
from ..errors import AuthRequiredError, ByodsError
from ..tokens.tiers import iso
from . import alerts
from .alerts import Alert
from .cycle import OrgReport, RetryBook, Settings, Sinks, first_line
from .orgs import OrgTarget
from .scheduler import renewal_time
from .token_keeper import TokenKeeper

if TYPE_CHECKING:
    from ..client import DataSourceClient
    from ..models import DataSource

DATA_SOURCE_WARNING_SECONDS = 3600


class OrgKeeper:
    def __init__(
        self, target: OrgTarget, settings: Settings, sinks: Sinks, stop: threading.Event
    ) -> None:
        self.target = target
        self.org = target.org_id
        self.settings = settings
        self.sinks = sinks
        self.stop = stop
        self.retries = RetryBook(settings)
        self.token_keeper = (
            TokenKeeper(self.org, target.tokens, settings, sinks, self.retries)
            if target.tokens is not None
            else None
        )
        self._client: DataSourceClient | None = None
        self._disabled: dict[str, float | None] = {}
        self._known: set[str] = set()
        self._auth_key = f"{self.org}:auth"
        sinks.metrics.add_org(self.org)

    def retire(self, reason: str | None = None) -> None:
        """The org is no longer kept here: close what was announced about it, since this
        replica will not resolve it any more. ``reason`` says why (default: the org left
        the fleet, removed or deauthorized)."""
        text = reason or f"Org {self.org} is no longer kept (removed or deauthorized)."
        token_subjects = ("service_app", "integration")
        for subject in token_subjects:
            self.sinks.alerter.resolve(alerts.TOKEN_REFRESH_FAILED, f"{self.org}:{subject}", text)
        for kind in ("service_app_refresh", "integration_refresh"):
            self.sinks.alerter.resolve(alerts.REFRESH_TOKEN_EXPIRING, f"{self.org}:{kind}", text)
        for ds_id in self._known:
            for event in (alerts.EXTEND_FAILED, alerts.DATA_SOURCE_EXPIRING):
                self.sinks.alerter.resolve(event, f"{self.org}:{ds_id}", text)
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def client(self) -> DataSourceClient:
        if self._client is None:
            self._client = self.target.client_factory()
            self._client.http.on_response = self.sinks.metrics.observe_response
            self._client.http.notify = self._note
        return self._client

    def _note(self, message: str) -> None:
        """The HTTP layer's notes (retries, rate limiting): methods and paths, no secrets."""
        self.sinks.log.event("http_note", "warning", org=self.org, note=message)

    def run(self, now: float | None = None) -> OrgReport:
        report = OrgReport(self.org)
        current = time.time() if now is None else now
        if self.token_keeper is not None and not self.token_keeper.run(current, report):
            return report
        if not self.stop.is_set() and self._holds():
            self._keep_data_sources(current, report)
        return report

    def _holds(self) -> bool:
        """This replica still owns the org (always, without a lease): checked between
        items, so an org lost mid-pass gets no more requests from this replica."""
        lease = self.target.lease
        return lease is None or lease.holds()

    def _confirm(self, ds_id: str) -> bool:
        """Right before an extension: renew the lease in the store, so no other replica
        can act on this org while the write is under way."""
        lease = self.target.lease
        if lease is None or lease.confirm():
            return True
        self._not_owned(ds_id)
        return False

    def _still_owned(self) -> bool:
        """Between the extension's GET and its PUT (the GET may have been slow, or this
        process stalled meanwhile): trust a recent renewal, renew in the store otherwise."""
        lease = self.target.lease
        return lease is None or lease.fresh() or lease.confirm()

    def _not_owned(self, ds_id: str) -> None:
        self.sinks.log.event(
            "extend_skipped", "warning", org=self.org, data_source=ds_id, reason="not_owned"
        )

    def _keep_data_sources(self, now: float, report: OrgReport) -> None:
        list_key = f"{self.org}:list"
        auth_retry_at = self.retries.retry_at(self._auth_key)
        if now < auth_retry_at:
            # Webex refused this org's token last time: back off rather than collect a
            # 401 every cycle (an org that deauthorized the app, until it is removed).
            report.auth_required = True
            report.due_times.append(auth_retry_at)
            report.failures.append(f"list: waiting until {iso(auth_retry_at)} after a refusal")
            return
        try:
            sources = self.client().list()
        except AuthRequiredError as exc:
            self._auth_lost("list", exc, report)
            return
        except ByodsError as exc:
            self.retries.failed(list_key, report)
            report.failures.append(f"list: {exc}")
            self.sinks.log.event("list_failed", "error", org=self.org, error=str(exc))
            return
        report.lists += 1
        self.retries.succeeded(list_key)
        self.retries.succeeded(self._auth_key)
        expiries = {ds.id: _timestamp(ds) for ds in sources}
        self.sinks.metrics.set_data_source_expiries(self.org, expiries)
        self._forget_deleted(set(expiries))
        for data_source in sources:
            if self.stop.is_set() or not self._holds():
                return
            self._keep_data_source(data_source, expiries[data_source.id], now, report)

    def _forget_deleted(self, listed: set[str]) -> None:
        """Data sources deleted meanwhile: drop their state and close their alerts."""
        gone = self._known - listed
        self._known = listed
        self.retries.forget(gone)
        for ds_id in gone:
            self._disabled.pop(ds_id, None)
            for event in (alerts.EXTEND_FAILED, alerts.DATA_SOURCE_EXPIRING):
                self.sinks.alerter.resolve(
                    event, f"{self.org}:{ds_id}", f"Data source {ds_id} of org {self.org} is gone."
                )

    def _keep_data_source(
        self, data_source: DataSource, expires_at: float | None, now: float, report: OrgReport
    ) -> None:
        ds_id = data_source.id
        if ds_id in self._disabled and self._disabled[ds_id] == expires_at:
            return  # known disabled, and unchanged since: nothing to renew
        if expires_at is not None:
            issued = (data_source.claims or {}).get("iat")
            issued_at = float(issued) if isinstance(issued, (int, float)) else None
            due = renewal_time(expires_at, issued_at, self.settings.renew_before, ds_id)
            wait_until = max(due, self.retries.retry_at(ds_id))
            if now < wait_until:
                report.due_times.append(wait_until)
                if now >= due:
                    self._warn_if_expiring(ds_id, expires_at, now)
                return
        if not self._confirm(ds_id):
            report.due_times.append(now)  # try again on the next pass if still ours
            return
        try:
            extended = self.client().extend(
                ds_id, skip_disabled=True, before_write=self._still_owned
            )
        except WriteCancelled:
            self._not_owned(ds_id)
            report.due_times.append(now)  # try again on the next pass if still ours
            return
        except AuthRequiredError as exc:
            self._auth_lost(f"extend {ds_id}", exc, report)
            return
        except ByodsError as exc:
            self._extend_failed(ds_id, expires_at, exc, now, report)
            return
        if extended.is_disabled:
            self._disabled[ds_id] = expires_at
            self.sinks.metrics.extend_total.labels(self.org, "skipped").inc()
            self.sinks.log.event(
                "extend_skipped", org=self.org, data_source=ds_id, reason="disabled"
            )
            return
        self._extended(ds_id, extended, report)

    def _extended(self, ds_id: str, extended: DataSource, report: OrgReport) -> None:
        self._disabled.pop(ds_id, None)
        self.retries.succeeded(ds_id)
        report.extended += 1
        self.sinks.metrics.extend_total.labels(self.org, "success").inc()
        new_expiry = _timestamp(extended)
        if new_expiry is not None:
            self.sinks.metrics.set_data_source_expiry(self.org, ds_id, new_expiry)
        self.sinks.log.event("extended", org=self.org, data_source=ds_id, expires=iso(new_expiry))
        for event in (alerts.EXTEND_FAILED, alerts.DATA_SOURCE_EXPIRING):
            self.sinks.alerter.resolve(
                event,
                f"{self.org}:{ds_id}",
                f"Data source {ds_id} of org {self.org} was extended; it expires "
                f"{iso(new_expiry)}.",
            )

    def _auth_lost(self, what: str, exc: AuthRequiredError, report: OrgReport) -> None:
        """Webex refused the token and no other can be had (e.g. a fixed token from the
        environment was rejected): a person must act."""
        report.auth_required = True
        self.retries.failed(self._auth_key, report)
        report.failures.append(f"{what}: {first_line(exc)}")
        self.sinks.log.event("auth_required", "error", org=self.org, during=what, error=str(exc))
        self.sinks.alerter.fire(
            f"{self.org}:service_app",
            Alert(
                alerts.TOKEN_REFRESH_FAILED,
                alerts.CRITICAL,
                f"Webex rejected the service-app token of org {self.org} and no other could "
                f"be obtained: a person must act ({first_line(exc)})",
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
        self.sinks.metrics.extend_total.labels(self.org, "failure").inc()
        self.retries.failed(ds_id, report, expires_at)
        report.failures.append(f"extend {ds_id}: {exc}")
        self.sinks.log.event(
            "extend_failed", "error", org=self.org, data_source=ds_id, error=str(exc)
        )
        self.sinks.alerter.fire(
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
        self.sinks.alerter.fire(
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


def _timestamp(data_source: DataSource) -> float | None:
    expires = data_source.expires_at
    return expires.timestamp() if expires is not None else None
