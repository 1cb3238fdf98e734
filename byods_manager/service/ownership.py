"""Which replica keeps which org: one lease ``org:<org_id>`` per org in the shared store.

Each cycle, :class:`Ownership` renews the leases this replica holds, tries to acquire the
ones it does not, and hands the keepalive loop only the orgs it owns. The orgs are spread:
every replica also holds a presence lease ``replica:<id>``, and takes at most its fair
share of the orgs (``ceil(orgs / live replicas)``), handing over (releasing) what it holds
beyond it, e.g. when more replicas start. While a pass runs,
a heartbeat (:mod:`.lease_heartbeat`) renews the held leases every third of a lease, so a
pass longer than the lease keeps its orgs; and right before each write (an extension) the
org's lease is renewed once more in the store (:meth:`Ownership.confirm`): a replica that
lost an org (another took it over) stops working on it in the same pass, and the new
owner cannot act on that org before a lease period after that write began. Between an
extension's GET and its PUT the claim is checked again (:meth:`Ownership.fresh`, else
:meth:`Ownership.confirm`), so a stall in between sends no stale PUT.

A replica that dies stops renewing; its leases expire after ``lease_seconds`` and the
next replica to run a cycle takes them over (so within two lease periods when replicas
wake every third of a lease). Each change is logged once: ``owns``, ``took_over`` (from
an expired owner), ``lost``, ``released``.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..stores.base import StoreUnavailableError
from .orgs import OrgSource, OrgTarget

if TYPE_CHECKING:
    from ..stores.base import StateStore
    from ..stores.leases import Lease
    from .logs import EventLog

DEFAULT_LEASE_SECONDS = 60.0
# A renewal younger than this share of the lease is trusted right before a write without
# asking the store again (see :meth:`Ownership.fresh`).
FRESH_FRACTION = 1 / 3
LEASE_PREFIX = "org:"
REPLICA_PREFIX = "replica:"


def replica_id() -> str:
    """``hostname:pid:random``: unique per process, readable in ``byods store status``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def lease_name(org_id: str) -> str:
    return f"{LEASE_PREFIX}{org_id}"


def live_replicas(leases: Sequence[Lease], now: float) -> int:
    """Replicas whose presence lease has not expired (at least this one)."""
    alive = sum(
        1 for lease in leases if lease.name.startswith(REPLICA_PREFIX) and lease.expires_at > now
    )
    return max(1, alive)


def fair_share(orgs: int, replicas: int) -> int:
    """The most orgs one replica takes while others are alive: ``ceil(orgs / replicas)``,
    so the orgs spread over the replicas and every org still finds an owner."""
    return -(-orgs // max(1, replicas))


class Ownership:
    """An :data:`OrgSource` that yields only the orgs this replica holds the lease of.

    A store that cannot be reached raises
    :class:`~byods_manager.stores.base.StoreUnavailableError` from the call: the caller
    does no work that cycle (it cannot know who owns what) and retries later.
    """

    def __init__(
        self,
        source: OrgSource,
        store: StateStore,
        owner_id: str,
        lease_seconds: float,
        log: EventLog,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.store = store
        self.owner_id = owner_id
        self.lease_seconds = lease_seconds
        self.log = log
        # Monotonic seconds (a parameter so tests can stand for a stall of the process).
        self.clock = clock
        # org -> monotonic time just before the last renewal the store confirmed: the
        # lease runs at least until that moment plus lease_seconds.
        self._renewed: dict[str, float] = {}
        self._lock = threading.Lock()
        # Orgs of the fleet another replica held at the last cycle -> that replica.
        self._elsewhere: dict[str, str] = {}
        self.presence = f"{REPLICA_PREFIX}{owner_id}"

    @property
    def held(self) -> set[str]:
        with self._lock:
            return set(self._renewed)

    def __call__(self) -> Sequence[OrgTarget]:
        targets = list(self.source())
        wanted = {target.org_id for target in targets}
        for org_id in sorted(self.held - wanted):
            self._release(org_id)
        self._announce()
        leases = self.store.leases()
        owners = {lease.name: lease.owner for lease in leases}
        claimed = self._claim_share(targets, leases, owners)
        self._elsewhere = {
            org_id: self._other_owner(owners.get(lease_name(org_id))) for org_id in wanted - claimed
        }
        return [
            dataclasses.replace(target, lease=OrgClaim(self, target.org_id))
            for target in targets
            if target.org_id in claimed
        ]

    def _claim_share(
        self, targets: list[OrgTarget], leases: Sequence[Lease], owners: dict[str, str]
    ) -> set[str]:
        """Keep the held orgs up to this replica's fair share (handing the rest over),
        then take free or expired ones until the share is reached."""
        now = time.time()
        share = fair_share(len(targets), live_replicas(leases, now))
        # Held by another replica and not expired: not worth an acquire attempt.
        busy = {lease.name for lease in leases if lease.owner != self.owner_id}
        busy -= {lease.name for lease in leases if lease.expires_at <= now}
        held = self.held
        mine = [t.org_id for t in targets if t.org_id in held and self._claim(t, owners)]
        for org_id in mine[share:]:
            self._release(org_id)
        mine = mine[:share]
        for target in targets:
            if len(mine) >= share:
                break
            free = target.org_id not in held and lease_name(target.org_id) not in busy
            if free and self._claim(target, owners):
                mine.append(target.org_id)
        return set(mine)

    def _announce(self) -> None:
        """This replica's presence lease, which the others count to size their share."""
        self.store.acquire_lease(self.presence, self.owner_id, self.lease_seconds)

    def _other_owner(self, seen: str | None) -> str:
        """The replica named in the lease (read before this cycle's claims, so it may
        still name this one when the org was just lost)."""
        return (
            f"replica {seen}" if seen is not None and seen != self.owner_id else "another replica"
        )

    def owner_elsewhere(self, org_id: str) -> str | None:
        """Who keeps ``org_id`` instead of this replica (``replica <id>``); None when the
        org is not in the fleet any more."""
        return self._elsewhere.get(org_id)

    def _claim(self, target: OrgTarget, owners: dict[str, str]) -> bool:
        org_id = target.org_id
        name = lease_name(org_id)
        if org_id in self.held and self._renew(org_id):
            return True
        started = self.clock()
        if not self.store.acquire_lease(name, self.owner_id, self.lease_seconds):
            return False
        with self._lock:
            self._renewed[org_id] = started
        previous = owners.get(name)
        if previous is not None and previous != self.owner_id:
            self.log.event("took_over", org=org_id, replica=self.owner_id, previous=previous)
        else:
            self.log.event("owns", org=org_id, replica=self.owner_id)
        return True

    def _renew(self, org_id: str) -> bool:
        """Renew one held lease in the store; on refusal the org is dropped (logged once).
        :class:`StoreUnavailableError` passes through (the lease may still be ours)."""
        started = self.clock()
        renewed = self.store.renew_lease(lease_name(org_id), self.owner_id, self.lease_seconds)
        with self._lock:
            if org_id not in self._renewed:
                return False  # released meanwhile
            if renewed:
                self._renewed[org_id] = max(self._renewed[org_id], started)
                return True
            del self._renewed[org_id]
        self.log.event("lost", "warning", org=org_id, replica=self.owner_id)
        return False

    def renew_held(self) -> None:
        """The heartbeat: renew every held lease (a store outage is left to :meth:`holds`,
        which stops trusting a lease once it may have run out)."""
        try:
            self.store.renew_lease(self.presence, self.owner_id, self.lease_seconds)
            for org_id in sorted(self.held):
                self._renew(org_id)
        except StoreUnavailableError:
            return

    def holds(self, org_id: str) -> bool:
        """Held, and renewed recently enough that no other replica can have taken it."""
        with self._lock:
            renewed = self._renewed.get(org_id)
        return renewed is not None and self.clock() - renewed < self.lease_seconds

    def fresh(self, org_id: str) -> bool:
        """Held (the heartbeat has not found it lost) and renewed less than
        :data:`FRESH_FRACTION` of a lease ago: a write may go out without asking the store
        again. After a stall (GC pause, frozen VM) the last renewal is old, so this is
        False even before the heartbeat has run again."""
        with self._lock:
            renewed = self._renewed.get(org_id)
        return renewed is not None and self.clock() - renewed < self.lease_seconds * FRESH_FRACTION

    def confirm(self, org_id: str) -> bool:
        """Renew ``org_id``'s lease now, before a write; False if it is no longer ours or
        the store cannot confirm it (the write waits for a later pass)."""
        try:
            return self._renew(org_id)
        except StoreUnavailableError:
            return False

    def _release(self, org_id: str) -> None:
        with self._lock:
            self._renewed.pop(org_id, None)
        self.store.release_lease(lease_name(org_id), self.owner_id)
        self.log.event("released", org=org_id, replica=self.owner_id)

    def release_all(self) -> None:
        """Give every held org back (at shutdown), so another replica need not wait for
        the leases to expire."""
        for org_id in sorted(self.held):
            self._release(org_id)
        self.store.release_lease(self.presence, self.owner_id)


@dataclasses.dataclass(frozen=True)
class OrgClaim:
    """One org's lease as the org's pass sees it (:class:`~.orgs.OrgLease`)."""

    ownership: Ownership
    org_id: str

    def holds(self) -> bool:
        return self.ownership.holds(self.org_id)

    def confirm(self) -> bool:
        return self.ownership.confirm(self.org_id)

    def fresh(self) -> bool:
        return self.ownership.fresh(self.org_id)


def owned(
    source: OrgSource,
    store: StateStore,
    owner_id: str,
    lease_seconds: float,
    log: EventLog,
) -> Ownership:
    return Ownership(source, store, owner_id, lease_seconds, log)
