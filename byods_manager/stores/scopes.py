"""Names of the lock scopes of :meth:`StateStore.locked` (one per credential).

A module of its own, free of imports: the token manager needs these names on the start-up
path of every command, where the store interface (a ``Protocol``) is not worth building.
"""

from __future__ import annotations


def service_app_scope(store_key: str) -> str:
    """The lock scope of one service-app entry (``<appId>@<orgId>``)."""
    return f"serviceApps/{store_key}"


def integration_scope(client_id: str) -> str:
    """The lock scope of one integration entry, shared by every org of a fleet."""
    return f"integrations/{client_id}"
