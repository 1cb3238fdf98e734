"""Persistence behind the token manager and the fleet: the token document, named JSON
sections, keepalive leases and the org registry, on a file (the default, one host) or on
PostgreSQL (shared by several hosts).

Open a store with :func:`byods_manager.stores.select.open_store`; its interface is
:class:`byods_manager.stores.base.StateStore`. The org registry lives inside the token
document (see :mod:`.file`), so it works unchanged on either backend.

The org registry's names are in :mod:`.orgs`. Nothing is imported here, so that opening
the file store (on every command's start-up path) does not pay for the rest.
"""
