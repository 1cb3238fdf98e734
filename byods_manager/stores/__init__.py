"""Persistence behind the token manager and the fleet: the interfaces, and the file store.

Today the file store (``tokens.json``) is the only implementation; a PostgreSQL store can
implement :class:`OrgRegistryStore` the same way.
"""

from __future__ import annotations

from .orgs import (
    ACTIVE,
    DEAUTHORIZED,
    SOURCE_CONFIG,
    SOURCE_ORGS_ADD,
    SOURCE_WEBHOOK,
    OrgRecord,
    OrgRegistryStore,
)

__all__ = [
    "ACTIVE",
    "DEAUTHORIZED",
    "SOURCE_CONFIG",
    "SOURCE_ORGS_ADD",
    "SOURCE_WEBHOOK",
    "OrgRecord",
    "OrgRegistryStore",
]
