"""Alerts: one JSON message per problem to every webhook and to an ``--on-alert`` command.

A problem is an (event, subject) pair; it is announced once while it lasts, and once
more as ``resolved`` when it clears. Delivery failures are logged and swallowed: an
unreachable chat room must never stop renewals.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ByodsError, InputError
from ..http import HttpClient, RetryPolicy
from .logs import EventLog, utc_iso

if TYPE_CHECKING:
    from .alert_state import AlertState

EXTEND_FAILED = "extend_failed"
TOKEN_REFRESH_FAILED = "token_refresh_failed"
REFRESH_TOKEN_EXPIRING = "refresh_token_expiring"
DATA_SOURCE_EXPIRING = "data_source_expiring"

WARNING = "warning"
CRITICAL = "critical"
RESOLVED = "resolved"

COMMAND_TIMEOUT_SECONDS = 30.0
WEBHOOK_TIMEOUT = (3.0, 5.0)


@dataclass(frozen=True)
class Alert:
    event: str
    severity: str
    text: str
    org: str | None = None
    data_source_id: str | None = None

    def to_json(self, when: float | None = None) -> dict[str, Any]:
        return {
            "text": self.text,
            "event": self.event,
            "severity": self.severity,
            "org": self.org,
            "dataSourceId": self.data_source_id,
            "time": utc_iso(when),
        }


class AlertSender:
    """Delivers alerts; knows nothing about deduplication."""

    def __init__(self, webhooks: Sequence[str], on_alert: str | None, log: EventLog) -> None:
        self.webhooks = [url for url in webhooks if url]
        self.command = _command(on_alert) if on_alert else None
        self.log = log
        self._http: HttpClient | None = None

    def send(self, alert: Alert) -> None:
        payload = alert.to_json()
        for url in self.webhooks:
            self._post(url, payload)
        if self.command:
            self._run(payload)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def _post(self, url: str, payload: dict[str, Any]) -> None:
        if self._http is None:
            self._http = HttpClient(
                "http://alert-webhook.invalid",
                None,
                timeout=WEBHOOK_TIMEOUT,
                retry=RetryPolicy(max_retries=1, max_retry_after_seconds=5.0),
                notify=lambda message: None,
            )
        try:
            self._http.request("POST", url, json=payload, authenticated=False)
        except ByodsError as exc:
            self.log.event(
                "alert_delivery_failed",
                "warning",
                alert=payload["event"],
                target=_safe_target(url),
                error=str(exc).replace(url, _safe_target(url)),
            )

    def _run(self, payload: dict[str, Any]) -> None:
        assert self.command is not None
        try:
            result = subprocess.run(
                self.command,
                input=json.dumps(payload),
                text=True,
                capture_output=True,
                timeout=COMMAND_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.log.event(
                "alert_delivery_failed",
                "warning",
                alert=payload["event"],
                target="on-alert",
                error=type(exc).__name__,
            )
            return
        if result.returncode != 0:
            self.log.event(
                "alert_delivery_failed",
                "warning",
                alert=payload["event"],
                target="on-alert",
                error=f"exit status {result.returncode}",
            )


def _command(text: str) -> list[str]:
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise InputError(f"invalid --on-alert {text!r}: {exc}") from None
    if not argv:
        raise InputError("invalid --on-alert '': give a command")
    return argv


def _safe_target(url: str) -> str:
    """Incoming-webhook URLs carry their secret in the path: show the origin only."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…"


class Alerter:
    """Deduplicates: ``fire`` once per (event, subject) until ``resolve`` clears it."""

    def __init__(self, sender: AlertSender, log: EventLog, state: AlertState | None = None) -> None:
        from .alert_state import MemoryAlertState

        self.sender = sender
        self.log = log
        self.state: AlertState = state if state is not None else MemoryAlertState()

    def active(self) -> list[Alert]:
        return self.state.active()

    def fire(self, subject: str, alert: Alert) -> None:
        if not self.state.claim((alert.event, subject), alert):
            return
        self.log.event(
            "alert",
            alert.severity,
            alert=alert.event,
            org=alert.org,
            data_source=alert.data_source_id,
            text=alert.text,
        )
        self.sender.send(alert)

    def resolve(self, event: str, subject: str, text: str) -> None:
        fired = self.state.release((event, subject))
        if fired is None:
            return
        resolved = Alert(event, RESOLVED, text, fired.org, fired.data_source_id)
        self.log.event(
            "alert",
            RESOLVED,
            alert=event,
            org=fired.org,
            data_source=fired.data_source_id,
            text=text,
        )
        self.sender.send(resolved)
