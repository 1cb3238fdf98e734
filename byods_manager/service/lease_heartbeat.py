"""Renew the held org leases every third of a lease, whatever the keepalive loop is doing
(a long pass, a slow request): a pass longer than the lease keeps its orgs."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ownership import Ownership

BEATS_PER_LEASE = 3


class LeaseHeartbeat:
    def __init__(self, ownership: Ownership, stop: threading.Event) -> None:
        self.ownership = ownership
        self.stop = stop
        self.period = ownership.lease_seconds / BEATS_PER_LEASE
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self.stop.wait(self.period):
            self.ownership.renew_held()

    def join(self, timeout: float | None = None) -> None:
        """After ``stop`` is set: wait for a renewal under way (before leases are released)."""
        if self._thread.is_alive():
            self._thread.join(timeout)
