"""Request-body builders (pure)."""

from __future__ import annotations

import time

import pytest

from byods_manager.bodies import (
    Changes,
    disable_body,
    enable_body,
    extend_body,
    merged_update_body,
    new_nonce,
    register_body,
)
from byods_manager.errors import InputError
from byods_manager.models import DataSource
from tests.fixtures_core import OTHER_SCHEMA_ID, SCHEMA_ID, data_source_payload, make_jws


def full(**kwargs: object) -> DataSource:
    return DataSource.from_api(
        data_source_payload(id="f29bb291-5db0-411b-834a-e64f8dee0658", **kwargs)
    )  # type: ignore[arg-type]


def test_new_nonces_are_long_and_distinct() -> None:
    nonces = {new_nonce() for _ in range(200)}
    assert len(nonces) == 200
    assert all(len(n) >= 32 for n in nonces)


def test_register_body_has_exactly_the_api_fields() -> None:
    body = register_body(
        url="https://a.example", schema_id=SCHEMA_ID, audience="a", subject="s", nonce="n"
    )
    assert body == {
        "schemaId": SCHEMA_ID,
        "url": "https://a.example",
        "audience": "a",
        "subject": "s",
        "nonce": "n",
        "tokenLifetimeMinutes": 1440,
    }


def test_merged_update_keeps_everything_else() -> None:
    current = full(lifetime=120, nonce="old")
    body = merged_update_body(current, Changes(audience="NewApp"), "fresh")
    assert body == {
        "audience": "NewApp",
        "subject": "callAudioData",
        "schemaId": SCHEMA_ID,
        "url": "https://dap.example.com/ingest",
        "tokenLifetimeMinutes": 120,
        "nonce": "fresh",
        "status": "active",
    }


def test_merged_update_falls_back_to_claims() -> None:
    thin = DataSource.from_api(
        {
            "id": "x",
            "jwsToken": make_jws(
                {
                    "aud": "A",
                    "sub": "S",
                    "iat": 0,
                    "exp": 3600,
                    "com.cisco.datasource.url": "wss://u.example",
                    "com.cisco.datasource.schema.uuid": SCHEMA_ID,
                }
            ),
        }
    )
    thin.audience = thin.subject = thin.url = thin.schema_id = None  # as if never filled
    body = merged_update_body(thin, Changes(schema_id=OTHER_SCHEMA_ID), "n")
    assert (body["audience"], body["subject"], body["url"]) == ("A", "S", "wss://u.example")
    assert body["schemaId"] == OTHER_SCHEMA_ID
    assert body["tokenLifetimeMinutes"] == 60


def test_merged_update_without_any_source_for_a_value_is_an_input_error() -> None:
    with pytest.raises(InputError, match="audience, subject"):
        merged_update_body(
            DataSource(id="x", url="https://a.example", schema_id=SCHEMA_ID), Changes(), "n"
        )


def test_extend_changes_only_nonce_and_lifetime() -> None:
    current = full(lifetime=60, nonce="old")
    same = merged_update_body(current, Changes(), "keep")
    renewed = extend_body(current, "fresh", 1440)
    assert renewed["nonce"] == "fresh"
    assert renewed["tokenLifetimeMinutes"] == 1440
    assert {k: v for k, v in renewed.items() if k not in ("nonce", "tokenLifetimeMinutes")} == {
        k: v for k, v in same.items() if k not in ("nonce", "tokenLifetimeMinutes")
    }
    assert extend_body(current, "fresh")["tokenLifetimeMinutes"] == 60


def test_disable_and_enable_bodies() -> None:
    current = full()
    off = disable_body(current, "Down for upgrade", "n1")
    assert (off["status"], off["errorMessage"]) == ("disabled", "Down for upgrade")
    back = enable_body(
        DataSource.from_api({**current.raw, "status": "disabled", "errorMessage": "x"}), "n2"
    )
    assert back["status"] == "active"
    assert "errorMessage" not in back


def test_lifetime_default_when_nothing_says_otherwise() -> None:
    current = DataSource(
        id="x", audience="a", subject="s", url="https://a.example", schema_id=SCHEMA_ID
    )
    assert extend_body(current, "n")["tokenLifetimeMinutes"] == 1440
    assert time.time() > 0
