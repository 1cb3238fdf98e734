"""Lease rules on a plain JSON mapping, for backends that keep leases in a document.

A lease is ``{"owner", "expiresAt", "acquiredAt", "renewedAt"}`` (epoch seconds). Whoever
holds it may renew it at any time while the row still names them (nobody else can have
acted in between: taking over changes the owner, releasing removes the row). Anyone may
take a lease whose expiry has passed.

Leases nobody renews are cleared: acquiring a lease (which every keepalive replica does each
cycle, for its presence lease ``replica:<id>``) deletes every lease that expired more than
:data:`STALE_AFTER_PERIODS` lease periods ago (the acquiring call's period), so a replica
that died or scaled away leaves ``byods store status`` after that, and a dead replica's orgs
are long taken over by then (within two periods).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STALE_AFTER_PERIODS = 3


def stale_after_seconds(ttl: float) -> float:
    """How long after its expiry a lease is deleted, for leases of ``ttl`` seconds."""
    return STALE_AFTER_PERIODS * max(0.0, ttl)


@dataclass(frozen=True)
class Lease:
    name: str
    owner: str
    expires_at: float
    acquired_at: float | None = None

    def to_dict(self, now: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "owner": self.owner,
            "expiresInSeconds": round(self.expires_at - now, 1),
            "expired": self.expires_at <= now,
        }


def purge_stale(leases: dict[str, Any], ttl: float, now: float) -> list[str]:
    """Delete the leases that expired more than :func:`stale_after_seconds` ago."""
    limit = now - stale_after_seconds(ttl)
    stale = [
        name
        for name, value in leases.items()
        if isinstance(value, dict)
        and isinstance(value.get("expiresAt"), (int, float))
        and value["expiresAt"] < limit
    ]
    for name in stale:
        del leases[name]
    return stale


def acquire(leases: dict[str, Any], name: str, owner: str, ttl: float, now: float) -> bool:
    purge_stale(leases, ttl, now)
    current = leases.get(name)
    if isinstance(current, dict) and current.get("owner") != owner:
        expires = current.get("expiresAt")
        if isinstance(expires, (int, float)) and expires > now:
            return False
    acquired = now
    if isinstance(current, dict) and current.get("owner") == owner:
        acquired = current.get("acquiredAt", now)
    leases[name] = {
        "owner": owner,
        "expiresAt": now + ttl,
        "acquiredAt": acquired,
        "renewedAt": now,
    }
    return True


def renew(leases: dict[str, Any], name: str, owner: str, ttl: float, now: float) -> bool:
    current = leases.get(name)
    if not isinstance(current, dict) or current.get("owner") != owner:
        return False
    current["expiresAt"] = now + ttl
    current["renewedAt"] = now
    return True


def release(leases: dict[str, Any], name: str, owner: str) -> bool:
    current = leases.get(name)
    if not isinstance(current, dict) or current.get("owner") != owner:
        return False
    del leases[name]
    return True


def listed(leases: dict[str, Any]) -> list[Lease]:
    result = []
    for name, value in sorted(leases.items()):
        if isinstance(value, dict) and isinstance(value.get("expiresAt"), (int, float)):
            acquired = value.get("acquiredAt")
            result.append(
                Lease(
                    str(name),
                    str(value.get("owner")),
                    float(value["expiresAt"]),
                    float(acquired) if isinstance(acquired, (int, float)) else None,
                )
            )
    return result
