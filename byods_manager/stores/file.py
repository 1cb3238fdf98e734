"""The org registry inside the token file: a top-level ``orgs`` section of ``tokens.json``.

``{"orgs": {"<orgId>": {"name", "status", "source", "addedAt"}}}`` sits next to
``serviceApps`` and ``integrations``, so it shares their lock, atomic writes and 0600 mode.
The token store keeps unknown top-level sections untouched, so older versions of the tool
preserve the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..tokens.store import StoreData
from .orgs import OrgRecord

if TYPE_CHECKING:
    from .base import StateStore

SECTION = "orgs"


class FileOrgRegistry:
    """:class:`~byods_manager.stores.orgs.OrgRegistryStore` inside the token document of any
    store backend (the file, or PostgreSQL where it shares the document's lock)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def load_orgs(self) -> list[OrgRecord]:
        return _records(self.store.load())

    def save_org(self, record: OrgRecord) -> None:
        with self.store.locked() as data:
            _section(data)[record.org_id] = record.to_json()
            self.store.save(data)

    def remove_org(self, org_id: str, drop_tokens_key: str | None = None) -> bool:
        with self.store.locked() as data:
            section = _section(data)
            if org_id not in section:
                return False
            del section[org_id]
            if drop_tokens_key is not None:
                data.service_apps.pop(drop_tokens_key, None)
            self.store.save(data)
            return True

    def set_status(self, org_id: str, status: str, drop_tokens_key: str | None = None) -> bool:
        with self.store.locked() as data:
            section = _section(data)
            if org_id not in section:
                return False
            record = OrgRecord.from_json(org_id, section[org_id])
            record.status = status
            section[org_id] = record.to_json()
            if drop_tokens_key is not None:
                data.service_apps.pop(drop_tokens_key, None)
            self.store.save(data)
            return True


def _section(data: StoreData) -> dict[str, Any]:
    """The section as a fresh dict (loaded copies share nested objects with the cache)."""
    current = data.extra.get(SECTION)
    section = dict(current) if isinstance(current, dict) else {}
    data.extra[SECTION] = section
    return section


def _records(data: StoreData) -> list[OrgRecord]:
    section = data.extra.get(SECTION)
    if not isinstance(section, dict):
        return []
    records = [OrgRecord.from_json(str(k), v) for k, v in section.items()]
    return sorted(records, key=lambda r: (r.added_at, r.org_id))
