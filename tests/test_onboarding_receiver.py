"""The webhook receiver's checks, over real HTTP: signature before anything else, size,
malformed JSON, other resources/events/apps, replays. None of these may mint or drop."""

from __future__ import annotations

import json
from typing import Any

import pytest

from byods_manager.service.onboarding import (
    SeenEvents,
    WebhookEvent,
    WebhookReceiver,
    customer_org_id,
    event_identity,
)
from byods_manager.service.signature import sign, verify_any, verify_signature
from tests.fixtures_onboarding import WEBHOOK_SECRET, Onboarding


def unchanged(onboarding: Onboarding, mints: int, orgs: set[str]) -> bool:
    onboarding.receiver.drain()
    return onboarding.mints() == mints and onboarding.stored_orgs() == orgs


def snapshot(onboarding: Onboarding) -> tuple[int, set[str]]:
    return onboarding.mints(), onboarding.stored_orgs()


@pytest.fixture
def quiet_org(onboarding: Onboarding) -> str:
    """An org that authorized the app while nobody listened (webhooks removed first)."""
    for webhook in onboarding.webhooks.list_webhooks():
        onboarding.webhooks.delete(webhook.id)
    return onboarding.sandbox.authorize_org()


def test_a_signed_event_is_accepted_and_handled(onboarding: Onboarding, quiet_org: str) -> None:
    answer = onboarding.post(onboarding.envelope("authorized", quiet_org))
    assert answer.status_code == 202
    assert answer.json() == {"status": "accepted", "event": "authorized", "orgId": quiet_org}
    onboarding.receiver.drain()
    assert quiet_org in onboarding.stored_orgs()


def test_a_forged_signature_changes_nothing(onboarding: Onboarding, quiet_org: str) -> None:
    before = snapshot(onboarding)
    envelope = onboarding.envelope("authorized", quiet_org)
    answer = onboarding.post(envelope, secret="not-the-secret-at-all-123")
    assert answer.status_code == 401
    body = json.dumps(envelope).encode()
    tampered = body.replace(b"authorized", b"deauthorized", 1)
    assert onboarding.post_raw(tampered, sign(WEBHOOK_SECRET, body)).status_code == 401
    assert unchanged(onboarding, *before)


def test_a_missing_signature_is_401(onboarding: Onboarding, quiet_org: str) -> None:
    before = snapshot(onboarding)
    answer = onboarding.post(onboarding.envelope("authorized", quiet_org), secret=None)
    assert answer.status_code == 401
    assert "X-Spark-Signature" in answer.json()["error"]
    assert unchanged(onboarding, *before)


def test_the_signature_is_checked_before_the_body_is_parsed(onboarding: Onboarding) -> None:
    """Unsigned garbage is a 401, not a 400: nothing unauthenticated is parsed."""
    assert onboarding.post_raw(b"{not json", None).status_code == 401
    assert onboarding.post_raw(b"{not json", "00" * 20).status_code == 401


def test_malformed_json_is_400(onboarding: Onboarding) -> None:
    before = snapshot(onboarding)
    for body in (b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"'):
        answer = onboarding.post_raw(body, sign(WEBHOOK_SECRET, body))
        assert answer.status_code == 400, body
    assert unchanged(onboarding, *before)


def test_an_oversized_body_is_413(onboarding: Onboarding) -> None:
    body = b"{" + b" " * (64 * 1024) + b"}"
    answer = onboarding.post_raw(body, sign(WEBHOOK_SECRET, body))
    assert answer.status_code == 413


def test_other_resources_and_events_are_ignored(onboarding: Onboarding, quiet_org: str) -> None:
    before = snapshot(onboarding)
    other_resource = {**onboarding.envelope("created", quiet_org), "resource": "messages"}
    answer = onboarding.post(other_resource)
    assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    assert "resource" in answer.json()["reason"]
    for event in ("updated", "all", ""):
        answer = onboarding.post(onboarding.envelope(event, quiet_org))
        assert answer.status_code == 200 and answer.json()["status"] == "ignored", event
    assert unchanged(onboarding, *before)


def test_an_event_for_another_app_is_ignored(onboarding: Onboarding, quiet_org: str) -> None:
    before = snapshot(onboarding)
    envelope = onboarding.envelope("authorized", quiet_org, id="some-other-service-app")
    answer = onboarding.post(envelope)
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ignored",
        "reason": "the event is about another service app",
    }
    assert unchanged(onboarding, *before)


def test_an_event_without_an_org_is_400(onboarding: Onboarding) -> None:
    envelope: dict[str, Any] = {"resource": "serviceApp", "event": "authorized", "data": {}}
    assert onboarding.post(envelope).status_code == 400


def test_a_replay_is_handled_once(onboarding: Onboarding, quiet_org: str) -> None:
    mints = onboarding.mints()
    body = json.dumps(onboarding.envelope("authorized", quiet_org)).encode()
    signature = sign(WEBHOOK_SECRET, body)
    first = onboarding.post_raw(body, signature)
    second = onboarding.post_raw(body, signature)
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["status"] == "duplicate"
    onboarding.receiver.drain()
    assert onboarding.mints() == mints + 1


def test_only_post_to_the_webhook_path(onboarding: Onboarding) -> None:
    import requests

    assert requests.get(onboarding.server.url, timeout=10).status_code == 405
    other = onboarding.server.url.replace("/webhooks/service-app", "/other")
    assert requests.post(other, data=b"{}", timeout=10).status_code == 404


# -- pure parts ---------------------------------------------------------------------------


def test_verify_signature() -> None:
    body = b'{"a": 1}'
    good = sign("secret-one", body)
    assert verify_signature("secret-one", body, good)
    assert verify_signature("secret-one", body, good.upper())
    assert not verify_signature("secret-two", body, good)
    assert not verify_signature("secret-one", body + b" ", good)
    assert not verify_signature("secret-one", body, None)
    assert not verify_signature("secret-one", body, "")
    assert not verify_signature("", body, sign("", body))
    assert not verify_signature("secret-one", body, "é" * 40)
    assert verify_any(["old-secret", "secret-one"], body, good)
    assert not verify_any([], body, good)


def test_customer_org_id_precedence() -> None:
    assert customer_org_id({"orgId": "top", "data": {"orgId": "d", "authorizerOrgId": "a"}}) == "a"
    assert customer_org_id({"orgId": "top", "data": {"orgId": "d"}}) == "d"
    assert customer_org_id({"orgId": "top", "data": {"authorizerOrgId": "  "}}) == "top"
    assert customer_org_id({"orgId": "top", "data": "not an object"}) == "top"
    assert customer_org_id({"data": {}}) is None


def test_seen_events_forget_the_oldest() -> None:
    seen = SeenEvents(limit=3)
    assert all(seen.add(name) for name in "abcd")
    assert len(seen) == 3
    assert seen.add("a")  # forgotten, so new again
    assert not seen.add("d")


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def on_authorized(self, org_id: str, event: WebhookEvent) -> None:
        self.calls.append(("authorized", org_id))
        raise RuntimeError("a handler failure")

    def on_deauthorized(self, org_id: str, event: WebhookEvent) -> None:
        self.calls.append(("deauthorized", org_id))


def test_a_failing_handler_does_not_stop_the_worker() -> None:
    recorder = Recorder()
    receiver = WebhookReceiver(["s3cret-s3cret-s3cret"], recorder)
    for event in ("authorized", "deauthorized"):
        body = json.dumps(
            {"resource": "serviceApp", "event": event, "data": {"orgId": "o", "created": event}}
        ).encode()
        status, _ = receiver.handle(body, {"x-spark-signature": sign("s3cret-s3cret-s3cret", body)})
        assert status == 202
    receiver.close()
    assert recorder.calls == [("authorized", "o"), ("deauthorized", "o")]
    assert receiver.failures == 1


def test_a_receiver_needs_a_secret() -> None:
    with pytest.raises(ValueError):
        WebhookReceiver(["", ""], Recorder())


def test_event_identity_uses_the_moment_then_the_bytes() -> None:
    base = {"id": "wh", "resource": "serviceApp", "event": "authorized"}
    created = {**base, "data": {"orgId": "o", "created": "t1"}}
    dated = {**base, "data": {"orgId": "o", "authorizationDate": "t1"}}
    other_time = {**base, "data": {"orgId": "o", "created": "t2"}}
    bare = {**base, "data": {"orgId": "o"}}
    assert event_identity(created, "o", b"x") == event_identity(created, "o", b"y")
    assert event_identity(created, "o", b"x") == event_identity(dated, "o", b"z")
    assert event_identity(created, "o", b"x") != event_identity(other_time, "o", b"x")
    assert event_identity(bare, "o", b"x") != event_identity(bare, "o", b"y")
    assert event_identity(bare, "o", b"x") == event_identity(bare, "o", b"x")
