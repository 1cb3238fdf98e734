"""What keepalive does when an org authorizes or deauthorizes the service app (the
webhook receiver's ``on_event``): an alert, a log line and a metric.

Severities (DESIGN.md allows warning, critical, resolved): ``org_deauthorized`` is a
``warning`` (a customer left; its data sources are no longer renewed), announced once
until the org authorizes again; ``org_authorized`` is good news that must never page, so
it goes out as ``resolved`` (and closes the org's open ``org_deauthorized``).
"""

from __future__ import annotations

from .alerts import RESOLVED, WARNING, Alert, Alerter
from .logs import EventLog
from .metrics import KeepaliveMetrics
from .onboarding_fleet import ORG_AUTHORIZED, ORG_DEAUTHORIZED


class OrgEventAlerts:
    def __init__(self, alerter: Alerter, metrics: KeepaliveMetrics, log: EventLog) -> None:
        self.alerter = alerter
        self.metrics = metrics
        self.log = log

    def __call__(self, event: str, org_id: str) -> None:
        self.metrics.org_events_total.labels(event).inc()
        subject = f"{org_id}:authorization"
        if event == ORG_DEAUTHORIZED:
            text = (
                f"Org {org_id} deauthorized the service app: its tokens were dropped and "
                "keepalive no longer touches it."
            )
            self.alerter.fire(subject, Alert(ORG_DEAUTHORIZED, WARNING, text, org=org_id))
        elif event == ORG_AUTHORIZED:
            self.alerter.state.release((ORG_DEAUTHORIZED, subject))
            text = (
                f"Org {org_id} authorized the service app: its tokens were minted and it "
                "joined the org registry (kept by `byods keepalive --all-orgs`)."
            )
            alert = Alert(ORG_AUTHORIZED, RESOLVED, text, org=org_id)
            self.log.event("alert", RESOLVED, alert=ORG_AUTHORIZED, org=org_id, text=text)
            self.alerter.sender.send(alert)
