"""Durations as people type them (``6h``, ``1h30m``) and as they read them (``11h 58m``),
and moments as people read them (UTC plus how far away).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from .errors import InputError

_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# The longest duration accepted anywhere (timeouts, renewal windows, intervals): ten years.
# Far beyond any useful setting, yet small enough that adding it to "now" never overflows.
MAX_DURATION = timedelta(days=3650)
# More digits than this in one number is beyond MAX_DURATION in any unit; checked before
# int() so an absurdly long number never reaches Python's int-parsing limits.
_MAX_DIGITS = 12
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> timedelta:
    """Parse ``30s``, ``90m``, ``6h``, ``1d``, ``1h30m``... into a positive timedelta."""
    cleaned = (text or "").strip().lower().replace(" ", "")
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise InputError(
            f"invalid duration {_shown(text)}: use a number with a unit d, h, m or s, "
            "e.g. 6h, 90m, 1h30m"
        )
    seconds = sum(
        _UNIT_SECONDS[unit] * _bounded_int(value)
        for value, unit in zip(match.groups(), "dhms", strict=True)
        if value is not None
    )
    if seconds <= 0:
        raise InputError(f"invalid duration {_shown(text)}: it must be longer than zero")
    if seconds > MAX_DURATION.total_seconds():
        raise InputError(
            f"invalid duration {_shown(text)}: the longest accepted is "
            f"{MAX_DURATION.days}d (ten years)"
        )
    return timedelta(seconds=seconds)


def _bounded_int(digits: str) -> int:
    """The number, or 10**_MAX_DIGITS for anything longer (already far too large)."""
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= _MAX_DIGITS else 10**_MAX_DIGITS


def _shown(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 40 else shown[:37] + "...'"


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
