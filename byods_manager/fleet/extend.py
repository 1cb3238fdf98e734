"""Extend the data sources of one or many orgs concurrently (``extend --all``,
``--all-orgs``), continuing past failures.

One worker pool does both: each org's list is read by one worker, and as soon as it is,
that org's data sources due are queued for extending (one GET and one PUT each), so N
data sources cost about 1 + 2N/concurrency round trips and an org slow to list holds up
no other. An org whose authentication fails is reported once, and
its remaining data sources are marked failed without sending anything, so a deauthorized
org does not slow the others down. ``dry_run`` sends no PUT: it reads the data source
(its list item may not say whether it is disabled) and reports what would be extended.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ..bulk import EXTENDED, FAILED, SKIPPED, ItemResult, skip_reason
from ..errors import AuthRequiredError, ByodsError
from .runner import DEFAULT_CONCURRENCY, MAX_CONCURRENCY, WorkerClients

if TYPE_CHECKING:
    from ..client import DataSourceClient
    from ..models import DataSource

WOULD_EXTEND = "would-extend"


@dataclass
class OrgItem:
    """One data source's outcome, with the org it belongs to."""

    org: str
    item: ItemResult
    org_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"org": self.org, "orgId": self.org_id, **self.item.to_dict()}


@dataclass
class OrgFailure:
    """An org none of whose data sources could be worked (its whole error message)."""

    org: str
    error: str
    exit_code: int = 1
    during_run: bool = False  # authentication failed while extending, not while listing
    org_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"org": self.org, "orgId": self.org_id, "error": self.error}


@dataclass
class FleetExtendResult:
    items: list[OrgItem] = field(default_factory=list)
    org_failures: list[OrgFailure] = field(default_factory=list)
    dry_run: bool = False

    def count(self, outcome: str) -> int:
        return sum(1 for entry in self.items if entry.item.outcome == outcome)

    @property
    def ok(self) -> bool:
        return not self.org_failures and self.count(FAILED) == 0

    def summary(self) -> str:
        if self.dry_run:
            text = f"{self.count(WOULD_EXTEND)} would be extended, {self.count(SKIPPED)} skipped"
        else:
            text = f"{self.count(EXTENDED)} extended, {self.count(SKIPPED)} skipped"
        text += f", {self.count(FAILED)} failed"
        if self.org_failures:
            text += f"; {len(self.org_failures)} org(s) failed"
        return text

    def to_dict(self, with_org: bool) -> dict[str, Any]:
        results = [e.to_dict() if with_org else e.item.to_dict() for e in self.items]
        summary: dict[str, Any] = {
            "extended": self.count(EXTENDED),
            "skipped": self.count(SKIPPED),
            "failed": self.count(FAILED),
        }
        if self.dry_run:
            summary["wouldExtend"] = self.count(WOULD_EXTEND)
        payload: dict[str, Any] = {"results": results, "summary": summary, "dryRun": self.dry_run}
        if with_org or self.org_failures:
            payload["orgFailures"] = [f.to_dict() for f in self.org_failures]
        return payload


@dataclass(frozen=True)
class _Job:
    org: str
    label: str
    data_source: DataSource


def extend_orgs(
    client_factory: Callable[[str], DataSourceClient],
    orgs: Sequence[tuple[str, str]],
    *,
    within: timedelta | None = None,
    lifetime_minutes: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    dry_run: bool = False,
    on_item: Callable[[OrgItem], None] | None = None,
    on_org_failure: Callable[[OrgFailure], None] | None = None,
    on_listed: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> FleetExtendResult:
    """Extend what is due in every org of ``orgs`` (pairs of org id and display label).

    ``client_factory(org_id)`` makes a client with its own HTTP session; each worker
    thread gets its own. One pool does everything: an org's data sources are queued for
    extending as soon as its own list is read, so an org that is slow to list (or to
    fail) holds up no other. ``on_listed`` learns the number of items the run will
    report so far, again after each org is listed. The callbacks run in the calling
    thread.
    """
    current = now or datetime.now(timezone.utc)
    result = FleetExtendResult(dry_run=dry_run)
    clients = WorkerClients(client_factory)
    # orgs whose authentication failed while extending: their other items are not sent
    failed_orgs: dict[str, OrgFailure] = {}
    failed_lock = threading.Lock()
    listing_failures: dict[str, OrgFailure] = {}
    listed = 0

    def list_org(org: tuple[str, str]) -> tuple[list[DataSource], OrgFailure | None]:
        try:
            return clients.get(org[0]).list(), None
        except ByodsError as exc:
            return [], OrgFailure(org[1], str(exc), exc.exit_code, org_id=org[0])

    def extend_one(job: _Job) -> OrgItem:
        with failed_lock:
            org_failure = failed_orgs.get(job.org)
        if org_failure is not None:
            detail = _first_line(org_failure.error)
            return OrgItem(job.label, ItemResult(job.data_source.id, FAILED, detail), job.org)
        client = clients.get(job.org)
        try:
            if dry_run:
                return OrgItem(job.label, _dry_run_item(client, job.data_source), job.org)
            extended = client.extend(job.data_source.id, lifetime_minutes, skip_disabled=True)
        except AuthRequiredError as exc:
            failure = OrgFailure(
                job.label, str(exc), exc.exit_code, during_run=True, org_id=job.org
            )
            with failed_lock:
                failed_orgs.setdefault(job.org, failure)
            detail = _first_line(failure.error)
            return OrgItem(job.label, ItemResult(job.data_source.id, FAILED, detail), job.org)
        except ByodsError as exc:
            item = ItemResult(
                job.data_source.id,
                FAILED,
                str(exc),
                tracking_id=getattr(exc, "tracking_id", None),
            )
            return OrgItem(job.label, item, job.org)
        if extended.is_disabled:
            return OrgItem(job.label, ItemResult(extended.id, SKIPPED, "disabled"), job.org)
        return OrgItem(
            job.label, ItemResult(extended.id, EXTENDED, "", extended.expires_at), job.org
        )

    def report(entry: OrgItem) -> None:
        result.items.append(entry)
        if on_item is not None:
            on_item(entry)

    def listing_done(
        org: tuple[str, str], data_sources: list[DataSource], failure: OrgFailure | None
    ) -> list[_Job]:
        """Report the org's failure or its skipped items; the jobs it needs."""
        nonlocal listed
        if failure is not None:
            listing_failures[org[0]] = failure
            if on_org_failure is not None:
                on_org_failure(failure)
            return []
        jobs: list[_Job] = []
        skipped: list[OrgItem] = []
        for data_source in data_sources:
            reason = skip_reason(data_source, within, current)
            if reason is None:
                jobs.append(_Job(org[0], org[1], data_source))
            else:
                item = ItemResult(data_source.id, SKIPPED, reason, data_source.expires_at)
                skipped.append(OrgItem(org[1], item, org[0]))
        listed += len(jobs) + len(skipped)
        if on_listed is not None:
            on_listed(listed)
        for entry in skipped:
            report(entry)
        return jobs

    workers = max(1, min(concurrency, MAX_CONCURRENCY))
    # Finished futures arrive here one by one: concurrent.futures.wait() over every pending
    # future costs O(pending) per call, which with thousands queued was a good part of the
    # client's CPU (and held the GIL the workers need).
    finished: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="byods") as pool:
            # a listing's future maps to its org; an extension's to None
            pending: dict[Future[Any], tuple[str, str] | None] = {}

            def submit(task: Future[Any], org: tuple[str, str] | None) -> None:
                pending[task] = org
                task.add_done_callback(finished.put)

            for listed_org in orgs:
                submit(pool.submit(list_org, listed_org), listed_org)
            if not orgs and on_listed is not None:
                on_listed(0)
            try:
                while pending:
                    future = finished.get()
                    org = pending.pop(future)
                    if org is None:
                        report(future.result())
                        continue
                    data_sources, failure = future.result()
                    for job in listing_done(org, data_sources, failure):
                        submit(pool.submit(extend_one, job), None)
            except BaseException:  # Ctrl-C, a closed pipe: send nothing that is not in flight
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    finally:
        clients.close()
    # listing failures in the order the orgs were given, then those found while extending
    result.org_failures.extend(listing_failures[o] for o, _ in orgs if o in listing_failures)
    result.org_failures.extend(failed_orgs.values())
    return result


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else "failed"


def _dry_run_item(client: DataSourceClient, data_source: DataSource) -> ItemResult:
    """What extending would do, learned with reads only."""
    current = data_source if data_source.status else client.get(data_source.id)
    if current.is_disabled:
        return ItemResult(current.id, SKIPPED, "disabled")
    return ItemResult(current.id, WOULD_EXTEND, "", current.expires_at)
