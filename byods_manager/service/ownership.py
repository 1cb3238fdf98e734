"""Which replica keeps which org: one lease ``org:<org_id>`` per org in the shared store.

Each cycle, :class:`Ownership` renews the leases this replica holds, tries to acquire the
ones it does not, and hands the keepalive loop only the orgs it owns. A replica that dies
stops renewing; its leases expire after ``lease_seconds`` and the next replica to run a
cycle takes them over (so within two lease periods when replicas wake every third of a
lease). A replica that cannot renew a lease stops working on that org in the same cycle.
Each change is logged once: ``owns``, ``took_over`` (from an expired owner), ``lost``.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .orgs import OrgSource, OrgTarget

if TYPE_CHECKING:
    from ..stores.base import StateStore
    from .logs import EventLog

DEFAULT_LEASE_SECONDS = 60.0
LEASE_PREFIX = "org:"


def replica_id() -> str:
    """``hostname:pid:random``: unique per process, readable in ``byods store status``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def lease_name(org_id: str) -> str:
    return f"{LEASE_PREFIX}{org_id}"


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
    ) -> None:
        self.source = source
        self.store = store
        self.owner_id = owner_id
        self.lease_seconds = lease_seconds
        self.log = log
        self.held: set[str] = set()

    def __call__(self) -> Sequence[OrgTarget]:
        targets = list(self.source())
        wanted = {target.org_id for target in targets}
        for org_id in sorted(self.held - wanted):
            self._release(org_id)
        owners = {lease.name: lease.owner for lease in self.store.leases()}
        return [target for target in targets if self._claim(target, owners)]

    def _claim(self, target: OrgTarget, owners: dict[str, str]) -> bool:
        name = lease_name(target.org_id)
        if target.org_id in self.held:
            if self.store.renew_lease(name, self.owner_id, self.lease_seconds):
                return True
            self.held.discard(target.org_id)
            self.log.event("lost", "warning", org=target.org_id, owner=owners.get(name))
        if not self.store.acquire_lease(name, self.owner_id, self.lease_seconds):
            return False
        self.held.add(target.org_id)
        previous = owners.get(name)
        if previous is not None and previous != self.owner_id:
            self.log.event("took_over", org=target.org_id, replica=self.owner_id, previous=previous)
        else:
            self.log.event("owns", org=target.org_id, replica=self.owner_id)
        return True

    def _release(self, org_id: str) -> None:
        self.store.release_lease(lease_name(org_id), self.owner_id)
        self.held.discard(org_id)
        self.log.event("released", org=org_id, replica=self.owner_id)

    def release_all(self) -> None:
        """Give every held org back (at shutdown), so another replica need not wait for
        the leases to expire."""
        for org_id in sorted(self.held):
            self._release(org_id)


def owned(
    source: OrgSource,
    store: StateStore,
    owner_id: str,
    lease_seconds: float,
    log: EventLog,
) -> Ownership:
    return Ownership(source, store, owner_id, lease_seconds, log)
