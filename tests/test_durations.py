"""parse_duration and format_remaining."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from byods_manager.durations import (
    MAX_DURATION,
    format_remaining,
    format_span,
    parse_duration,
)
from byods_manager.errors import InputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6h", timedelta(hours=6)),
        ("90m", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("30s", timedelta(seconds=30)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 2H ", timedelta(hours=2)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
    ],
)
def test_parses(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "6", "h", "6x", "-6h", "0h", "1.5h", "30m1h", "6 hours"])
def test_rejects(text: str) -> None:
    with pytest.raises(InputError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    "text", ["3651d", "87601h", "99999999999999d", "99999999999999999d", "9" * 5000 + "s"]
)
def test_rejects_more_than_the_longest_duration(text: str) -> None:
    with pytest.raises(InputError, match="the longest accepted is 3650d") as caught:
        parse_duration(text)
    assert len(str(caught.value)) < 120  # one short line, even for a huge input


def test_accepts_the_longest_duration_and_leading_zeros() -> None:
    assert parse_duration("3650d") == MAX_DURATION
    assert parse_duration("0" * 40 + "90m") == timedelta(minutes=90)


_NUMBERS = st.from_regex(r"[0-9]{1,30}", fullmatch=True)


@given(
    st.one_of(
        st.text(),
        st.lists(st.tuples(_NUMBERS, st.sampled_from("dhmsDHMS x")), max_size=5).map(
            lambda parts: "".join(number + unit for number, unit in parts)
        ),
    )
)
def test_any_input_parses_within_bounds_or_is_an_input_error(text: str) -> None:
    try:
        parsed = parse_duration(text)
    except InputError:
        return
    assert timedelta(0) < parsed <= MAX_DURATION


@given(st.integers(0, 30), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_parse_matches_the_units(days: int, hours: int, minutes: int, seconds: int) -> None:
    text = f"{days}d{hours}h{minutes}m{seconds}s"
    total = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if total:
        assert parse_duration(text) == total
    else:
        with pytest.raises(InputError):
            parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(hours=11, minutes=58, seconds=40), "11h 58m"),
        (timedelta(days=2, hours=3, minutes=59), "2d 3h"),
        (timedelta(minutes=45), "45m"),
        (timedelta(minutes=4, seconds=10), "4m 10s"),
        (timedelta(seconds=9), "9s"),
        (timedelta(0), "EXPIRED"),
        (timedelta(seconds=-1), "EXPIRED"),
        (timedelta(days=-3), "EXPIRED"),
    ],
)
def test_format_remaining(delta: timedelta, expected: str) -> None:
    assert format_remaining(delta) == expected


def test_format_span_never_negative() -> None:
    assert format_span(timedelta(seconds=-5)) == "0s"
