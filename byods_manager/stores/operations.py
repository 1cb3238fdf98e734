"""Operations over whole stores (used by `byods store copy`)."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from .base import StateStore


def copy_state(
    origin: StateStore, destination: StateStore, *, force: bool = False
) -> dict[str, Any]:
    """Copy the token document and every section from ``origin`` to ``destination``.

    No token is refreshed. The origin's lock is held for the whole copy, so a refresh on the
    origin cannot rotate a token between the read and the write. A destination that already
    holds something is replaced only with ``force``.
    """
    if origin.backend == destination.backend and origin.location == destination.location:
        raise InputError("--from and --to name the same store")
    with origin.locked():
        state = origin.export_state()
        counts = _counts(state)
        if not (counts["serviceApps"] or counts["integrations"] or counts["sections"]):
            raise InputError(f"nothing to copy: {origin.location} holds no tokens and no sections")
        if not force and _holds_something(destination.export_state()):
            raise InputError(
                f"{destination.location} already holds tokens or sections; "
                "add --force to replace them"
            )
        destination.import_state(state)
    return {"from": origin.location, "to": destination.location, **counts}


def _counts(state: dict[str, Any]) -> dict[str, Any]:
    tokens = state.get("tokens") or {}
    return {
        "serviceApps": len(tokens.get("serviceApps") or {}),
        "integrations": len(tokens.get("integrations") or {}),
        "sections": sorted(state.get("sections") or {}),
    }


def _holds_something(state: dict[str, Any]) -> bool:
    counts = _counts(state)
    return bool(counts["serviceApps"] or counts["integrations"] or counts["sections"])
