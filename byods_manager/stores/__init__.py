"""Persisted state behind one interface: the token document, named JSON sections (e.g. the
org registry) and keepalive leases. ``file`` is the default; ``postgres`` is shared by hosts.

Open one with :func:`byods_manager.stores.select.open_store`.
"""
