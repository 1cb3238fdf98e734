"""The org registry's record and the interface every store implements for it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

ACTIVE = "active"
DEAUTHORIZED = "deauthorized"
STATUSES = (ACTIVE, DEAUTHORIZED)

SOURCE_CONFIG = "config"
SOURCE_ORGS_ADD = "orgs add"
SOURCE_WEBHOOK = "webhook"


@dataclass
class OrgRecord:
    """One customer org the service app serves."""

    org_id: str
    name: str | None = None
    status: str = ACTIVE
    source: str = SOURCE_ORGS_ADD
    added_at: float = field(default_factory=time.time)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def label(self) -> str:
        """The name when there is one, else the org id."""
        return self.name or self.org_id

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "source": self.source,
            "addedAt": self.added_at,
        }

    @classmethod
    def from_json(cls, org_id: str, data: Any) -> OrgRecord:
        """Lenient: a damaged field falls back to its default rather than hiding the org."""
        if not isinstance(data, dict):
            data = {}
        name = data.get("name")
        status = data.get("status")
        source = data.get("source")
        added = data.get("addedAt")
        return cls(
            org_id=org_id,
            name=name if isinstance(name, str) and name else None,
            status=status if status in STATUSES else ACTIVE,
            source=source if isinstance(source, str) and source else SOURCE_ORGS_ADD,
            added_at=float(added)
            if isinstance(added, (int, float)) and not isinstance(added, bool)
            else 0.0,
        )


class OrgRegistryStore(Protocol):
    """Where the org registry persists. Every method is atomic across processes."""

    def load_orgs(self) -> list[OrgRecord]:
        """Every registered org, in the order they were added."""
        ...

    def save_org(self, record: OrgRecord) -> None:
        """Insert or replace the record with ``record.org_id``."""
        ...

    def remove_org(self, org_id: str, drop_tokens_key: str | None = None) -> bool:
        """Forget the org (and the token entry ``drop_tokens_key``); False if unknown."""
        ...

    def set_status(self, org_id: str, status: str, drop_tokens_key: str | None = None) -> bool:
        """Change the org's status (dropping ``drop_tokens_key``'s tokens); False if unknown."""
        ...
