"""The keepalive scheduler's pure functions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from byods_manager.service.scheduler import (
    BACKOFF_MAX_SECONDS,
    JITTER_FRACTION,
    MIN_SLEEP_SECONDS,
    backoff_delay,
    jitter_unit,
    next_wake,
    renew_window,
    renewal_time,
    retry_delay,
)

times = st.floats(min_value=1e9, max_value=3e9, allow_nan=False)
lifetimes = st.floats(min_value=60, max_value=86400, allow_nan=False)


def test_default_window_is_a_third_of_the_lifetime() -> None:
    assert renew_window(issued_at=1000.0, expires_at=4000.0, renew_before=None) == 1000.0


def test_renew_before_is_capped_by_the_lifetime() -> None:
    assert renew_window(issued_at=1000.0, expires_at=1060.0, renew_before=120.0) == 60.0
    assert renew_window(issued_at=None, expires_at=1060.0, renew_before=120.0) == 120.0
    assert renew_window(issued_at=None, expires_at=1060.0, renew_before=None) == 0.0


@given(issued=times, lifetime=lifetimes, renew_before=st.none() | lifetimes, key=st.text())
def test_renewal_falls_inside_the_window_with_at_most_ten_percent_jitter(
    issued: float, lifetime: float, renew_before: float | None, key: str
) -> None:
    expires = issued + lifetime
    window = renew_window(issued, expires, renew_before)
    when = renewal_time(expires, issued, renew_before, key)
    assert expires - window - window * JITTER_FRACTION <= when <= expires - window
    assert when >= issued  # never before the credential existed
    # Stable: every cycle of every process agrees on the same moment.
    assert renewal_time(expires, issued, renew_before, key) == when


def test_jitter_spreads_a_fleet() -> None:
    units = {round(jitter_unit(f"ds-{index}"), 3) for index in range(100)}
    assert len(units) > 90
    assert all(0 <= unit < 1 for unit in units)


@given(failures=st.integers(min_value=0, max_value=10_000))
def test_backoff_grows_and_is_capped(failures: int) -> None:
    delay = backoff_delay(failures)
    assert 0 <= delay <= BACKOFF_MAX_SECONDS
    assert backoff_delay(failures + 1) >= delay


def test_backoff_doubles_from_its_base() -> None:
    assert [backoff_delay(n, base=1.0) for n in range(5)] == [0.0, 1.0, 2.0, 4.0, 8.0]


@given(
    now=times,
    dues=st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), max_size=20),
    interval=st.floats(min_value=0, max_value=3600, allow_nan=False),
)
def test_next_wake_is_the_earliest_due_capped_by_the_interval(
    now: float, dues: list[float], interval: float
) -> None:
    due_times = [now + offset for offset in dues]
    wake = next_wake(now, due_times, interval)
    assert now + MIN_SLEEP_SECONDS - 1e-6 <= wake <= now + max(interval, MIN_SLEEP_SECONDS)
    ahead = [due for due in due_times if due >= now + MIN_SLEEP_SECONDS]
    if ahead and min(ahead) < now + interval:
        assert wake <= min(ahead)


def test_next_wake_examples() -> None:
    assert next_wake(100.0, [], 600.0) == 700.0
    assert next_wake(100.0, [160.0, 130.0], 600.0) == 130.0
    assert next_wake(100.0, [50.0], 600.0) == 101.0  # overdue: soon, not a busy loop


@given(
    failures=st.integers(min_value=1, max_value=64),
    base=st.floats(min_value=0.1, max_value=60, allow_nan=False),
    time_left=st.floats(min_value=0, max_value=86400, allow_nan=False),
)
def test_retries_never_back_off_past_a_quarter_of_the_time_left(
    failures: int, base: float, time_left: float
) -> None:
    delay = retry_delay(failures, base, time_left)
    assert delay <= max(MIN_SLEEP_SECONDS, time_left / 4)
    assert delay <= backoff_delay(failures, base)
    assert retry_delay(failures, base, None) == backoff_delay(failures, base)


def test_repeated_failures_keep_retrying_until_expiry() -> None:
    """A data source 60 s from expiry that keeps failing is still being retried in its
    last seconds; plain doubling from 5 s would try at 0, 5, 15 and 35 s, then at 75 s,
    after the expiry, leaving its last 25 s untried."""
    now, expires, attempts = 0.0, 60.0, [0.0]
    while True:
        now += retry_delay(len(attempts), 5.0, expires - now)
        if now >= expires:
            break
        attempts.append(now)
    assert expires - attempts[-1] <= MIN_SLEEP_SECONDS
