"""The keepalive loop: one pass over every org, then sleep until the next thing is due.

``run_once`` is the ``--once`` mode (cron, systemd timer, Kubernetes CronJob);
``run_forever`` is the service. Both stop taking new work once ``stop`` is set; the
request in flight finishes first.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..fleet.runner import run_concurrently
from ..stores.base import StoreUnavailableError
from .alerts import Alerter
from .cycle import OrgReport, Settings, Sinks
from .logs import EventLog, utc_iso
from .metrics import KeepaliveMetrics
from .org_keeper import OrgKeeper
from .orgs import OrgSource, OrgTarget
from .scheduler import DEFAULT_INTERVAL_SECONDS, next_wake, store_retry_delay

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_AUTH = 3


@dataclass
class CycleResult:
    reports: list[OrgReport] = field(default_factory=list)
    finished_at: float = 0.0

    @property
    def ok(self) -> bool:
        return all(report.ok for report in self.reports)

    @property
    def auth_required(self) -> bool:
        return any(report.auth_required for report in self.reports)

    @property
    def exit_code(self) -> int:
        if self.auth_required:
            return EXIT_AUTH
        return EXIT_OK if self.ok else EXIT_FAILED

    def due_times(self) -> list[float]:
        return [due for report in self.reports for due in report.due_times]

    def problems(self) -> list[str]:
        return [f"{r.org}: {failure}" for r in self.reports for failure in r.failures]


class KeepaliveService:
    def __init__(
        self,
        orgs: OrgSource,
        *,
        settings: Settings,
        metrics: KeepaliveMetrics,
        alerter: Alerter,
        log: EventLog,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        stop: threading.Event | None = None,
        concurrency: int = 1,
        owner_elsewhere: Callable[[str], str | None] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.orgs = orgs
        self.settings = settings
        self.metrics = metrics
        self.alerter = alerter
        self.log = log
        self.interval = interval
        self.stop = stop or threading.Event()
        self.concurrency = max(1, concurrency)
        # Which replica keeps an org this one stopped keeping (None: it left the fleet).
        self.owner_elsewhere = owner_elsewhere or (lambda org_id: None)
        # Draws the store-retry jitter (a parameter so tests can fix it).
        self.jitter = jitter
        self.cycles = 0
        self.last: CycleResult | None = None
        # Why the state store could not be reached, while it cannot (None: it answers).
        self.store_outage: str | None = None
        self._keepers: dict[str, OrgKeeper] = {}

    def run_once(self) -> CycleResult:
        """One pass over the orgs the source names now (re-read every cycle, so orgs added,
        removed or deauthorized meanwhile count); up to ``concurrency`` orgs at once, so a
        slow or failing org holds up no other."""
        result = CycleResult()
        targets = list(self.orgs())
        wanted = {target.org_id for target in targets}
        for org_id in set(self._keepers) - wanted:
            self._let_go(org_id)
        keepers = [self._keeper(target) for target in targets]

        def run(keeper: OrgKeeper) -> OrgReport | None:
            return None if self.stop.is_set() else keeper.run()

        if self.concurrency == 1 or len(keepers) <= 1:
            reports = [run(keeper) for keeper in keepers]
        else:
            reports = run_concurrently(keepers, run, self.concurrency)
        result.reports.extend(report for report in reports if report is not None)
        result.finished_at = time.time()
        self.cycles += 1
        if result.ok and not self.stop.is_set():
            self.metrics.last_success.set(result.finished_at)
        self.last = result
        self.log.event(
            "cycle",
            "info" if result.ok else "warning",
            orgs=len(result.reports),
            lists=sum(r.lists for r in result.reports),
            extended=sum(r.extended for r in result.reports),
            failures=len(result.problems()),
        )
        return result

    def _let_go(self, org_id: str) -> None:
        """Stop keeping ``org_id``. Its open alerts are closed either way (nothing here
        would resolve them); when another replica took the org over, the closing message
        says so, and that replica announces again whatever is still wrong."""
        keeper = self._keepers.pop(org_id)
        owner = self.owner_elsewhere(org_id)
        if owner is None:
            self.log.event("org_dropped", org=org_id)
            keeper.retire()
            return
        self.log.event("org_handed_over", org=org_id, owner=owner)
        keeper.retire(
            f"Org {org_id} is now kept by {owner}, which reports on it from now on "
            "(it announces again whatever is still wrong)."
        )

    def _keeper(self, target: OrgTarget) -> OrgKeeper:
        keeper = self._keepers.get(target.org_id)
        if keeper is None:
            sinks = Sinks(self.metrics, self.alerter, self.log)
            keeper = OrgKeeper(target, self.settings, sinks, self.stop)
            self._keepers[target.org_id] = keeper
        return keeper

    def run_forever(self) -> None:
        outages = 0
        while not self.stop.is_set():
            try:
                result = self.run_once()
            except StoreUnavailableError as exc:
                # One line per outage, then quiet retries with backoff until the store is back.
                if outages == 0:
                    self.log.event("store_unavailable", "error", error=str(exc))
                outages += 1
                self._store_down(str(exc))
                delay = round(store_retry_delay(outages, self.interval, self.jitter()), 3)
                self.log.event("store_retry", "debug", attempt=outages, seconds=delay)
                self.stop.wait(delay)
                continue
            self._store_up()
            if outages:
                self.log.event("store_available", after_attempts=outages)
                outages = 0
            now = time.time()
            wake = next_wake(now, result.due_times(), self.interval)
            self.log.event("sleeping", "debug", until=utc_iso(wake), seconds=round(wake - now, 1))
            self.stop.wait(max(0.0, wake - now))

    def _store_down(self, error: str) -> None:
        self.store_outage = error
        self.metrics.store_available.set(0)

    def _store_up(self) -> None:
        self.store_outage = None
        self.metrics.store_available.set(1)

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy while the last cycle succeeded; the reason otherwise (a store outage
        counts: no cycle can run then)."""
        outage = self.store_outage
        if outage is not None:
            return False, {
                "status": "failing",
                "reason": f"the state store cannot be reached: {outage}",
                "cycles": self.cycles,
                "activeAlerts": len(self.alerter.active()),
            }
        last = self.last
        if last is None:
            return False, {"status": "starting", "reason": "no cycle has finished yet"}
        body: dict[str, Any] = {
            "cycles": self.cycles,
            "lastCycleAt": utc_iso(last.finished_at),
            "activeAlerts": len(self.alerter.active()),
        }
        if last.ok:
            return True, {"status": "ok", **body}
        reason = "re-authorization needed" if last.auth_required else "last cycle had failures"
        return False, {"status": "failing", "reason": reason, "problems": last.problems(), **body}

    def close(self) -> None:
        for keeper in self._keepers.values():
            keeper.close()
        self._keepers.clear()
