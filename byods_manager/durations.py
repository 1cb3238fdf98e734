"""Durations as people type them (``6h``, ``1h30m``) and as they read them (``11h 58m``),
and moments as people read them (UTC plus how far away).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from .errors import InputError

_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> timedelta:
    """Parse ``30s``, ``90m``, ``6h``, ``1d``, ``1h30m``... into a positive timedelta."""
    cleaned = (text or "").strip().lower().replace(" ", "")
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise InputError(
            f"invalid duration {text!r}: use a number with a unit d, h, m or s, e.g. 6h, 90m, 1h30m"
        )
    seconds = sum(
        int(value) * _UNIT_SECONDS[unit]
        for value, unit in zip(match.groups(), "dhms", strict=True)
        if value is not None
    )
    if seconds <= 0:
        raise InputError(f"invalid duration {text!r}: it must be longer than zero")
    return timedelta(seconds=seconds)


def format_span(delta: timedelta) -> str:
    """A non-negative span in its two largest units: ``2d 3h``, ``11h 58m``, ``4m 10s``."""
    total = max(0, int(delta.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {seconds}s" if minutes < 10 and seconds else f"{minutes}m"
    return f"{seconds}s"


def format_remaining(delta: timedelta) -> str:
    """Time left until an expiry, or ``EXPIRED`` once it has passed."""
    if delta.total_seconds() <= 0:
        return "EXPIRED"
    return format_span(delta)


def format_utc(moment: datetime) -> str:
    """``2024-10-18 03:08:35 UTC``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe_moment(moment: datetime, now: datetime | None = None) -> str:
    """A time for people: the UTC time plus how far away it is (``in 11h 58m`` / ``3h ago``)."""
    current = now or datetime.now(timezone.utc)
    delta = moment - current
    if delta.total_seconds() >= 0:
        return f"{format_utc(moment)} (in {format_span(delta)})"
    return f"{format_utc(moment)} ({format_span(-delta)} ago)"
