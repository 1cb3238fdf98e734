"""Prometheus metrics of the keepalive service, on a registry of their own.

The names are part of the user-facing contract (DESIGN.md); do not rename them.
"""

from __future__ import annotations

import re
import urllib.parse

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "KeepaliveMetrics", "endpoint_template"]

# A path segment kept as it is: a short word such as ``dataSources`` or ``access_token``.
# Anything else (UUIDs, base64 Spark ids, numbers) becomes ``{id}``.
_LITERAL_SEGMENT = re.compile(r"[A-Za-z_]{1,24}")
_VERSION_SEGMENT = re.compile(r"v\d+")
EXTEND_OUTCOMES = ("success", "failure", "skipped")


def endpoint_template(path: str) -> str:
    """``/dataSources/Y2lz...`` -> ``/dataSources/{id}``: a bounded label, never raw ids.

    Absolute URLs (pagination links) lose their origin, query and API version prefix.
    """
    parts = urllib.parse.urlsplit(path)
    segments = parts.path.split("/")
    absolute = path.startswith(("http://", "https://"))
    if absolute and len(segments) > 1 and _VERSION_SEGMENT.fullmatch(segments[1]):
        del segments[1]
    templated = [
        segment if not segment or _LITERAL_SEGMENT.fullmatch(segment) else "{id}"
        for segment in segments
    ]
    result = "/".join(templated)
    return result if result.startswith("/") else "/" + result


class KeepaliveMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.data_source_expiry = Gauge(
            "byods_data_source_expiry_timestamp_seconds",
            "When the data source's JWS expires (Unix time).",
            ["org", "data_source"],
            registry=self.registry,
        )
        self.extend_total = Counter(
            "byods_extend_total",
            "Data-source extensions attempted by keepalive, by outcome "
            "(success, failure, skipped).",
            ["org", "outcome"],
            registry=self.registry,
        )
        self.token_expiry = Gauge(
            "byods_token_expiry_timestamp_seconds",
            "When a token expires (Unix time); kind is service_app_access, "
            "service_app_refresh, integration_access or integration_refresh.",
            ["org", "kind"],
            registry=self.registry,
        )
        self.token_refresh_total = Counter(
            "byods_token_refresh_total",
            "Token refreshes by the tier that produced the token (1, 2, 3, integration) "
            "and outcome (success, failure, auth_required).",
            ["tier", "outcome"],
            registry=self.registry,
        )
        self.last_success = Gauge(
            "byods_last_success_timestamp_seconds",
            "When a keepalive cycle last completed without any failure (Unix time).",
            registry=self.registry,
        )
        self.http_requests_total = Counter(
            "byods_http_requests_total",
            "HTTP responses received from the Webex API, by method, endpoint template and status.",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.org_events_total = Counter(
            "byods_org_events_total",
            "Orgs that authorized or deauthorized the service app, as the webhook told "
            "(event: org_authorized, org_deauthorized).",
            ["event"],
            registry=self.registry,
        )
        self.webhook_deliveries_total = Counter(
            "byods_webhook_deliveries_total",
            "Webex webhook deliveries received on POST /webhooks/service-app, by answer status.",
            ["status"],
            registry=self.registry,
        )
        self.store_available = Gauge(
            "byods_store_available",
            "1 while the shared state store (tokens, org registry, leases) answers, 0 during "
            "an outage (the service does no work then).",
            registry=self.registry,
        )
        self.store_available.set(1)
        self._data_sources: dict[str, set[str]] = {}

    def add_org(self, org: str) -> None:
        """Start the org's counters at zero, so rates and alerts work from the first scrape."""
        for outcome in EXTEND_OUTCOMES:
            self.extend_total.labels(org, outcome)

    def observe_response(self, method: str, path: str, status: int) -> None:
        """The :class:`~byods_manager.http.HttpClient` ``on_response`` hook."""
        self.http_requests_total.labels(method, endpoint_template(path), str(status)).inc()

    def set_data_source_expiries(self, org: str, expiries: dict[str, float | None]) -> None:
        """Publish this org's data sources as listed; drop the series of deleted ones."""
        for gone in self._data_sources.get(org, set()) - set(expiries):
            self.data_source_expiry.remove(org, gone)
        for data_source_id, expires_at in expiries.items():
            if expires_at is not None:
                self.data_source_expiry.labels(org, data_source_id).set(expires_at)
        self._data_sources[org] = set(expiries)

    def set_data_source_expiry(self, org: str, data_source_id: str, expires_at: float) -> None:
        self.data_source_expiry.labels(org, data_source_id).set(expires_at)
        self._data_sources.setdefault(org, set()).add(data_source_id)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
