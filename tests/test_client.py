"""DataSourceClient against a real local HTTP server: the exact requests it sends."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from byods_manager.audit import AuditLog
from byods_manager.client import DataSourceClient
from byods_manager.errors import AmbiguousRequestError, ApiError, InputError, NotFoundError
from byods_manager.http import HttpClient
from byods_manager.schema_cache import SchemaCache
from tests.fixtures_core import (
    API_TOKEN,
    OTHER_SCHEMA_ID,
    SCHEMA_ID,
    data_source_payload,
    put_body_from,
    schema_payload,
)

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
DS_ID = "f29bb291-5db0-411b-834a-e64f8dee0658"


def sent_json(httpserver: HTTPServer, index: int) -> Any:
    request, _ = httpserver.log[index]
    return json.loads(request.get_data(as_text=True))


def methods_and_paths(httpserver: HTTPServer) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request, _ in httpserver.log]


def test_list_uses_the_spec_path_and_fills_values_from_the_jws(
    httpserver: HTTPServer, api_client: DataSourceClient
) -> None:
    thin = data_source_payload(id=DS_ID, thin=True, audience="Aud", url="wss://dap.example/x")
    httpserver.expect_request("/v1/dataSources/", method="GET", headers=AUTH).respond_with_json(
        {"items": [thin]}
    )
    (found,) = api_client.list()
    assert found.id == DS_ID
    assert (found.audience, found.url, found.schema_id) == ("Aud", "wss://dap.example/x", SCHEMA_ID)
    assert found.nonce == "nonce-1"
    assert found.expires_at is not None
    assert "jwsToken" not in found.to_dict()
    assert methods_and_paths(httpserver) == [("GET", "/v1/dataSources/")]


def test_list_follows_next_links(httpserver: HTTPServer, api_client: DataSourceClient) -> None:
    first, second = data_source_payload(), data_source_payload()
    page2 = httpserver.url_for("/v1/dataSources/") + "?cursor=2"
    httpserver.expect_ordered_request("/v1/dataSources/", query_string="").respond_with_json(
        {"items": [first]}, headers={"Link": f'<{page2}>; rel="next"'}
    )
    httpserver.expect_ordered_request(
        "/v1/dataSources/", query_string="cursor=2"
    ).respond_with_json({"items": [second]})
    assert [ds.id for ds in api_client.list()] == [first["id"], second["id"]]


def test_get_404_says_not_found_with_tracking_id(
    httpserver: HTTPServer, api_client: DataSourceClient
) -> None:
    httpserver.expect_request(f"/v1/dataSources/{DS_ID}").respond_with_json(
        {"message": "Not found", "trackingId": "ROUTER_123"}, status=404
    )
    with pytest.raises(NotFoundError) as caught:
        api_client.get(DS_ID)
    assert "Data source ID not found" in str(caught.value)
    assert "ROUTER_123" in str(caught.value)


def test_register_posts_the_body_with_a_fresh_nonce(
    httpserver: HTTPServer, api_client: DataSourceClient, audit_path: Path
) -> None:
    created = data_source_payload(id=DS_ID)
    httpserver.expect_request("/v1/dataSources", method="POST", headers=AUTH).respond_with_json(
        created, headers={"TrackingID": "ROUTER_REG"}
    )
    result = api_client.register(
        url="https://dap.example.com/ingest",
        schema_id=SCHEMA_ID,
        audience="MedDocVirtualAgent",
        subject="callAudioData",
    )
    assert result.id == DS_ID
    body = sent_json(httpserver, 0)
    nonce = body.pop("nonce")
    assert len(nonce) >= 20
    assert body == {
        "schemaId": SCHEMA_ID,
        "url": "https://dap.example.com/ingest",
        "audience": "MedDocVirtualAgent",
        "subject": "callAudioData",
        "tokenLifetimeMinutes": 1440,
    }
    (entry,) = AuditLog.open(audit_path).read()
    assert entry["operation"] == "register"
    assert entry["outcome"] == "success"
    assert entry["dataSourceId"] == DS_ID
    assert entry["trackingId"] == "ROUTER_REG"


def test_two_registrations_use_different_nonces(
    httpserver: HTTPServer, api_client: DataSourceClient
) -> None:
    httpserver.expect_request("/v1/dataSources", method="POST").respond_with_json(
        data_source_payload()
    )
    for _ in range(2):
        api_client.register(url="https://a.example", schema_id=SCHEMA_ID, audience="a", subject="s")
    assert sent_json(httpserver, 0)["nonce"] != sent_json(httpserver, 1)["nonce"]


def test_register_after_a_lost_response_finds_the_data_source_by_nonce(
    threaded_httpserver: HTTPServer,
    make_http: Callable[..., HttpClient],
    audit_path: Path,
) -> None:
    """The POST is processed but its response never arrives in time: no second POST."""
    server = threaded_httpserver
    registered: list[dict[str, Any]] = []
    handler_done = threading.Event()

    def slow_register(request: Request) -> Response:
        body = request.get_json()
        created = data_source_payload(nonce=body["nonce"], thin=True)
        registered.append(created)
        time.sleep(0.6)  # longer than the client's read timeout
        handler_done.set()
        return Response(json.dumps(created), content_type="application/json")

    def listing(request: Request) -> Response:
        items = [data_source_payload(thin=True), *registered]
        return Response(json.dumps({"items": items}), content_type="application/json")

    server.expect_request("/v1/dataSources", method="POST").respond_with_handler(slow_register)
    server.expect_request("/v1/dataSources/", method="GET").respond_with_handler(listing)
    client = DataSourceClient(
        make_http(server.url_for("/v1"), timeout=(1.0, 0.2)), audit=AuditLog.open(audit_path)
    )

    result = client.register(
        url="https://dap.example.com/ingest",
        schema_id=SCHEMA_ID,
        audience="MedDocVirtualAgent",
        subject="callAudioData",
        nonce="my-nonce-42",
    )

    assert result.id == registered[0]["id"]
    assert result.nonce == "my-nonce-42"
    assert handler_done.wait(5)
    assert len(registered) == 1
    (entry,) = AuditLog.open(audit_path).read()
    assert entry["outcome"] == "success"
    assert entry["recovered"] is True


def test_register_resends_only_when_the_nonce_is_absent(
    httpserver: HTTPServer, api_client: DataSourceClient
) -> None:
    created = data_source_payload(id=DS_ID, nonce="n-1")
    httpserver.expect_ordered_request("/v1/dataSources", method="POST").respond_with_data(
        "bad gateway", status=502
    )
    httpserver.expect_ordered_request("/v1/dataSources/", method="GET").respond_with_json(
        {"items": [data_source_payload(nonce="someone-else")]}
    )
    httpserver.expect_ordered_request("/v1/dataSources", method="POST").respond_with_json(created)
    result = api_client.register(
        url="https://a.example", schema_id=SCHEMA_ID, audience="a", subject="s", nonce="n-1"
    )
    assert result.id == DS_ID
    assert methods_and_paths(httpserver) == [
        ("POST", "/v1/dataSources"),
        ("GET", "/v1/dataSources/"),
        ("POST", "/v1/dataSources"),
    ]
    assert sent_json(httpserver, 0) == sent_json(httpserver, 2)


def test_register_gives_up_after_bounded_attempts(
    httpserver: HTTPServer, api_client: DataSourceClient, audit_path: Path
) -> None:
    httpserver.expect_request("/v1/dataSources", method="POST").respond_with_data("", status=503)
    httpserver.expect_request("/v1/dataSources/", method="GET").respond_with_json({"items": []})
    with pytest.raises(AmbiguousRequestError, match="nothing was registered"):
        api_client.register(url="https://a.example", schema_id=SCHEMA_ID, audience="a", subject="s")
    posts = [r for r, _ in httpserver.log if r.method == "POST"]
    assert len(posts) == 3
    assert AuditLog.open(audit_path).read()[-1]["outcome"] == "unknown"


def test_update_sends_the_full_merged_body_with_a_new_nonce(
    httpserver: HTTPServer, api_client: DataSourceClient, audit_path: Path
) -> None:
    current = data_source_payload(id=DS_ID, nonce="old-nonce", lifetime=60)
    updated = data_source_payload(id=DS_ID, url="https://new.example/x", lifetime=60)
    httpserver.expect_ordered_request(
        f"/v1/dataSources/{DS_ID}", method="GET", headers=AUTH
    ).respond_with_json(current)
    httpserver.expect_ordered_request(
        f"/v1/dataSources/{DS_ID}", method="PUT", headers=AUTH
    ).respond_with_json(updated)

    result = api_client.update(DS_ID, url="https://new.example/x")

    assert result.url == "https://new.example/x"
    body = sent_json(httpserver, 1)
    nonce = body.pop("nonce")
    assert nonce not in ("old-nonce", "")
    assert body == put_body_from(current, url="https://new.example/x")
    entry = AuditLog.open(audit_path).read()[-1]
    assert (entry["operation"], entry["outcome"], entry["url"]) == (
        "update",
        "success",
        "https://new.example/x",
    )


def test_update_falls_back_to_jws_claims_when_the_get_lacks_values(
    httpserver: HTTPServer, api_client: DataSourceClient
) -> None:
    thin = data_source_payload(id=DS_ID, thin=True, audience="FromClaims", subject="sub-claim")
    httpserver.expect_ordered_request(f"/v1/dataSources/{DS_ID}", method="GET").respond_with_json(
        thin
    )
    httpserver.expect_ordered_request(f"/v1/dataSources/{DS_ID}", method="PUT").respond_with_json(
        thin
    )
    api_client.update(DS_ID, schema_id=OTHER_SCHEMA_ID)
    body = sent_json(httpserver, 1)
    assert body["audience"] == "FromClaims"
    assert body["subject"] == "sub-claim"
    assert body["url"] == "https://dap.example.com/ingest"
    assert body["schemaId"] == OTHER_SCHEMA_ID
    assert body["tokenLifetimeMinutes"] == 1440 // 2  # exp - iat of a 12 h JWS
    assert body["status"] == "active"


def test_extend_changes_only_nonce_and_lifetime(
    httpserver: HTTPServer, api_client: DataSourceClient
) -> None:
    current = data_source_payload(id=DS_ID, nonce="old", lifetime=720)
    httpserver.expect_ordered_request(f"/v1/dataSources/{DS_ID}", method="GET").respond_with_json(
        current
    )
    httpserver.expect_ordered_request(f"/v1/dataSources/{DS_ID}", method="PUT").respond_with_json(
        data_source_payload(id=DS_ID, expires_in=24 * 3600)
    )
    api_client.extend(DS_ID, lifetime_minutes=1440)
    assert methods_and_paths(httpserver) == [
        ("GET", f"/v1/dataSources/{DS_ID}"),
        ("PUT", f"/v1/dataSources/{DS_ID}"),
    ]
    body = sent_json(httpserver, 1)
    assert body.pop("nonce") != "old"
    assert body == put_body_from(current, tokenLifetimeMinutes=1440)


def test_extend_keeps_a_disabled_data_source_disabled_with_its_message(
    httpserver: HTTPServer, api_client: DataSourceClient
) -> None:
    current = data_source_payload(id=DS_ID, status="disabled", error_message="maintenance")
    httpserver.expect_ordered_request(f"/v1/dataSources/{DS_ID}", method="GET").respond_with_json(
        current
    )
    httpserver.expect_ordered_request(f"/v1/dataSources/{DS_ID}", method="PUT").respond_with_json(
        current
    )
    api_client.extend(DS_ID)
    body = sent_json(httpserver, 1)
    body.pop("nonce")
    assert body == put_body_from(current, errorMessage="maintenance")


def test_disable_and_enable(httpserver: HTTPServer, api_client: DataSourceClient) -> None:
    current = data_source_payload(id=DS_ID)
    disabled = data_source_payload(id=DS_ID, status="disabled", error_message="upgrade")
    httpserver.expect_ordered_request(f"/v1/dataSources/{DS_ID}", method="GET").respond_with_json(
        current
    )
    httpserver.expect_ordered_request(f"/v1/dataSources/{DS_ID}", method="PUT").respond_with_json(
        disabled
    )
    httpserver.expect_ordered_request(f"/v1/dataSources/{DS_ID}", method="GET").respond_with_json(
        disabled
    )
    httpserver.expect_ordered_request(f"/v1/dataSources/{DS_ID}", method="PUT").respond_with_json(
        current
    )
    assert api_client.disable(DS_ID, "  upgrade ").status == "disabled"
    assert api_client.enable(DS_ID).status == "active"
    off, on = sent_json(httpserver, 1), sent_json(httpserver, 3)
    assert (off["status"], off["errorMessage"]) == ("disabled", "upgrade")
    assert on["status"] == "active"
    assert "errorMessage" not in on
    assert off["nonce"] != on["nonce"]


def test_delete_and_its_audit_line(
    httpserver: HTTPServer, api_client: DataSourceClient, audit_path: Path
) -> None:
    httpserver.expect_request(
        f"/v1/dataSources/{DS_ID}", method="DELETE", headers=AUTH
    ).respond_with_data("", status=204, headers={"TrackingID": "ROUTER_DEL"})
    api_client.delete(DS_ID)
    entry = AuditLog.open(audit_path).read()[-1]
    assert (entry["operation"], entry["dataSourceId"], entry["trackingId"]) == (
        "delete",
        DS_ID,
        "ROUTER_DEL",
    )


def test_failed_change_is_audited_with_status_and_tracking_id(
    httpserver: HTTPServer, api_client: DataSourceClient, audit_path: Path
) -> None:
    httpserver.expect_request(f"/v1/dataSources/{DS_ID}", method="DELETE").respond_with_json(
        {"message": "Not found", "trackingId": "ROUTER_404"}, status=404
    )
    with pytest.raises(NotFoundError, match="Data source ID not found"):
        api_client.delete(DS_ID)
    entry = AuditLog.open(audit_path).read()[-1]
    assert entry["outcome"] == "failure"
    assert entry["trackingId"] == "ROUTER_404"
    assert entry["httpStatus"] == 404


def test_api_error_keeps_webex_message_and_tracking_id(
    httpserver: HTTPServer, api_client: DataSourceClient
) -> None:
    httpserver.expect_request(f"/v1/dataSources/{DS_ID}", method="GET").respond_with_json(
        {
            "message": "Invalid schema",
            "errors": [{"description": "schemaId unknown"}],
            "trackingId": "ROUTER_400",
        },
        status=400,
    )
    with pytest.raises(ApiError) as caught:
        api_client.extend(DS_ID)
    text = str(caught.value)
    assert "HTTP 400" in text and "Invalid schema" in text and "ROUTER_400" in text


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: c.get("not an id"), "whitespace"),
        (lambda c: c.update(DS_ID, url="http://plain.example"), "https://"),
        (lambda c: c.extend(DS_ID, lifetime_minutes=0), "between 1 and 1440"),
        (lambda c: c.disable(DS_ID, " "), "reason"),
        (lambda c: c.get_schema("nope"), "UUID"),
    ],
)
def test_bad_input_sends_nothing(
    httpserver: HTTPServer,
    api_client: DataSourceClient,
    call: Callable[[DataSourceClient], object],
    expected: str,
) -> None:
    with pytest.raises(InputError, match=expected):
        call(api_client)
    assert httpserver.log == []


def test_schemas_are_cached_for_a_day(
    httpserver: HTTPServer, make_http: Callable[..., HttpClient], tmp_path: Path, api_base: str
) -> None:
    clock = [1_000_000.0]
    cache = SchemaCache.for_base_url(api_base, directory=tmp_path / "c")
    cache.clock = lambda: clock[0]
    httpserver.expect_request("/v1/dataSources/schemas", method="GET").respond_with_json(
        {"items": [schema_payload()]}
    )
    client = DataSourceClient(make_http(), schema_cache=cache)
    assert client.list_schemas()[0].label == "voiceVirtualAgent (gRPC)"
    clock[0] += 23 * 3600
    assert client.list_schemas()[0].id == SCHEMA_ID
    assert len(httpserver.log) == 1
    clock[0] += 2 * 3600
    client.list_schemas()
    assert len(httpserver.log) == 2
    client.list_schemas(refresh=True)
    assert len(httpserver.log) == 3
    assert oct(cache.path.stat().st_mode & 0o777) == "0o600"


def test_schema_cache_is_per_base_url(tmp_path: Path) -> None:
    first = SchemaCache.for_base_url("https://a.example/v1", directory=tmp_path)
    second = SchemaCache.for_base_url("https://b.example/v1", directory=tmp_path)
    assert first.path != second.path


def test_get_schema(httpserver: HTTPServer, api_client: DataSourceClient) -> None:
    httpserver.expect_request(f"/v1/dataSources/schemas/{SCHEMA_ID}").respond_with_json(
        schema_payload()
    )
    assert api_client.get_schema(SCHEMA_ID).service_type == "voiceVirtualAgent"


def test_schema_labels_tell_apart_schemas_of_the_same_kind() -> None:
    from byods_manager.models import Schema

    base = "https://github.com/webex/dataSourceSchemas/blob/main/Services"
    forking = Schema.from_api(
        schema_payload(service_type="contactCenter") | {"url": f"{base}/AudioForking/x/schema.json"}
    )
    agent = Schema.from_api(
        schema_payload(service_type="contactCenter")
        | {"url": f"{base}/VoiceVirtualAgent/y/schema.json"}
    )
    assert forking.label == "contactCenter/AudioForking (gRPC)"
    assert agent.label == "contactCenter/VoiceVirtualAgent (gRPC)"
    assert Schema.from_api(schema_payload()).label == "voiceVirtualAgent (gRPC)"
    assert Schema.from_api({"id": "abc"}).label == "abc"


def test_extend_all_stops_on_authentication_failure(
    httpserver: HTTPServer, api_client: DataSourceClient
) -> None:
    from byods_manager.bulk import extend_all
    from byods_manager.errors import AuthRequiredError

    first, second = data_source_payload(), data_source_payload()
    httpserver.expect_request("/v1/dataSources/").respond_with_json({"items": [first, second]})
    httpserver.expect_request(f"/v1/dataSources/{first['id']}").respond_with_json(
        {"message": "expired token"}, status=401
    )
    with pytest.raises(AuthRequiredError):
        extend_all(api_client)
    assert [r.path for r, _ in httpserver.log] == [
        "/v1/dataSources/",
        f"/v1/dataSources/{first['id']}",
    ]


def test_extend_all_window_rules() -> None:
    from datetime import datetime, timedelta, timezone

    from byods_manager.bulk import skip_reason
    from byods_manager.models import DataSource

    now = datetime.now(timezone.utc)
    soon = DataSource.from_api(data_source_payload(expires_in=3600))
    later = DataSource.from_api(data_source_payload(expires_in=20 * 3600))
    unknown = DataSource(id="x", status="active")
    disabled = DataSource.from_api(data_source_payload(status="disabled", expires_in=60))
    window = timedelta(hours=6)
    assert skip_reason(soon, window, now) is None
    assert skip_reason(later, window, now) is not None
    assert skip_reason(later, None, now) is None
    assert skip_reason(unknown, window, now) is None
    assert skip_reason(disabled, window, now) == "disabled"
