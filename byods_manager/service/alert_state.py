"""Which alerts are open: in memory (one process) or in a small file shared by every run.

The file lets `--once` runs from a timer announce a problem once, not every run, and lets
a restarted service resolve what its predecessor announced. Each change re-reads the file
under its lock, so a service and a timer run on one host do not overwrite each other.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Protocol

from ..fileio import atomic_write_json, file_lock
from .alerts import Alert

AlertKey = tuple[str, str]  # (event, subject)
STATE_FILENAME = "keepalive-alerts.json"


class AlertState(Protocol):
    def claim(self, key: AlertKey, alert: Alert) -> bool:
        """Record ``alert`` as open; False when ``key`` was open already."""
        ...

    def release(self, key: AlertKey) -> Alert | None:
        """Close ``key``; the alert that was open, or None."""
        ...

    def active(self) -> list[Alert]: ...


class MemoryAlertState:
    def __init__(self) -> None:
        self._open: dict[AlertKey, Alert] = {}
        self._lock = threading.Lock()

    def claim(self, key: AlertKey, alert: Alert) -> bool:
        with self._lock:
            if key in self._open:
                return False
            self._open[key] = alert
            return True

    def release(self, key: AlertKey) -> Alert | None:
        with self._lock:
            return self._open.pop(key, None)

    def active(self) -> list[Alert]:
        with self._lock:
            return list(self._open.values())


class FileAlertState:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def claim(self, key: AlertKey, alert: Alert) -> bool:
        with self._lock, file_lock(self.path):
            entries = self._load()
            if _name(key) in entries:
                return False
            entries[_name(key)] = alert
            self._save(entries)
            return True

    def release(self, key: AlertKey) -> Alert | None:
        with self._lock, file_lock(self.path):
            entries = self._load()
            alert = entries.pop(_name(key), None)
            if alert is not None:
                self._save(entries)
            return alert

    def active(self) -> list[Alert]:
        with self._lock:
            return list(self._load().values())

    def _load(self) -> dict[str, Alert]:
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # missing or damaged: start afresh (at worst an alert repeats)
        entries: dict[str, Alert] = {}
        for name, item in (data.get("open") or {}).items() if isinstance(data, dict) else ():
            try:
                entries[name] = Alert(
                    event=str(item["event"]),
                    severity=str(item["severity"]),
                    text=str(item["text"]),
                    org=item.get("org"),
                    data_source_id=item.get("dataSourceId"),
                )
            except (KeyError, TypeError):
                continue
        return entries

    def _save(self, entries: dict[str, Alert]) -> None:
        atomic_write_json(
            self.path,
            {
                "open": {
                    name: {
                        "event": alert.event,
                        "severity": alert.severity,
                        "text": alert.text,
                        "org": alert.org,
                        "dataSourceId": alert.data_source_id,
                    }
                    for name, alert in entries.items()
                }
            },
        )


def _name(key: AlertKey) -> str:
    return f"{key[0]} {key[1]}"
