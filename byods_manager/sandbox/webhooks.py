"""The Webhooks API (``/webhooks``) and the signed, asynchronous delivery of its events.

Only ``serviceApp`` events happen in the sandbox (``authorized``/``deauthorized``, when a
customer org allows or removes the service app). Each delivery is a POST of Webex's
webhook envelope, signed with ``X-Spark-Signature`` (HMAC-SHA1 hex of the raw body with
the webhook's secret), sent from a background thread, and only to loopback targets.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import queue
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from . import contract
from .protocol import HttpProblem, Reply, Request
from .state import INTEGRATION, PERSONAL, AccessToken, Org, SandboxState, spark_id

Handler = Callable[[Request, dict[str, str]], Reply]

SERVICE_APP_RESOURCE = "serviceApp"
SERVICE_APP_EVENTS = ("authorized", "deauthorized", "all")
CREATE_PROPERTIES = {
    "name": "string",
    "targetUrl": "string",
    "resource": "string",
    "event": "string",
    "filter": "string",
    "secret": "string",
    "ownedBy": "string",
}
CREATE_REQUIRED = ("name", "targetUrl", "resource", "event")
DELIVERY_TIMEOUT = 10.0
PORTAL_CLIENT_ID = "sandbox-developer-portal"  # the app behind personal access tokens


def _iso(moment: float) -> str:
    stamp = datetime.fromtimestamp(moment, timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def signature(secret: str, body: bytes) -> str:
    """What ``X-Spark-Signature`` carries."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def _web_url(url: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https"):
            return False
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _filter_matches(webhook: dict[str, Any], app_id: str, org: Org) -> bool:
    """``id=APP_ID`` (and ``orgId=``) filters; other filter keys are not modelled."""
    text = webhook.get("filter") or ""
    for key, value in urllib.parse.parse_qsl(text):
        if key == "id" and value != app_id:
            return False
        if key == "orgId" and value not in (org.id, org.uuid):
            return False
    return True


class Deliverer:
    """One background thread posting queued events; ``join`` waits until all are sent."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, str, bytes, str]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.outcomes: list[dict[str, Any]] = []

    def submit(self, webhook_id: str, target: str, body: bytes, secret: str) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="byods-sandbox-webhooks", daemon=True
                )
                self._thread.start()
        self._queue.put((webhook_id, target, body, secret))

    def join(self) -> None:
        """Block until every event submitted so far has been delivered (or has failed)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            webhook_id, target, body, secret = self._queue.get()
            try:
                outcome = self._post(target, body, secret)
            finally:
                self._queue.task_done()
            with self._lock:
                self.outcomes.append({"webhookId": webhook_id, **outcome})

    @staticmethod
    def _post(target: str, body: bytes, secret: str) -> dict[str, Any]:
        if not is_loopback_url(target):
            return {"delivered": False, "error": "not a loopback target (sandbox delivers locally)"}
        headers = {"Content-Type": "application/json", "User-Agent": "byods-sandbox-webhooks"}
        if secret:
            headers["X-Spark-Signature"] = signature(secret, body)
        request = urllib.request.Request(target, data=body, headers=headers, method="POST")  # noqa: S310 - loopback only, checked above
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as answer:  # noqa: S310
                return {"delivered": True, "status": answer.status}
        except urllib.error.HTTPError as exc:
            return {"delivered": False, "status": exc.code}
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            return {"delivered": False, "error": type(exc).__name__}


class WebhooksApi:
    """``POST/GET /webhooks``, ``GET/DELETE /webhooks/{id}`` and event fan-out."""

    def __init__(
        self,
        state: SandboxState,
        token_record: Callable[[Request], AccessToken],
        deliverer: Deliverer,
    ) -> None:
        self.state = state
        self.token_record = token_record  # the bearer's token, or a 401
        self.deliverer = deliverer

    def routes(self) -> tuple[tuple[str, str, Handler], ...]:
        return (
            ("GET", "/webhooks", self.list),
            ("POST", "/webhooks", self.create),
            ("GET", "/webhooks/{webhookId}", self.get),
            ("DELETE", "/webhooks/{webhookId}", self.delete),
        )

    def _owner(self, request: Request) -> str:
        """Webhooks belong to a person or an integration, never to a service app."""
        record = self.token_record(request)
        if record.kind not in (PERSONAL, INTEGRATION):
            raise HttpProblem(
                403,
                "Webhooks need a user's or an integration's access token; "
                "a service-app token cannot manage them.",
            )
        return str(record.kind)

    def create(self, request: Request, _: dict[str, str]) -> Reply:
        owner = self._owner(request)
        body = request.json()
        problems = contract.body_problems(body, CREATE_PROPERTIES, CREATE_REQUIRED)
        if problems:
            raise HttpProblem(400, " ".join(problems), problems)
        if not _web_url(body["targetUrl"]):
            raise HttpProblem(400, "'targetUrl' must be an http:// or https:// URL.")
        if body["resource"] == SERVICE_APP_RESOURCE and body["event"] not in SERVICE_APP_EVENTS:
            raise HttpProblem(
                400, f"Event '{body['event']}' does not exist for resource 'serviceApp'."
            )
        ident = self.state.identity
        # A personal token comes from the developer portal, an integration's from itself.
        app_id = spark_id(
            "APPLICATION",
            PORTAL_CLIENT_ID if owner == PERSONAL else ident.integration_client_id,
        )
        webhook = {
            "id": spark_id("WEBHOOK", str(uuid.uuid4())),
            "name": body["name"],
            "targetUrl": body["targetUrl"],
            "resource": body["resource"],
            "event": body["event"],
            "orgId": ident.developer_org_id,
            "createdBy": ident.admin_user_id,
            "appId": app_id,
            "ownedBy": body.get("ownedBy") or "creator",
            "status": "active",
            "created": _iso(time.time()),
        }
        for optional in ("filter", "secret"):
            if body.get(optional):
                webhook[optional] = body[optional]
        with self.state.transaction():
            self.state.webhooks[webhook["id"]] = webhook
        return Reply(200, dict(webhook))

    def list(self, request: Request, _: dict[str, str]) -> Reply:
        self._owner(request)
        with self.state.lock:
            return Reply(200, {"items": [dict(w) for w in self.state.webhooks.values()]})

    def get(self, request: Request, params: dict[str, str]) -> Reply:
        self._owner(request)
        with self.state.lock:
            webhook = self.state.webhooks.get(params["webhookId"])
            if webhook is None:
                raise HttpProblem(404, "The requested resource could not be found.")
            return Reply(200, dict(webhook))

    def delete(self, request: Request, params: dict[str, str]) -> Reply:
        self._owner(request)
        with self.state.transaction():
            if self.state.webhooks.pop(params["webhookId"], None) is None:
                raise HttpProblem(404, "The requested resource could not be found.")
        return Reply(204)

    # -- events ---------------------------------------------------------------------------

    def announce(self, event: str, org: Org) -> int:
        """Queue the ``serviceApp`` ``event`` for every matching webhook; returns how many."""
        ident = self.state.identity
        now = time.time()
        with self.state.lock:
            targets = [
                dict(w)
                for w in self.state.webhooks.values()
                if w["resource"] == SERVICE_APP_RESOURCE
                and w["event"] in (event, "all")
                and w["status"] == "active"
                and _filter_matches(w, ident.app_id, org)
            ]
        for webhook in targets:
            envelope = {
                "id": webhook["id"],
                "name": webhook["name"],
                "targetUrl": webhook["targetUrl"],
                "resource": SERVICE_APP_RESOURCE,
                "event": event,
                "orgId": webhook["orgId"],
                "createdBy": webhook["createdBy"],
                "appId": webhook["appId"],
                "ownedBy": webhook["ownedBy"],
                "status": webhook["status"],
                "created": webhook["created"],
                "actorId": spark_id("PEOPLE", str(uuid.uuid5(uuid.NAMESPACE_URL, org.uuid))),
                "data": {
                    "id": ident.app_id,
                    "orgId": org.id,
                    "authorizerOrgId": org.id,
                    "created": _iso(now),
                },
            }
            if "filter" in webhook:
                envelope["filter"] = webhook["filter"]
            body = json.dumps(envelope).encode("utf-8")
            self.deliverer.submit(
                webhook["id"], webhook["targetUrl"], body, webhook.get("secret", "")
            )
        return len(targets)
