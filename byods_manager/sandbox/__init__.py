"""An embedded, loopback-only stand-in for the parts of Webex byods-manager talks to.

Start it with ``byods sandbox`` or, in Python, ``with Sandbox() as sandbox: ...``.
See :mod:`byods_manager.sandbox.admin` for the ``/_sandbox/...`` test controls.
``Sandbox`` is imported on first use, so the CLI can read the controls table cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Sandbox

__all__ = ["Sandbox"]


def __getattr__(name: str) -> Any:
    if name == "Sandbox":
        from .app import Sandbox

        return Sandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
