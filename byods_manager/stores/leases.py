"""Lease rules on a plain JSON mapping, for backends that keep leases in a document.

A lease is ``{"owner", "expiresAt", "acquiredAt", "renewedAt"}`` (epoch seconds). Whoever
holds it may renew it at any time while the row still names them (nobody else can have
acted in between: taking over changes the owner, releasing removes the row). Anyone may
take a lease whose expiry has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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


def acquire(leases: dict[str, Any], name: str, owner: str, ttl: float, now: float) -> bool:
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
