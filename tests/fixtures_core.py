"""Fixtures for the core tests: JWS builders, API payloads, a CLI runner, HTTP clients."""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from byods_manager.audit import AuditLog
from byods_manager.auth import StaticTokenProvider
from byods_manager.client import DataSourceClient
from byods_manager.http import HttpClient, RetryPolicy
from byods_manager.jws import b64url_encode
from byods_manager.schema_cache import SchemaCache

API_TOKEN = "svc-access-token-0123456789abcdefSECRET"
SCHEMA_ID = "78efc775-dccb-45ca-9acf-989a4a59f788"
OTHER_SCHEMA_ID = "5397013b-9bbd-4b6b-9f31-5b4f2d1e8a10"
ORG_ID = "ce861fba-6e2f-49f9-9a84-b354008fac9e"
API_PREFIX = "/v1"


def make_jws(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """A syntactically real compact JWS; the signature is random bytes (never verified)."""
    head = header or {"kid": str(uuid.uuid4()), "typ": "JWT", "alg": "RS256"}
    return ".".join(
        (
            b64url_encode(json.dumps(head).encode()),
            b64url_encode(json.dumps(claims).encode()),
            b64url_encode(secrets.token_bytes(256)),
        )
    )


def data_source_payload(
    *,
    id: str | None = None,
    url: str = "https://dap.example.com/ingest",
    schema_id: str = SCHEMA_ID,
    audience: str = "MedDocVirtualAgent",
    subject: str = "callAudioData",
    nonce: str = "nonce-1",
    lifetime: int = 1440,
    status: str = "active",
    error_message: str | None = None,
    expires_in: float = 12 * 3600,
    thin: bool = False,
) -> dict[str, Any]:
    """An API data-source object with a JWS. ``thin`` mimics list items (claims only)."""
    now = int(time.time())
    claims = {
        "aud": audience,
        "sub": subject,
        "iss": "https://idbroker.webex.com/idb",
        "iat": now,
        "exp": int(now + expires_in),
        "jti": nonce,
        "com.cisco.datasource.url": url,
        "com.cisco.datasource.schema.uuid": schema_id,
        "com.cisco.org.uuid": ORG_ID,
    }
    payload: dict[str, Any] = {
        "id": id or str(uuid.uuid4()),
        "jwsToken": make_jws(claims),
        "orgId": ORG_ID,
        "applicationId": "Cf2e954e018f2de8c1403e2618323551df65",
        "createdAt": "2024-10-18T01:08:35Z",
        "createdBy": "3e4d3b27-1bf1-4916-8d0c-d27fd765fa52",
    }
    if not thin:
        payload.update(
            {
                "status": status,
                "audience": audience,
                "subject": subject,
                "schemaId": schema_id,
                "url": url,
                "nonce": nonce,
                "tokenLifetimeMinutes": lifetime,
            }
        )
        if error_message:
            payload["errorMessage"] = error_message
    return payload


def schema_payload(
    schema_id: str = SCHEMA_ID, service_type: str = "voiceVirtualAgent", protocol: str = "gRPC"
) -> dict[str, Any]:
    return {
        "id": schema_id,
        "serviceType": service_type,
        "protocol": protocol,
        "appType": "serviceApp",
        "url": "/path/to/definition",
        "createdAt": "2024-09-05T01:35:04.772Z",
    }


def put_body_from(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """What a full PUT body for ``payload`` looks like, with ``changes`` applied."""
    body = {
        "audience": payload["audience"],
        "subject": payload["subject"],
        "schemaId": payload["schemaId"],
        "url": payload["url"],
        "tokenLifetimeMinutes": payload["tokenLifetimeMinutes"],
        "status": payload["status"],
    }
    body.update(changes)
    return body


@pytest.fixture
def api_base(httpserver: HTTPServer) -> str:
    return httpserver.url_for(API_PREFIX)


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the HTTP layer asked for (recorded instead of slept, in library tests)."""
    return []


@pytest.fixture
def make_http(api_base: str, sleeps: list[float]) -> Callable[..., HttpClient]:
    def build(base_url: str | None = None, **kwargs: Any) -> HttpClient:
        kwargs.setdefault("timeout", 2.0)
        kwargs.setdefault("retry", RetryPolicy(max_retries=3, backoff_seconds=0.01))
        kwargs.setdefault("sleep", sleeps.append)
        return HttpClient(base_url or api_base, StaticTokenProvider(API_TOKEN), **kwargs)

    return build


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit" / "audit.jsonl"


@pytest.fixture
def api_client(
    make_http: Callable[..., HttpClient], audit_path: Path, tmp_path: Path, api_base: str
) -> Iterator[DataSourceClient]:
    client = DataSourceClient(
        make_http(),
        audit=AuditLog.open(audit_path),
        schema_cache=SchemaCache.for_base_url(api_base, directory=tmp_path / "schema-cache"),
    )
    yield client
    client.close()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, api_base: str) -> str:
    """Point the CLI at the httpserver with a static service-app token."""
    monkeypatch.setenv("WEBEX_SERVICE_APP_ACCESS_TOKEN", API_TOKEN)
    monkeypatch.setenv("WEBEX_API_BASE_URL", api_base)
    return api_base


@pytest.fixture
def assume_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the CLI offer its terminal-only prompts under CliRunner (stdin is never a TTY)."""
    monkeypatch.setenv("BYODS_ASSUME_TTY", "1")


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    def run(args: list[str], input: str | None = None) -> Result:
        from byods_manager.cli.main import cli

        runner = CliRunner()
        return runner.invoke(cli, args, input=input, env=dict(os.environ), catch_exceptions=False)

    return run


@pytest.fixture
def default_audit_file(isolated_home: Path) -> Path:
    """Where the CLI writes its audit trail when no --audit-log is given."""
    from byods_manager.paths import default_audit_log

    return default_audit_log()


@pytest.fixture
def threaded_httpserver() -> Iterator[HTTPServer]:
    """A server that answers while another handler is still sleeping (for timeouts)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()
