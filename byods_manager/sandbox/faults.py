"""Injected trouble for resilience tests: latency, 429 with Retry-After, and 5xx."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class Fault:
    """Answer ``status`` to the next ``count`` matching requests.

    ``path`` matches API paths (below the base, e.g. ``/dataSources``) by prefix;
    ``method`` (optional) by equality. With ``after=True`` the request is processed
    first and only the answer is replaced: a POST that "failed" but took effect.
    """

    status: int
    count: int = 1
    path: str = ""
    method: str | None = None
    retry_after: float | None = None
    after: bool = False

    def __post_init__(self) -> None:
        """Check every field (values may come straight from a JSON request)."""
        if not _whole(self.status) or not 400 <= self.status <= 599:
            raise ValueError("'status' must be an HTTP error status (400..599)")
        if not _whole(self.count) or self.count < 1:
            raise ValueError("'count' must be a positive integer")
        if not isinstance(self.path, str):
            raise ValueError("'path' must be a string")
        if self.method is not None and not isinstance(self.method, str):
            raise ValueError("'method' must be a string")
        if self.retry_after is not None and (
            isinstance(self.retry_after, bool) or not isinstance(self.retry_after, (int, float))
        ):
            raise ValueError("'retryAfter' must be a number of seconds")
        self.method = self.method.upper() if self.method else None
        if self.status == 429 and self.retry_after is None:
            self.retry_after = 1
        self.after = bool(self.after)

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        """A fault from the ``/_sandbox/faults`` body (``retryAfter`` in camelCase)."""
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        return cls(
            status=data.get("status"),  # type: ignore[arg-type]  # checked in __post_init__
            count=data.get("count", 1),
            path=data.get("path", ""),
            method=data.get("method"),
            retry_after=data.get("retryAfter"),
            after=data.get("after", False),
        )

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method:
            return False
        return path.startswith(self.path) if self.path else True


class FaultPlan:
    """Thread-safe queue of faults plus a fixed latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency_seconds = 0.0

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.latency_seconds = 0.0

    def pending(self) -> int:
        with self._lock:
            return sum(fault.count for fault in self._faults)

    def take(self, method: str, path: str, after: bool) -> Fault | None:
        """The first matching fault for this phase, consuming one of its uses."""
        with self._lock:
            for fault in self._faults:
                if fault.after == after and fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None
