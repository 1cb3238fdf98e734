"""`byods keepalive`: renew every data source and token unattended (service or --once)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from .context import AppContext, pass_app
from .fleet_cmds import all_orgs_option, concurrency_option
from .keepalive_webhooks import WEBHOOK_PATH, webhook_receiver, webhook_route

if TYPE_CHECKING:
    from ..service.keepalive import KeepaliveService
    from ..service.lease_heartbeat import LeaseHeartbeat
    from ..service.listener import Listener
    from ..service.logs import EventLog
    from ..service.onboarding import WebhookReceiver
    from ..service.orgs import OrgSource, OrgTarget
    from ..service.ownership import Ownership

DEFAULT_LISTEN = "127.0.0.1:9464"
# The service sleeps at least a second between passes; three renewals per lease need 3 s.
MIN_LEASE_SECONDS = 3.0


@click.command("keepalive")
@click.option("--once", is_flag=True, help="One pass, then exit (for cron, timers, CronJobs).")
@click.option(
    "--renew-before",
    metavar="DURATION",
    help="Extend a data source this long before it expires (default: a third of its lifetime).",
)
@click.option(
    "--interval",
    metavar="DURATION",
    default="10m",
    show_default=True,
    help="Longest sleep between two passes of the service.",
)
@click.option(
    "--listen",
    metavar="HOST:PORT",
    default=DEFAULT_LISTEN,
    show_default=True,
    help="Serve GET /metrics and GET /healthz here; '' disables (with --once: only if given).",
)
@click.option(
    "--alert-webhook",
    "alert_webhooks",
    metavar="URL",
    multiple=True,
    envvar="BYODS_ALERT_WEBHOOK",
    help="POST alerts as JSON here (repeatable; $BYODS_ALERT_WEBHOOK, space-separated).",
)
@click.option(
    "--on-alert",
    metavar="CMD",
    help="Run CMD for every alert with its JSON on stdin (no shell; use sh -c for pipes).",
)
@click.option(
    "--lease",
    metavar="DURATION",
    default="60s",
    show_default=True,
    help="Hold each org's work this long per renewal; another replica takes over after it.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One line per event on stderr, as text or JSON.",
)
@click.option(
    "--webhook-secret",
    metavar="SECRET",
    envvar="BYODS_WEBHOOK_SECRET",
    help="Serve POST /webhooks/service-app (onboarding) checking signatures with SECRET "
    "(prefer $BYODS_WEBHOOK_SECRET: a command line is visible to other users).",
)
@click.option(
    "--template",
    "template_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Data sources (the `apply` format) to register in every org that authorizes the "
    "app; alone, it uses the secrets `byods webhooks register` saved.",
)
@all_orgs_option
@concurrency_option
@pass_app
@click.pass_context
def keepalive_command(
    ctx: click.Context,
    app: AppContext,
    once: bool,
    renew_before: str | None,
    interval: str,
    listen: str,
    alert_webhooks: tuple[str, ...],
    on_alert: str | None,
    lease: str,
    log_format: str,
    webhook_secret: str | None,
    template_path: Path | None,
    all_orgs: bool,
    concurrency: int,
) -> None:
    """Keep every data source and the service-app token alive, unattended.

    \b
    Each pass: refresh the service-app token ahead of expiry, use the integration's
    refresh token so it never lapses, list the data sources (one list per org) and
    extend those inside their renewal window. Exit codes with --once: 0 all well,
    1 something failed (after alerting), 3 a person must re-authorize.

    \b
    Orgs: the config's (or --org ORG); --all-orgs covers every active org of
    `byods orgs list`, re-read every pass (orgs added, removed or deauthorized
    meanwhile count without a restart), --concurrency orgs at a time.
    """
    from ..durations import parse_duration
    from ..errors import InputError
    from ..paths import state_dir
    from ..service.alert_state import STATE_FILENAME, FileAlertState
    from ..service.alerts import Alerter, AlertSender
    from ..service.cycle import Settings
    from ..service.keepalive import KeepaliveService
    from ..service.listener import parse_listen
    from ..service.logs import EventLog
    from ..service.metrics import KeepaliveMetrics
    from ..service.scheduler import BACKOFF_BASE_SECONDS

    renew_seconds = parse_duration(renew_before).total_seconds() if renew_before else None
    lease_seconds = parse_duration(lease).total_seconds()
    if lease_seconds < MIN_LEASE_SECONDS:
        raise InputError(f"--lease must be at least {MIN_LEASE_SECONDS:g}s (renewed every third)")
    # Wake at least three times per lease, so a held lease is renewed well before it ends.
    interval_seconds = min(parse_duration(interval).total_seconds(), lease_seconds / 3)
    listen_given = ctx.get_parameter_source("listen") != click.core.ParameterSource.DEFAULT
    address = parse_listen(listen) if (listen_given or not once) else None

    apply_deadline_rule(app, once)
    orgs = org_source(app, all_orgs)
    log = EventLog(log_format)
    sender = AlertSender(alert_webhooks, on_alert, log)
    metrics = KeepaliveMetrics()
    alerter = Alerter(sender, log, FileAlertState(state_dir() / STATE_FILENAME))
    receiver = webhook_receiver(
        app,
        webhook_secret,
        template_path,
        once=once,
        listening=address is not None,
        all_orgs=all_orgs,
        alerter=alerter,
        metrics=metrics,
        log=log,
    )
    ownership = _owned(app, orgs, lease_seconds, log)
    heartbeat = _heartbeat(ownership)
    service = KeepaliveService(
        ownership,
        settings=Settings(
            renew_before=renew_seconds,
            backoff=not once,
            # A short --interval (tests, soaks) shortens the first retry too.
            backoff_base=min(BACKOFF_BASE_SECONDS, interval_seconds),
        ),
        metrics=metrics,
        alerter=alerter,
        log=log,
        interval=interval_seconds,
        concurrency=concurrency,
        owner_elsewhere=ownership.owner_elsewhere,
    )
    listener = _start_listener(service, address, log, receiver) if address else None
    try:
        with _stop_on_signals(service.stop, log):
            log.event(
                "started",
                mode="once" if once else "service",
                orgs=_count(orgs),
                replica=ownership.owner_id,
            )
            if once:
                result = service.run_once()
                code = result.exit_code
            else:
                service.run_forever()
                code = 0
    finally:
        if listener is not None:
            listener.stop()
        if receiver is not None:
            receiver.close()  # finish the onboarding already accepted
        service.close()
        sender.close()
        heartbeat.stop.set()
        heartbeat.join(timeout=10)
        _release(ownership, log)
    log.event("stopped", exit_code=code)
    ctx.exit(code)


def apply_deadline_rule(app: AppContext, once: bool) -> None:
    """The whole-command deadline (``--timeout``, default 5 minutes) must not end a
    long-running service: the service never has one (each request keeps its own timeout,
    and each cycle is bounded by them). ``--once`` follows the bulk rule: only a
    ``--timeout`` / ``$BYODS_TIMEOUT`` actually given bounds it."""
    from .fleet_cmds import bulk_deadline

    if once:
        bulk_deadline(app)
    else:
        app.deadline.lift()


def org_source(app: AppContext, all_orgs: bool) -> OrgSource:
    """Every active org of the fleet (re-read each call), or the one org selected."""
    if not all_orgs:
        targets = default_org_targets(app)
        return lambda: targets
    from ..schema_cache import SchemaCache
    from ..service.orgs import fleet_org_source
    from .fleet_cmds import every_active_org

    every_active_org(app)  # --org with --all-orgs is a usage error (exit 2)
    return fleet_org_source(
        app.fleet(), audit=app.audit(), schema_cache=SchemaCache.for_base_url(app.base_url)
    )


def default_org_targets(app: AppContext) -> list[OrgTarget]:
    """The config's default org (until the org registry supplies more)."""
    from ..service.orgs import OrgTarget
    from ..tokens.manager import TokenManager

    provider = app.token_provider()
    tokens = provider if isinstance(provider, TokenManager) else None
    org_id = tokens.config.service_app.target_org_id if tokens is not None else "default"
    return [OrgTarget(org_id=org_id, name="default", tokens=tokens, client_factory=app.client)]


def _owned(app: AppContext, source: OrgSource, lease_seconds: float, log: EventLog) -> Ownership:
    """Only the orgs whose lease this replica holds in the store (see service/ownership)."""
    from ..service.ownership import owned, replica_id
    from ..stores.select import open_store

    store = open_store(app.store_location(), warn=app.warn)
    return owned(source, store, replica_id(), lease_seconds, log)


def _heartbeat(ownership: Ownership) -> LeaseHeartbeat:
    """Held leases renewed every third of a lease while passes run (however long)."""
    from ..service.lease_heartbeat import LeaseHeartbeat

    heartbeat = LeaseHeartbeat(ownership, threading.Event())
    heartbeat.start()
    return heartbeat


def _count(orgs: OrgSource) -> int | None:
    """How many orgs there are now; None while the store is down (the service retries)."""
    from ..stores.base import StoreUnavailableError

    try:
        return len(orgs())
    except StoreUnavailableError:
        return None


def _release(ownership: Ownership, log: EventLog) -> None:
    from ..stores.base import StoreUnavailableError

    try:
        ownership.release_all()
    except StoreUnavailableError as exc:  # the leases expire on their own
        log.event("release_failed", "warning", error=str(exc))
    finally:
        ownership.store.close()


def _start_listener(
    service: KeepaliveService,
    address: tuple[str, int],
    log: EventLog,
    receiver: WebhookReceiver | None,
) -> Listener:
    from ..service.listener import Listener, Response
    from ..service.metrics import CONTENT_TYPE_LATEST

    def metrics(body: bytes, headers: Any) -> Response:
        return Response(200, service.metrics.exposition(), CONTENT_TYPE_LATEST)

    def healthz(body: bytes, headers: Any) -> Response:
        healthy, detail = service.health()
        return Response.json(200 if healthy else 503, detail)

    listener = Listener(*address)
    listener.route("GET", "/metrics", metrics)
    listener.route("GET", "/healthz", healthz)
    if receiver is not None:
        listener.route("POST", WEBHOOK_PATH, webhook_route(receiver, service.metrics))
    listener.start()
    log.event("listening", address=f"{address[0]}:{listener.port}")
    return listener


@contextmanager
def _stop_on_signals(stop: threading.Event, log: EventLog) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop``: no new work is started, the request in flight ends."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if not stop.is_set():
            log.event("stopping", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(group: click.Group) -> None:
    group.add_command(keepalive_command)
