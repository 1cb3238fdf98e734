"""An embedded, loopback-only stand-in for the parts of Webex byods-manager talks to.

Start it with ``byods sandbox`` or, in Python, ``with Sandbox() as sandbox: ...``.
See :mod:`byods_manager.sandbox.admin` for the ``/_sandbox/...`` test controls.
"""

from __future__ import annotations

from .app import Sandbox

__all__ = ["Sandbox"]
