"""Request/response values shared by the sandbox's HTTP plumbing and its endpoints."""

from __future__ import annotations

import json
import threading
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def new_tracking_id() -> str:
    return f"SANDBOX_{uuid.uuid4()}"


class HttpProblem(Exception):
    """An error answer in the Webex shape: ``{"message", "errors": [...], "trackingId"}``."""

    def __init__(
        self,
        status: int,
        message: str,
        details: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details if details is not None else [message]
        self.headers = dict(headers or {})

    def body(self, tracking_id: str) -> dict[str, Any]:
        return {
            "message": self.message,
            "errors": [{"description": text} for text in self.details],
            "trackingId": tracking_id,
        }


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]  # names in lower case
    body: bytes = b""
    base_url: str = ""  # the sandbox's API base, for links in answers

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        if not self.body:
            raise HttpProblem(400, "The request body is missing.")
        if self.content_type and self.content_type != "application/json":
            raise HttpProblem(415, f"Unsupported Media Type: {self.content_type}")
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise HttpProblem(400, "The request body is not valid JSON.") from None

    def form(self) -> dict[str, str]:
        if self.content_type != "application/x-www-form-urlencoded":
            raise HttpProblem(415, "Unsupported Media Type: send application/x-www-form-urlencoded")
        pairs = urllib.parse.parse_qsl(self.body.decode("utf-8", "replace"))
        return dict(pairs)

    def fields(self) -> dict[str, Any]:
        """A control's body: a JSON object or form fields (an empty body is ``{}``)."""
        if not self.body:
            return {}
        if self.content_type == "application/x-www-form-urlencoded":
            return dict(urllib.parse.parse_qsl(self.body.decode("utf-8", "replace")))
        body = self.json()
        if not isinstance(body, dict):
            raise HttpProblem(400, "Send a JSON object or form fields.")
        return body

    def bearer(self) -> str | None:
        value = self.headers.get("authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Stats:
    """Request counters, keyed like ``GET /dataSources/{id}``, and per customer org."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._orgs: Counter[str] = Counter()
        self._extensions: dict[str, list[dict[str, float]]] = {}

    def bump(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def bump_org(self, org: str) -> None:
        """One more service-app request (or token) for customer org ``org``."""
        with self._lock:
            self._orgs[org] += 1

    def extended(self, ds_id: str, at: float, replaced_expiry: float) -> None:
        """A PUT renewed ``ds_id`` at ``at``, replacing a token that expired at
        ``replaced_expiry`` (so tests can tell which renewal window each PUT fell in)."""
        with self._lock:
            entry = {"at": at, "replacedExpiry": replaced_expiry}
            self._extensions.setdefault(ds_id, []).append(entry)

    def extensions(self) -> dict[str, list[dict[str, float]]]:
        with self._lock:
            return {ds_id: list(items) for ds_id, items in self._extensions.items()}

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def org_snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._orgs.items()))

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._orgs.clear()
            self._extensions.clear()
