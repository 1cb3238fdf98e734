"""The sandbox's data-source and schema contract, checked against the official specs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byods_manager.sandbox import Sandbox, contract
from byods_manager.sandbox.schemas import VOICE_VIRTUAL_AGENT_GRPC, VOICE_VIRTUAL_AGENT_WEBSOCKET
from tests.fixtures_sandbox import SandboxApi, registration

SPEC = json.loads((Path(__file__).parent / "data" / "spec_properties.json").read_text())
OPS = SPEC["operations"]


def response_schema(operation: str) -> dict[str, Any]:
    props = OPS[operation]["responseProperties"]
    return {"type": "object", "properties": {k: {"type": v} for k, v in props.items()}}


def assert_matches_spec(operation: str, body: Any) -> None:
    jsonschema.validate(body, response_schema(operation))


def replacement(current: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A full PUT body: the current values, a fresh nonce, then ``changes``."""
    body = {name: current[name] for name in contract.REGISTER_PROPERTIES}
    body["nonce"] = str(uuid.uuid4())
    body.update(changes)
    return body


@pytest.fixture
def api(sandbox: Sandbox, service_app_token: str) -> SandboxApi:
    return SandboxApi(sandbox, service_app_token)


def assert_webex_error(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert body["errors"] and all(isinstance(e["description"], str) for e in body["errors"])
    assert body["trackingId"] == response.headers["TrackingID"]
    return body


def test_contract_tables_match_the_spec_extract() -> None:
    assert OPS["POST /dataSources"]["requestProperties"] == contract.REGISTER_PROPERTIES
    assert OPS["PUT /dataSources/{dataSourceId}"]["requestProperties"] == contract.UPDATE_PROPERTIES
    app_token = OPS["POST /applications/{applicationId}/token"]
    assert app_token["requestProperties"] == contract.APPLICATION_TOKEN_PROPERTIES
    assert sorted(contract.APPLICATION_TOKEN_REQUIRED) == app_token["requestRequired"]


def test_register_answers_the_spec_shape_plus_the_list_example_fields(
    api: SandboxApi, sandbox: Sandbox
) -> None:
    created = api.register()
    assert_matches_spec("POST /dataSources", created)
    assert created["status"] == "active"
    assert "errorMessage" not in created
    ident = sandbox.state.identity
    assert created["orgId"] == ident.org_uuid
    assert created["applicationId"] == ident.app_client_id
    assert created["createdBy"] == ident.admin_user_uuid
    assert created["createdAt"].endswith("Z")
    assert created["jwsToken"].count(".") == 2

    shown = api("GET", f"/dataSources/{created['id']}")
    assert shown.status_code == 200
    assert shown.json() == created
    assert_matches_spec("GET /dataSources/{dataSourceId}", shown.json())


@pytest.mark.parametrize("path", ["/dataSources", "/dataSources/"])
def test_list_with_and_without_trailing_slash(api: SandboxApi, path: str) -> None:
    first, second = api.register(), api.register()
    response = api("GET", path)
    assert response.status_code == 200
    body = response.json()
    assert_matches_spec("GET /dataSources/", body)
    assert [item["id"] for item in body["items"]] == [first["id"], second["id"]]
    for item in body["items"]:
        assert_matches_spec("GET /dataSources/{dataSourceId}", item)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"tokenLifetimeMinutes": 0}, "between 1 and 1440"),
        ({"tokenLifetimeMinutes": 1441}, "between 1 and 1440"),
        ({"tokenLifetimeMinutes": 60.5}, "whole number"),
        ({"tokenLifetimeMinutes": "60"}, "'tokenLifetimeMinutes' must be a number"),
        ({"tokenLifetimeMinutes": True}, "'tokenLifetimeMinutes' must be a number"),
        ({"url": 42}, "'url' must be a string"),
        ({"audience": None}, "'audience' is required"),
        ({"schemaId": "00000000-0000-0000-0000-000000000000"}, "Unknown schemaId"),
        ({"tokenLifeMinutes": 60}, "Unrecognized field 'tokenLifeMinutes'"),
        ({"status": "active"}, "Unrecognized field 'status'"),
        ({"subject": "  "}, "'subject' must not be empty"),
    ],
)
def test_register_rejects_what_the_spec_does_not_allow(
    api: SandboxApi, changes: dict[str, Any], fragment: str
) -> None:
    body = assert_webex_error(api("POST", "/dataSources", json=registration(**changes)), 400)
    assert any(fragment in e["description"] for e in body["errors"]), body
    assert api("GET", "/dataSources").json()["items"] == []


@pytest.mark.parametrize("lifetime", [1, 1440])
def test_lifetime_bounds_are_inclusive(api: SandboxApi, lifetime: int) -> None:
    assert api.register(tokenLifetimeMinutes=lifetime)["tokenLifetimeMinutes"] == lifetime


def test_every_field_is_required_for_registration(api: SandboxApi) -> None:
    for name in contract.REGISTER_PROPERTIES:
        body = registration()
        del body[name]
        error = assert_webex_error(api("POST", "/dataSources", json=body), 400)
        assert f"'{name}' is required." in [e["description"] for e in error["errors"]]


def test_body_that_is_not_json_or_not_an_object(api: SandboxApi) -> None:
    assert_webex_error(
        api("POST", "/dataSources", data=b"{nope", headers={"Content-Type": "application/json"}),
        400,
    )
    assert_webex_error(api("POST", "/dataSources", json=["a"]), 400)
    assert_webex_error(api("POST", "/dataSources", data={"a": "b"}), 415)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=12).filter(lambda k: k not in contract.UPDATE_PROPERTIES),
        st.one_of(st.none(), st.integers(), st.text(max_size=5)),
        min_size=1,
        max_size=3,
    )
)
def test_unknown_fields_are_always_a_400_never_a_crash(
    api: SandboxApi, extra: dict[str, Any]
) -> None:
    response = api("POST", "/dataSources", json={**registration(), **extra})
    assert_webex_error(response, 400)


def test_a_used_nonce_cannot_be_registered_again_even_after_delete(api: SandboxApi) -> None:
    first = api.register(nonce="nonce-1")
    assert_webex_error(api("POST", "/dataSources", json=registration(nonce="nonce-1")), 409)
    assert api("DELETE", f"/dataSources/{first['id']}").status_code == 204
    assert_webex_error(api("POST", "/dataSources", json=registration(nonce="nonce-1")), 409)


def test_extend_with_a_fresh_nonce_reissues_the_jws(api: SandboxApi) -> None:
    created = api.register(nonce="n-1")
    body = {k: created[k] for k in contract.REGISTER_PROPERTIES}
    body["nonce"] = "n-2"
    response = api("PUT", f"/dataSources/{created['id']}", json=body)
    assert response.status_code == 200
    updated = response.json()
    assert_matches_spec("PUT /dataSources/{dataSourceId}", updated)
    assert updated["nonce"] == "n-2"
    assert updated["jwsToken"] != created["jwsToken"]
    assert updated["createdAt"] == created["createdAt"]


def test_put_rejects_any_previously_used_nonce(api: SandboxApi) -> None:
    created = api.register(nonce="a-1")
    other = api.register(nonce="b-1")
    path = f"/dataSources/{created['id']}"
    assert_webex_error(api("PUT", path, json=replacement(created, nonce="b-1")), 409)
    assert api("PUT", path, json=replacement(created, nonce="a-2")).status_code == 200
    assert_webex_error(api("PUT", path, json=replacement(created, nonce="a-1")), 409)
    assert other["id"] != created["id"]


def test_disable_needs_an_error_message_and_enable_clears_it(api: SandboxApi) -> None:
    created = api.register()
    path = f"/dataSources/{created['id']}"
    error = assert_webex_error(api("PUT", path, json=replacement(created, status="disabled")), 400)
    assert "errorMessage" in error["message"]
    blank = replacement(created, status="disabled", errorMessage=" ")
    assert_webex_error(api("PUT", path, json=blank), 400)
    disabling = replacement(created, status="disabled", errorMessage="maintenance")
    disabled = api("PUT", path, json=disabling)
    assert disabled.status_code == 200
    assert disabled.json()["status"] == "disabled"
    assert disabled.json()["errorMessage"] == "maintenance"
    enabled = api("PUT", path, json=replacement(created, status="active")).json()
    assert enabled["status"] == "active"
    assert "errorMessage" not in enabled


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"status": "paused"}, 400),
        ({"schemaId": VOICE_VIRTUAL_AGENT_WEBSOCKET}, 400),
        ({"tokenLifetimeMinutes": 2000}, 400),
        ({"errorMessage": 5}, 400),
        ({"colour": "blue"}, 400),
    ],
)
def test_update_validation(api: SandboxApi, body: dict[str, Any], status: int) -> None:
    created = api.register()
    full = replacement(created, **body)
    assert_webex_error(api("PUT", f"/dataSources/{created['id']}", json=full), status)
    assert api("GET", f"/dataSources/{created['id']}").json() == created


def test_unknown_ids_are_404_in_the_webex_shape(api: SandboxApi) -> None:
    for method in ("GET", "PUT", "DELETE"):
        kwargs = {"json": registration()} if method == "PUT" else {}
        assert_webex_error(api(method, "/dataSources/does-not-exist", **kwargs), 404)
    assert_webex_error(api("GET", "/dataSources/schemas/does-not-exist"), 404)
    assert_webex_error(api("GET", "/no/such/endpoint"), 404)
    assert_webex_error(api("PATCH", "/dataSources/x", json={}), 405)


def test_delete_removes_the_data_source(api: SandboxApi) -> None:
    created = api.register()
    response = api("DELETE", f"/dataSources/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_webex_error(api("GET", f"/dataSources/{created['id']}"), 404)


def test_schemas_carry_the_published_ids(api: SandboxApi) -> None:
    response = api("GET", "/dataSources/schemas")
    assert response.status_code == 200
    body = response.json()
    assert_matches_spec("GET /dataSources/schemas", body)
    by_id = {item["id"]: item for item in body["items"]}
    assert by_id[VOICE_VIRTUAL_AGENT_GRPC]["protocol"] == "gRPC"
    assert VOICE_VIRTUAL_AGENT_WEBSOCKET in by_id
    for item in body["items"]:
        assert_matches_spec("GET /dataSources/schemas/{schemaId}", item)
        one = api("GET", f"/dataSources/schemas/{item['id']}")
        assert one.json() == item


def test_schemas_accept_any_valid_token_but_data_sources_need_the_service_app(
    sandbox: Sandbox,
) -> None:
    for kind in ("personal", "integration"):
        other = SandboxApi(sandbox, sandbox.issue_access_token(kind))
        assert other("GET", "/dataSources/schemas").status_code == 200
        assert_webex_error(other("GET", "/dataSources"), 403)
        assert_webex_error(other("POST", "/dataSources", json=registration()), 403)


def test_missing_unknown_or_expired_tokens_are_401(sandbox: Sandbox, api: SandboxApi) -> None:
    bare = requests.get(sandbox.base_url + "/dataSources", timeout=10)
    assert_webex_error(bare, 401)
    assert_webex_error(SandboxApi(sandbox, "not-a-token")("GET", "/dataSources/schemas"), 401)
    assert api("GET", "/dataSources").status_code == 200
    assert sandbox.expire_access_tokens("service_app") == 1
    assert_webex_error(api("GET", "/dataSources"), 401)


def test_every_answer_carries_a_tracking_id(api: SandboxApi) -> None:
    ok = api("GET", "/dataSources")
    assert ok.headers["TrackingID"].startswith("SANDBOX_")
    assert ok.headers["Content-Type"].startswith("application/json")
