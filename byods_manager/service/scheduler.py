"""When to renew and when to wake up: pure functions over epoch seconds, no I/O.

Renewal follows cert-manager: a credential is renewed once it enters its renewal
window, ``renew_before`` ahead of its expiry (default: one third of its lifetime). A
deterministic jitter, derived from the credential's identity and expiry, moves each
renewal a little earlier so a fleet does not renew in lockstep, while repeated cycles of
one process agree on the same moment (no flip-flopping, no double renewals).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

DEFAULT_RENEW_FRACTION = 1 / 3
# At most this share of the renewal window is spent on jitter (renewing earlier, never later).
JITTER_FRACTION = 0.1
DEFAULT_INTERVAL_SECONDS = 600.0
MIN_SLEEP_SECONDS = 1.0
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 300.0


def jitter_unit(key: str) -> float:
    """A stable pseudo-random number in [0, 1) for ``key``."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def renew_window(issued_at: float | None, expires_at: float, renew_before: float | None) -> float:
    """Seconds before ``expires_at`` at which renewal starts (never longer than the lifetime).

    Without ``renew_before`` the window is a third of the lifetime ``issued_at..expires_at``;
    without ``issued_at`` either, there is nothing to take a third of, so the window is 0
    and the caller renews only at expiry (callers pass a default in that case).
    """
    lifetime = None if issued_at is None else max(0.0, expires_at - issued_at)
    if renew_before is None:
        return 0.0 if lifetime is None else lifetime * DEFAULT_RENEW_FRACTION
    if lifetime is None:
        return max(0.0, renew_before)
    return max(0.0, min(renew_before, lifetime))


def renewal_time(
    expires_at: float,
    issued_at: float | None,
    renew_before: float | None,
    key: str = "",
) -> float:
    """The moment to renew: ``expires_at`` minus the window minus a jitter of up to
    :data:`JITTER_FRACTION` of the window, chosen by ``key`` (identity + expiry)."""
    window = renew_window(issued_at, expires_at, renew_before)
    jitter = window * JITTER_FRACTION * jitter_unit(f"{key}:{expires_at:.0f}")
    when = expires_at - window - jitter
    # Not before the credential was issued: a window of the whole lifetime means "now".
    return when if issued_at is None else max(when, issued_at)


def is_due(now: float, due_at: float) -> bool:
    return now >= due_at


def backoff_delay(failures: int, base: float = BACKOFF_BASE_SECONDS) -> float:
    """Seconds to wait after ``failures`` consecutive failures (0 -> 0, then ``base``
    doubling, capped at :data:`BACKOFF_MAX_SECONDS`)."""
    if failures <= 0:
        return 0.0
    return float(min(BACKOFF_MAX_SECONDS, base * 2 ** min(failures - 1, 32)))


STORE_RETRY_BASE_SECONDS = 1.0
# Each store retry waits up to this share less than its nominal delay, so replicas that
# lost the store together do not come back in lockstep.
STORE_RETRY_JITTER = 0.5


def store_retry_delay(attempt: int, cap: float, unit: float) -> float:
    """Seconds before retry number ``attempt`` (1, 2, ...) after the state store failed:
    :data:`STORE_RETRY_BASE_SECONDS` doubling per attempt, capped at ``cap`` (the
    service's interval), then shortened by a jitter of up to :data:`STORE_RETRY_JITTER`
    of it, chosen by ``unit`` (a random number in [0, 1))."""
    nominal = min(max(cap, MIN_SLEEP_SECONDS), backoff_delay(attempt, STORE_RETRY_BASE_SECONDS))
    return nominal * (1.0 - STORE_RETRY_JITTER * min(max(unit, 0.0), 1.0))


def retry_delay(failures: int, base: float, time_left: float | None = None) -> float:
    """:func:`backoff_delay`, but never more than a quarter of ``time_left`` (the time
    until the credential expires): as expiry nears, retries come faster, so a run of
    failures cannot back off past the expiry."""
    delay = backoff_delay(failures, base)
    if time_left is not None:
        delay = min(delay, max(MIN_SLEEP_SECONDS, time_left / 4))
    return delay


def next_wake(now: float, due_times: Iterable[float], interval: float) -> float:
    """When the loop wakes next: the earliest due time still ahead, capped by ``interval``
    after ``now`` and at least :data:`MIN_SLEEP_SECONDS` away (a due time already past
    means "as soon as possible", not a busy loop)."""
    wake = now + max(interval, MIN_SLEEP_SECONDS)
    for due in due_times:
        wake = min(wake, max(due, now + MIN_SLEEP_SECONDS))
    return wake
