"""decode_jws and the human-time helpers."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from byods_manager.durations import describe_moment
from byods_manager.jws import (
    JwsDecodeError,
    decode_jws,
    describe_claim,
    epoch_to_datetime,
)
from tests.fixtures_core import make_jws

# The example token from the official Data Sources OpenAPI document.
SPEC_TOKEN = (
    "eyJraWQiOiIxOWFmMzYxYS0zYWI0LTU0NzEtYTViMC03MmQxODQyOTRjMmYiLCJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1"
    "NiJ9.eyJhdWQiOiJNeUFwcDIiLCJzdWIiOiJNeUFwcHNQdXJwb3NlMiIsImlzcyI6Imh0dHBzOlwvXC9pZGJyb2tlci53"
    "ZWJleC5jb21cL2lkYiIsImV4cCI6MTcyOTIyMDUxNSwiY29tLmNpc2NvLmRhdGFzb3VyY2UudXJsIjoiaHR0cHM6XC9cL3"
    "NjaGlmZmVydC5tZVwvZHMyIiwiY29tLmNpc2NvLmRhdGFzb3VyY2Uuc2NoZW1hLnV1aWQiOiI3OGVmYzc3NS1kY2NiLTQ1"
    "Y2EtOWFjZi05ODlhNGE1OWY3ODgiLCJpYXQiOjE3MjkyMTMzMTUsImNvbS5jaXNjby5vcmcudXVpZCI6ImNlODYxZmJhLT"
    "ZlMmYtNDlmOS05YTg0LWIzNTQwMDhmYWM5ZSIsImp0aSI6IjEyMzQ1NiJ9.QxWYQCXOTLTNBx1Mr8qtd1rpx5uqHYcow1l"
)


def test_decodes_the_spec_example() -> None:
    decoded = decode_jws(SPEC_TOKEN)
    assert decoded.header == {
        "kid": "19af361a-3ab4-5471-a5b0-72d184294c2f",
        "typ": "JWT",
        "alg": "RS256",
    }
    claims = decoded.claims
    assert (claims["aud"], claims["sub"], claims["jti"]) == ("MyApp2", "MyAppsPurpose2", "123456")
    assert claims["com.cisco.datasource.url"] == "https://schiffert.me/ds2"
    assert claims["com.cisco.datasource.schema.uuid"] == "78efc775-dccb-45ca-9acf-989a4a59f788"
    assert decoded.expires_at == datetime(2024, 10, 18, 3, 1, 55, tzinfo=timezone.utc)
    assert decoded.issued_at == datetime(2024, 10, 18, 1, 1, 55, tzinfo=timezone.utc)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=10),
        st.one_of(st.integers(), st.text(max_size=20), st.booleans()),
        max_size=6,
    )
)
def test_round_trips_any_claims(claims: dict[str, object]) -> None:
    assert decode_jws(make_jws(claims)).claims == claims


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.???.sig",
        base64.urlsafe_b64encode(b"[1,2]").decode() + ".e30.sig",
        "e30." + base64.urlsafe_b64encode(b"not json").decode() + ".sig",
        "e30.\xff\xfe.sig",
    ],
)
def test_garbage_raises_a_value_error(garbage: str) -> None:
    with pytest.raises(JwsDecodeError):
        decode_jws(garbage)
    assert issubclass(JwsDecodeError, ValueError)


def test_epoch_to_datetime_rejects_non_numbers() -> None:
    assert epoch_to_datetime("123") is None
    assert epoch_to_datetime(True) is None
    assert epoch_to_datetime(10**20) is None
    assert epoch_to_datetime(0) == datetime(1970, 1, 1, tzinfo=timezone.utc)


def test_human_times() -> None:
    now = datetime(2024, 10, 18, 1, 10, 35, tzinfo=timezone.utc)
    exp = datetime(2024, 10, 18, 3, 8, 35, tzinfo=timezone.utc)
    assert describe_moment(exp, now) == "2024-10-18 03:08:35 UTC (in 1h 58m)"
    assert describe_moment(now, exp) == "2024-10-18 01:10:35 UTC (1h 58m ago)"
    assert (
        describe_claim("exp", 1729220915, now) == "1729220915 = 2024-10-18 03:08:35 UTC (in 1h 58m)"
    )
    assert describe_claim("aud", "MyApp") == "MyApp"
    assert describe_claim("roles", ["a"]) == '["a"]'
