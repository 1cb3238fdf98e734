"""The file backend: today's token file, plus sections and leases kept in the same JSON
document (keys ``sections`` and ``leases``) under the same cross-process file lock.

It serves the processes of one machine; hosts that share state use the PostgreSQL backend.
Every command that needs a token opens this store, so the lease rules and the store
summary are imported only by the methods that use them.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..tokens.store import STORE_VERSION, StoreData, TokenStore

if TYPE_CHECKING:
    from .leases import Lease

SECTIONS_KEY = "sections"
LEASES_KEY = "leases"


class FileStore(TokenStore):
    """A :class:`TokenStore` that also implements the rest of the store interface."""

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def backend(self) -> str:
        return "file"

    # -- sections ----------------------------------------------------------------------

    def read_section(self, name: str) -> dict[str, Any]:
        section = _mapping(self.load().extra, SECTIONS_KEY).get(name)
        return copy.deepcopy(section) if isinstance(section, dict) else {}

    @contextlib.contextmanager
    def update_section(self, name: str) -> Iterator[dict[str, Any]]:
        with self.locked() as data:
            sections = _mapping(data.extra, SECTIONS_KEY)
            current = sections.get(name)
            section: dict[str, Any] = current if isinstance(current, dict) else {}
            yield section
            sections[name] = section
            data.extra[SECTIONS_KEY] = sections
            self.save(data)

    # -- leases ------------------------------------------------------------------------

    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        from . import leases as lease_rules

        return self._change_leases(
            lambda table, now: lease_rules.acquire(table, name, owner, ttl_seconds, now)
        )

    def renew_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        from . import leases as lease_rules

        return self._change_leases(
            lambda table, now: lease_rules.renew(table, name, owner, ttl_seconds, now)
        )

    def release_lease(self, name: str, owner: str) -> bool:
        from . import leases as lease_rules

        return self._change_leases(lambda table, _now: lease_rules.release(table, name, owner))

    def leases(self) -> list[Lease]:
        from . import leases as lease_rules

        return lease_rules.listed(_mapping(self.load().extra, LEASES_KEY))

    def _change_leases(self, change: Any) -> bool:
        """Apply ``change`` to the lease table; saved when the table changed (an acquire
        that fails may still have cleared stale leases)."""
        with self.locked() as data:
            table = _mapping(data.extra, LEASES_KEY)
            before = copy.deepcopy(table)
            changed = bool(change(table, time.time()))
            if table != before:
                data.extra[LEASES_KEY] = table
                self.save(data)
            return changed

    # -- administration ----------------------------------------------------------------

    def migrate(self) -> tuple[int, int]:
        """Nothing to do: the file carries its format version and is read as it is."""
        return STORE_VERSION, STORE_VERSION

    def status(self) -> dict[str, Any]:
        from .base import summarize

        data = self.load()
        now = time.time()
        return {
            "backend": self.backend,
            "location": self.location,
            "exists": self.path.exists(),
            "schemaVersion": STORE_VERSION,
            "supportedSchemaVersion": STORE_VERSION,
            **summarize(data),
            "sections": {
                name: len(value) if isinstance(value, dict) else 0
                for name, value in sorted(_mapping(data.extra, SECTIONS_KEY).items())
            },
            "leases": [lease.to_dict(now) for lease in self.leases()],
        }

    def export_state(self) -> dict[str, Any]:
        document = self.load().to_json()
        sections = document.pop(SECTIONS_KEY, None)
        document.pop(LEASES_KEY, None)
        return {"tokens": document, "sections": sections if isinstance(sections, dict) else {}}

    def import_state(self, state: dict[str, Any]) -> None:
        incoming = StoreData.from_json(state["tokens"])
        with self.locked() as data:
            leases = data.extra.get(LEASES_KEY)
            incoming.extra[SECTIONS_KEY] = dict(state.get("sections") or {})
            if leases:
                incoming.extra[LEASES_KEY] = leases
            self.save(incoming)

    def close(self) -> None:
        """Nothing held open between calls."""


def _mapping(extra: dict[str, Any], key: str) -> dict[str, Any]:
    value = extra.get(key)
    return value if isinstance(value, dict) else {}
