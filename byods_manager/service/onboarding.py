"""The receiver for Webex ``serviceApp`` webhooks: zero-touch onboarding of customer orgs.

Framework-free: :meth:`WebhookReceiver.handle` takes the raw body and the headers and
returns ``(status, json_body)``; any HTTP server can host it (see
:mod:`.onboarding_server`). The order of checks is the security boundary: size, then the
signature over the raw bytes, and only then parsing. A request that fails a check changes
nothing. Accepted events are handed to an :class:`OnboardingHandler` on one background
worker, in arrival order, so Webex gets its answer at once and does not retry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .signature import SIGNATURE_HEADER, verify_any, verify_signature

__all__ = [
    "OnboardingHandler",
    "WebhookEvent",
    "WebhookReceiver",
    "customer_org_id",
    "verify_signature",
]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
SERVICE_APP_RESOURCE = "serviceApp"
AUTHORIZED = "authorized"
DEAUTHORIZED = "deauthorized"
SEEN_EVENTS_LIMIT = 4096

JsonBody = dict[str, Any]
Answer = tuple[int, JsonBody]


@dataclass(frozen=True)
class WebhookEvent:
    """One verified ``serviceApp`` event, as the handler sees it."""

    event_id: str
    event: str
    org_id: str
    app_id: str | None
    webhook_id: str | None
    created: str | None
    envelope: Mapping[str, Any] = field(repr=False, compare=False)
    # True once a later event for the same org has arrived (a handler still retrying
    # this one can stop: the org deauthorized meanwhile, or authorized again).
    superseded: Callable[[], bool] = field(default=lambda: False, repr=False, compare=False)


class OnboardingHandler(Protocol):
    """What happens when an org authorizes or deauthorizes the service app."""

    def on_authorized(self, org_id: str, event: WebhookEvent) -> None: ...

    def on_deauthorized(self, org_id: str, event: WebhookEvent) -> None: ...


def customer_org_id(envelope: Mapping[str, Any]) -> str | None:
    """``data.authorizerOrgId``, else ``data.orgId``, else the envelope's ``orgId``."""
    data = envelope.get("data")
    candidates: list[Any] = []
    if isinstance(data, Mapping):
        candidates += [data.get("authorizerOrgId"), data.get("orgId")]
    candidates.append(envelope.get("orgId"))
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def event_moment(envelope: Mapping[str, Any]) -> str | None:
    """When the event happened: ``data.created``, else ``data.authorizationDate``."""
    data = envelope.get("data")
    if not isinstance(data, Mapping):
        return None
    for key in ("created", "authorizationDate"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def event_identity(envelope: Mapping[str, Any], org_id: str, raw_body: bytes) -> str:
    """What makes two deliveries "the same event".

    A Webex envelope's ``id`` is the webhook's id, shared by all its events, so the event
    is its webhook, kind, org and moment (:func:`event_moment`); without a moment the
    digest of the exact body stands in (a replay is byte-identical, or its signature
    would fail).
    """
    moment = event_moment(envelope)
    if moment:
        text = "|".join((str(envelope.get("id") or ""), str(envelope.get("event")), org_id, moment))
        return "event:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    return "body:" + hashlib.sha256(raw_body).hexdigest()


class SeenEvents:
    """The ids of the last ``limit`` accepted events (bounded memory, oldest forgotten),
    and the latest accepted event of each org (as bounded)."""

    def __init__(self, limit: int = SEEN_EVENTS_LIMIT) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._latest: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, event_id: str, org_id: str = "") -> bool:
        """Remember ``event_id`` (the latest of ``org_id``); False when already known."""
        with self._lock:
            if event_id in self._ids:
                self._ids.move_to_end(event_id)
                return False
            self._ids[event_id] = None
            while len(self._ids) > self.limit:
                self._ids.popitem(last=False)
            self._latest[org_id] = event_id
            self._latest.move_to_end(org_id)
            while len(self._latest) > self.limit:
                self._latest.popitem(last=False)
            return True

    def is_latest(self, event_id: str, org_id: str = "") -> bool:
        with self._lock:
            return self._latest.get(org_id, event_id) == event_id

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _ignored(reason: str) -> Answer:
    return 200, {"status": "ignored", "reason": reason}


class WebhookReceiver:
    """Checks, parses and dedupes ``serviceApp`` deliveries; the handler does the work.

    ``secrets``: every secret a current webhook may sign with (more than one while a
    secret is being rotated). ``app_id``: this service app's id; events naming another
    app in ``data.id`` are ignored.
    """

    def __init__(
        self,
        secrets: Iterable[str],
        handler: OnboardingHandler,
        *,
        app_id: str | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        seen_limit: int = SEEN_EVENTS_LIMIT,
    ) -> None:
        self.secrets = [secret for secret in secrets if secret]
        if not self.secrets:
            raise ValueError("the webhook receiver needs at least one secret")
        self.handler = handler
        self.app_id = app_id
        self.max_body_bytes = max_body_bytes
        self.seen = SeenEvents(seen_limit)
        self.failures = 0  # handler calls that raised
        self._queue: queue.Queue[WebhookEvent | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- the HTTP-facing part ------------------------------------------------------------

    def handle(self, raw_body: bytes, headers: Mapping[str, str]) -> Answer:
        """Answer one delivery: ``(status, json_body)``. Never raises for bad input."""
        if len(raw_body) > self.max_body_bytes:
            return 413, {"error": f"body larger than {self.max_body_bytes} bytes"}
        if not verify_any(self.secrets, raw_body, _header(headers, SIGNATURE_HEADER)):
            return 401, {"error": f"missing or invalid {SIGNATURE_HEADER}"}
        try:
            envelope = _parse(raw_body)
        except ValueError as exc:
            return 400, {"error": str(exc)}
        return self._accept(envelope, raw_body)

    def _accept(self, envelope: Mapping[str, Any], raw_body: bytes) -> Answer:
        resource = envelope.get("resource")
        if resource != SERVICE_APP_RESOURCE:
            return _ignored(f"resource {resource!r} is not {SERVICE_APP_RESOURCE!r}")
        kind = envelope.get("event")
        if kind not in (AUTHORIZED, DEAUTHORIZED):
            return _ignored(f"event {kind!r} is not handled")
        data = envelope.get("data")
        app_id = data.get("id") if isinstance(data, Mapping) else None
        app_id = app_id if isinstance(app_id, str) and app_id else None
        if self.app_id and app_id and app_id != self.app_id:
            return _ignored("the event is about another service app")
        org_id = customer_org_id(envelope)
        if org_id is None:
            return 400, {"error": "the event names no org (data.authorizerOrgId, data.orgId)"}
        event_id = event_identity(envelope, org_id, raw_body)
        if not self.seen.add(event_id, org_id):
            return 200, {"status": "duplicate", "event": kind, "orgId": org_id}
        webhook_id = envelope.get("id")
        self._submit(
            WebhookEvent(
                event_id=event_id,
                event=str(kind),
                org_id=org_id,
                app_id=app_id,
                webhook_id=webhook_id if isinstance(webhook_id, str) else None,
                created=event_moment(envelope),
                envelope=envelope,
                superseded=lambda: not self.seen.is_latest(event_id, org_id),
            )
        )
        return 202, {"status": "accepted", "event": kind, "orgId": org_id}

    # -- the background worker -----------------------------------------------------------

    def _submit(self, event: WebhookEvent) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._run, name="byods-onboarding", daemon=True
                )
                self._worker.start()
        self._queue.put(event)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if event is None:
                    return
                self._dispatch(event)
            finally:
                self._queue.task_done()

    def _dispatch(self, event: WebhookEvent) -> None:
        try:
            if event.event == AUTHORIZED:
                self.handler.on_authorized(event.org_id, event)
            else:
                self.handler.on_deauthorized(event.org_id, event)
        except Exception as exc:  # one bad event must not stop the worker
            self.failures += 1
            log.warning("serviceApp %s for org %s failed: %s", event.event, event.org_id, exc)

    def drain(self) -> None:
        """Block until every accepted event has been handled (tests, shutdown)."""
        self._queue.join()

    def close(self) -> None:
        """Finish the queued events, then stop the worker."""
        with self._lock:
            worker = self._worker
            self._worker = None
        if worker is not None and worker.is_alive():
            self._queue.put(None)
            worker.join()


def _parse(raw_body: bytes) -> Mapping[str, Any]:
    try:
        envelope = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("the body is not valid JSON") from None
    if not isinstance(envelope, dict):
        raise ValueError("the body is not a JSON object")
    return envelope
