"""The interface every store backend offers (``file`` and ``postgres``).

Three kinds of state:

- the **token document** (:class:`~byods_manager.tokens.store.StoreData`): ``load()``,
  ``save(data)`` and ``locked(scope)``, the contract the token manager was written against:
  ``locked()`` holds a lock every host honours, re-reads, and yields the content; each
  ``save()`` inside it is durable before it returns, so a rotated token is kept before it
  is used. ``scope`` names one credential (:func:`service_app_scope`,
  :func:`integration_scope`): a backend may then lock just that entry, so refreshes of
  different credentials run side by side; ``None`` locks the whole document. Locks nest
  within a thread (take a service app's scope before its integration's, never the other
  way round);
- **sections**: named JSON objects (the org registry lives in one), read freely and changed
  under a per-section lock with :meth:`StateStore.update_section`;
- **leases**: who owns a piece of keepalive work until when; a lease that is not renewed
  expires, so another replica takes the work over.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ByodsError

if TYPE_CHECKING:
    from ..tokens.store import StoreData
    from .leases import Lease


class StoreUnavailableError(ByodsError):
    """The store cannot be reached right now (exit 1: a scheduler simply retries later)."""


class StateStore(Protocol):
    @property
    def location(self) -> str:
        """Where the state lives, safe to print (a path, or a URL without its password)."""

    @property
    def backend(self) -> str:
        """``file`` or ``postgres``."""

    # -- the token document ------------------------------------------------------------

    def load(self) -> StoreData: ...

    def load_credentials(self, service_app_key: str, integration_key: str | None) -> StoreData:
        """:meth:`load` restricted to one service-app entry and one integration entry."""

    def save(self, data: StoreData) -> None: ...

    def locked(self, scope: str | None = None) -> AbstractContextManager[StoreData]: ...

    def reserve(self) -> None:
        """Inside :meth:`locked`, before a refresh token is spent: prove the next save can
        succeed, or raise (nothing was sent)."""

    def release_reservation(self) -> None: ...

    # -- sections ----------------------------------------------------------------------

    def read_section(self, name: str) -> dict[str, Any]:
        """A copy of the section (empty when it does not exist)."""

    def update_section(self, name: str) -> AbstractContextManager[dict[str, Any]]:
        """Lock the section, yield its content; what the block leaves there is written
        when it ends without an exception."""

    # -- leases ------------------------------------------------------------------------

    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool: ...

    def renew_lease(self, name: str, owner: str, ttl_seconds: float) -> bool: ...

    def release_lease(self, name: str, owner: str) -> bool: ...

    def leases(self) -> list[Lease]: ...

    # -- administration ----------------------------------------------------------------

    def migrate(self) -> tuple[int, int]:
        """Bring the schema up to date: (version before, version after)."""

    def status(self) -> dict[str, Any]:
        """What the store holds, without a secret."""

    def export_state(self) -> dict[str, Any]:
        """Everything worth copying: ``{"tokens": <document>, "sections": {...}}``."""

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace the content with :meth:`export_state`'s output (leases are not copied)."""

    def close(self) -> None: ...


def summarize(data: StoreData) -> dict[str, Any]:
    """Counts and expiry times of the token document, never a token."""
    return {
        "serviceApps": {
            key: {"expiresAt": entry.expires_at, "refreshExpiresAt": entry.refresh_expires_at}
            for key, entry in sorted(data.service_apps.items())
        },
        "integrations": {
            key: {"expiresAt": entry.expires_at, "refreshExpiresAt": entry.refresh_expires_at}
            for key, entry in sorted(data.integrations.items())
        },
    }
