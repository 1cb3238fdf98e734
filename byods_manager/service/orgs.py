"""What keepalive needs to know about an org, whoever keeps the list of orgs.

The CLI makes one :class:`OrgTarget` from the selected org, or (``--all-orgs``) uses
:func:`fleet_org_source`: the fleet's active orgs, which the service asks for at the
start of every cycle (so orgs added, removed or deauthorized meanwhile count).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..audit import AuditLog
    from ..client import DataSourceClient
    from ..fleet.orgs import Fleet
    from ..schema_cache import SchemaCache
    from ..tokens.manager import TokenManager


class OrgLease(Protocol):
    """This replica's claim on an org's work (see service/ownership)."""

    def holds(self) -> bool:
        """Still ours as far as this replica knows (no store round trip)."""
        ...

    def confirm(self) -> bool:
        """Renewed in the store just now: ours for another lease period, so a write may
        start. False when another replica owns the org (or the store cannot say)."""
        ...

    def fresh(self) -> bool:
        """Renewed in the store so recently (a small part of a lease ago, by this
        process's monotonic clock) and not lost since, that a write may go out without
        another round trip. False after a stall: call :meth:`confirm` then."""
        ...


@dataclass(frozen=True)
class OrgTarget:
    org_id: str
    name: str
    # None when a fixed token is used (WEBEX_SERVICE_APP_ACCESS_TOKEN): nothing to refresh.
    tokens: TokenManager | None
    # Called once per org per service lifetime; the client is reused for every cycle.
    client_factory: Callable[[], DataSourceClient]
    # None: no other replica can own this org (nothing to check before writing).
    lease: OrgLease | None = None


OrgSource = Callable[[], Sequence[OrgTarget]]


def fleet_org_source(
    fleet: Fleet, *, audit: AuditLog | None = None, schema_cache: SchemaCache | None = None
) -> OrgSource:
    """Every active org of ``fleet``'s registry, read anew on every call: a deauthorized
    or removed org drops out (and is not touched again), a new one joins."""

    def target(org_id: str, label: str) -> OrgTarget:
        def client() -> DataSourceClient:
            return fleet.client_for_org(org_id, audit=audit, schema_cache=schema_cache)

        return OrgTarget(org_id, label, fleet.token_manager(org_id), client)

    def source() -> Sequence[OrgTarget]:
        return [target(org.org_id, org.label) for org in fleet.active_orgs()]

    return source
