"""Input validators: every bad value is one clear InputError line."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from byods_manager import validation as v
from byods_manager.errors import InputError

WEBEX_B64_ID = "Y2lzY29zcGFyazovL3VzL0RBVEFfU09VUkNFL2YyOWJiMjkx"


@pytest.mark.parametrize(
    "url", ["https://dap.example.com/x", "wss://dap.example.com:8443/s", "HTTPS://A.EXAMPLE"]
)
def test_accepts_urls(url: str) -> None:
    assert v.validate_url(url) == url


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://dap.example.com", "https:// or wss://"),
        ("ftp://dap.example.com", "https:// or wss://"),
        ("dap.example.com", "https:// or wss://"),
        ("https://", "no host"),
        ("https:///path", "no host"),
        ("https://exa mple.com", "spaces"),
        ("", "empty"),
        ("https://a.example:99999", "malformed"),
    ],
)
def test_rejects_urls(url: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as caught:
        v.validate_url(url)
    assert "\n" not in str(caught.value)


@given(st.integers(1, 1440))
def test_lifetime_in_range(minutes: int) -> None:
    assert v.validate_lifetime(minutes) == minutes
    assert v.validate_lifetime(str(minutes)) == minutes


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=1441)))
def test_lifetime_out_of_range(minutes: int) -> None:
    with pytest.raises(InputError, match="between 1 and 1440"):
        v.validate_lifetime(minutes)


@pytest.mark.parametrize("value", ["abc", "1.5", "", True, 2.0, None])
def test_lifetime_not_a_whole_number(value: object) -> None:
    with pytest.raises(InputError, match="whole number"):
        v.validate_lifetime(value)


@given(st.uuids())
def test_schema_ids_are_uuids(value: uuid.UUID) -> None:
    assert v.validate_schema_id(str(value)) == str(value)


@given(st.uuids())
def test_upper_case_schema_ids_come_back_in_canonical_lower_case(value: uuid.UUID) -> None:
    assert v.validate_schema_id(f" {str(value).upper()} ") == str(value)


@pytest.mark.parametrize("value", ["", "78efc775", "78efc775-dccb-45ca-9acf-989a4a59f78g", None])
def test_bad_schema_ids(value: str | None) -> None:
    with pytest.raises(InputError, match="UUID"):
        v.validate_schema_id(value)


@given(st.uuids())
def test_data_source_ids_accept_uuids(value: uuid.UUID) -> None:
    assert v.validate_data_source_id(str(value)) == str(value)


def test_data_source_ids_accept_webex_base64_ids() -> None:
    assert v.validate_data_source_id(WEBEX_B64_ID) == WEBEX_B64_ID


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (" f29bb291-5db0-411b-834a-e64f8dee0658", "whitespace"),
        ("a b", "whitespace"),
        ("../etc/passwd", "'/'"),
        ("abc?x=1", "'/'"),
        ("hello", "not a data source ID"),
        ("f29bb291-5db0-411b-834a", "not a data source ID"),
    ],
)
def test_bad_data_source_ids(value: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        v.validate_data_source_id(value)


@given(st.text().filter(lambda s: s.strip() == ""))
def test_blank_reason_is_rejected(reason: str) -> None:
    with pytest.raises(InputError, match="reason"):
        v.validate_reason(reason)


def test_reason_is_trimmed_and_single_line() -> None:
    assert v.validate_reason("  Down for upgrade ") == "Down for upgrade"
    with pytest.raises(InputError, match="line breaks"):
        v.validate_reason("one\ntwo")


@pytest.mark.parametrize("check", [v.validate_audience, v.validate_subject, v.validate_nonce])
def test_required_texts(check: object) -> None:
    assert callable(check)
    assert check(" MyApp ") == "MyApp"
    with pytest.raises(InputError, match="empty"):
        check("")
    with pytest.raises(InputError, match="control"):
        check("a\tb")
