"""Injected trouble for resilience tests: latency, 429 with Retry-After, and 5xx."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


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

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        status = data.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ValueError("'status' must be an HTTP error status (400..599)")
        count = data.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("'count' must be a positive integer")
        path = data.get("path", "")
        if not isinstance(path, str):
            raise ValueError("'path' must be a string")
        method = data.get("method")
        if method is not None and not isinstance(method, str):
            raise ValueError("'method' must be a string")
        retry_after = data.get("retryAfter")
        if retry_after is not None and (
            isinstance(retry_after, bool) or not isinstance(retry_after, (int, float))
        ):
            raise ValueError("'retryAfter' must be a number of seconds")
        if status == 429 and retry_after is None:
            retry_after = 1
        return cls(
            status=status,
            count=count,
            path=path,
            method=method.upper() if method else None,
            retry_after=retry_after,
            after=bool(data.get("after", False)),
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
