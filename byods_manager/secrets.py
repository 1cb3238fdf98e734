"""Keep secrets out of output: show at most a short prefix."""

from __future__ import annotations

PREFIX_LENGTH = 6


def redact(secret: str | None) -> str:
    """Return a short, safe-to-print stand-in for a secret."""
    if not secret:
        return "(none)"
    if len(secret) <= PREFIX_LENGTH * 2:
        return "…"
    return secret[:PREFIX_LENGTH] + "…"
