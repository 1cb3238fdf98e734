"""The schema catalogue the sandbox serves at ``/dataSources/schemas``.

Facts taken from public sources:

- ids, service names and protocols come from the ``schema.json`` files Webex publishes in
  https://github.com/webex/dataSourceSchemas (``Services/<name>/<id>/schema.json``), whose
  ``supportedAppType`` is ``serviceApp`` for every one of them;
- ``78efc775-dccb-45ca-9acf-989a4a59f788`` (``webService``/``gRPC``) is the example in the
  official Data Sources OpenAPI document.

The ``serviceType`` of the published schemas and every ``createdAt`` are sandbox values:
the public files do not state them.
"""

from __future__ import annotations

from typing import Any

_REPO = "https://github.com/webex/dataSourceSchemas/blob/main/Services"

SCHEMAS: tuple[dict[str, Any], ...] = (
    {
        "id": "5397013b-7920-4ffc-807c-e8a3e0a18f43",
        "name": "Voice Virtual Agent Service",
        "serviceType": "contactCenter",
        "protocol": "gRPC",
        "appType": "serviceApp",
        "url": f"{_REPO}/VoiceVirtualAgent/5397013b-7920-4ffc-807c-e8a3e0a18f43/schema.json",
        "createdAt": "2024-09-05T01:35:04.772Z",
    },
    {
        "id": "a38a10b7-43e4-4676-a076-a7d6dce9387d",
        "name": "Web Socket Voice Virtual Agent Service",
        "serviceType": "contactCenter",
        "protocol": "web-socket",
        "appType": "serviceApp",
        "url": (
            f"{_REPO}/VoiceVirtualAgent_WebSocket/a38a10b7-43e4-4676-a076-a7d6dce9387d/schema.json"
        ),
        "createdAt": "2025-03-01T00:00:00.000Z",
    },
    {
        "id": "523e1b7f-4693-47bc-b84e-a7b7a505fb0b",
        "name": "Conversation Audio forking Service",
        "serviceType": "contactCenter",
        "protocol": "gRPC",
        "appType": "serviceApp",
        "url": f"{_REPO}/AudioForking/523e1b7f-4693-47bc-b84e-a7b7a505fb0b/schema.json",
        "createdAt": "2024-11-01T00:00:00.000Z",
    },
    {
        "id": "1b2b7077-dbcd-4732-b2f9-296f9168168a",
        "name": "Media Intelligence Forking Service",
        "serviceType": "contactCenter",
        "protocol": "gRPC",
        "appType": "serviceApp",
        "url": f"{_REPO}/MediaIntelligence/1b2b7077-dbcd-4732-b2f9-296f9168168a/schema.json",
        "createdAt": "2025-06-01T00:00:00.000Z",
    },
    {
        "id": "78efc775-dccb-45ca-9acf-989a4a59f788",
        "name": "Web service example (from the Data Sources API reference)",
        "serviceType": "webService",
        "protocol": "gRPC",
        "appType": "serviceApp",
        "url": "/path/to/definition/file3",
        "createdAt": "2024-09-05T01:35:04.772Z",
    },
)

VOICE_VIRTUAL_AGENT_GRPC = SCHEMAS[0]["id"]
VOICE_VIRTUAL_AGENT_WEBSOCKET = SCHEMAS[1]["id"]


def find_schema(schema_id: str) -> dict[str, Any] | None:
    for schema in SCHEMAS:
        if schema["id"] == schema_id:
            return dict(schema)
    return None


def all_schemas() -> list[dict[str, Any]]:
    return [dict(schema) for schema in SCHEMAS]
