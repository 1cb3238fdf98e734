"""`byods keepalive --webhook-secret S [--template FILE]`: the onboarding receiver on the
keepalive listener (``POST /webhooks/service-app``).

Without ``--webhook-secret`` (or ``$BYODS_WEBHOOK_SECRET``), ``--template`` alone turns the
receiver on with the secrets ``byods webhooks register`` saved in the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .context import AppContext

if TYPE_CHECKING:
    from ..service.alerts import Alerter
    from ..service.listener import Handler
    from ..service.logs import EventLog
    from ..service.metrics import KeepaliveMetrics
    from ..service.onboarding import WebhookReceiver

WEBHOOK_PATH = "/webhooks/service-app"


def webhook_receiver(
    app: AppContext,
    secret: str | None,
    template_path: Path | None,
    *,
    once: bool,
    listening: bool,
    all_orgs: bool,
    alerter: Alerter,
    metrics: KeepaliveMetrics,
    log: EventLog,
) -> WebhookReceiver | None:
    """The receiver, or None when neither a secret nor a template was given."""
    if not secret and template_path is None:
        return None
    from ..errors import InputError
    from ..fleet.desired import load_desired
    from ..service.onboarding_fleet import build_fleet_receiver
    from ..service.org_events import OrgEventAlerts

    if once or not listening:
        raise InputError(
            "--webhook-secret and --template need the service (no --once) with a --listen "
            "address: Webex delivers the serviceApp webhooks to its listener"
        )
    template = load_desired(template_path) if template_path is not None else []
    receiver, _ = build_fleet_receiver(
        app.fleet(), secret or None, template, on_event=OrgEventAlerts(alerter, metrics, log)
    )
    log.event(
        "webhooks_enabled",
        path=WEBHOOK_PATH,
        secret="given" if secret else "saved by byods webhooks register",
        template=len(template),
    )
    if not all_orgs:
        log.event(
            "webhooks_without_all_orgs",
            "warning",
            note="orgs that authorize are onboarded, but only --all-orgs keeps them alive",
        )
    return receiver


def webhook_route(receiver: WebhookReceiver, metrics: KeepaliveMetrics) -> Handler:
    """The listener handler: the receiver answers at once (the work is queued)."""
    from ..service.listener import Response

    def handle(body: bytes, headers: Any) -> Response:
        status, answer = receiver.handle(body, headers)
        metrics.webhook_deliveries_total.labels(str(status)).inc()
        return Response.json(status, answer)

    return handle
