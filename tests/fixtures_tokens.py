"""Fixtures for the token-manager tests: a stateful fake of the Webex token endpoints on
pytest-httpserver (real HTTP over loopback), config writers and a private token store."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fixtures_stores import PgStoreRef

APP_ID = "app-123"
ORG_ID = "org-456"
SA_CLIENT_ID = "sa-client-id"
SA_CLIENT_SECRET = "sa-secret-VERY-SECRET-0001"
INTEG_CLIENT_ID = "integ-client-id"
INTEG_CLIENT_SECRET = "integ-secret-VERY-SECRET-0002"
PAT = "pat-personal-token-SECRET-0003"
SEED_REFRESH = "sa-refresh-seed-SECRET-0004"
INTEG_REFRESH = "integ-refresh-seed-SECRET-0005"


class FakeWebexTokens:
    """The token side of Webex with real rules: a service-app refresh token stops working
    once used (rotation), the Applications API wants a valid bearer with
    ``spark:applications_token``, and ``GET /dataSources/`` wants a live service-app token.

    ``calls`` counts requests by kind; ``log`` keeps (kind, detail) in order.
    """

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.serial = itertools.count(1)
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[str, dict[str, Any]]] = []
        self.sa_refresh_valid: set[str] = set()
        self.sa_access_valid: set[str] = set()
        self.bearers_valid: set[str] = set()
        self.integ_refresh_valid: set[str] = set()
        self.expires_in = 14 * 86400
        self.refresh_expires_in = 90 * 86400
        self.delay = 0.0
        self.list_status: int | None = None  # force a status for GET /dataSources/
        self.data_sources: dict[str, dict[str, Any]] = {}
        self.orgs = {ORG_ID}  # orgs whose admin authorized the service app
        server.expect_request("/access_token", method="POST").respond_with_handler(
            self._access_token
        )
        server.expect_request(
            re.compile(r"^/applications/[^/]+/token$"), method="POST"
        ).respond_with_handler(self._mint)
        server.expect_request("/dataSources/", method="GET").respond_with_handler(self._list)
        server.expect_request(re.compile(r"^/dataSources/[^/]+$")).respond_with_handler(self._item)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    # -- helpers for tests -------------------------------------------------------------

    def new_service_pair(self) -> tuple[str, str]:
        n = next(self.serial)
        access, refresh = f"sa-access-{n:04d}-SECRETX", f"sa-refresh-{n:04d}-SECRETX"
        self.sa_access_valid.add(access)
        self.sa_refresh_valid.add(refresh)
        return access, refresh

    def _json(self, status: int, body: Any) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _error(self, status: int, message: str) -> Response:
        return self._json(
            status,
            {"message": message, "errors": [{"description": message}], "trackingId": "FAKE_1"},
        )

    def _grant(self, access: str, refresh: str) -> Response:
        return self._json(
            200,
            {
                "access_token": access,
                "expires_in": self.expires_in,
                "refresh_token": refresh,
                "refresh_token_expires_in": self.refresh_expires_in,
                "token_type": "Bearer",
            },
        )

    def _bearer(self, request: Request) -> str:
        header = request.headers.get("Authorization", "")
        return header[7:] if header.startswith("Bearer ") else ""

    # -- handlers ----------------------------------------------------------------------

    def _access_token(self, request: Request) -> Response:
        form = request.form
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            client_id = form.get("client_id")
            refresh = form.get("refresh_token", "")
            kind = "integration_refresh" if client_id == INTEG_CLIENT_ID else "sa_refresh"
            self.calls[kind] += 1
            self.log.append((kind, {"refresh_token": refresh}))
            if form.get("grant_type") != "refresh_token":
                return self._error(400, "unsupported grant_type")
            if kind == "sa_refresh":
                if form.get("client_secret") != SA_CLIENT_SECRET:
                    return self._error(401, "invalid client")
                if refresh not in self.sa_refresh_valid:
                    return self._error(400, "invalid_grant: refresh token invalid or used")
                self.sa_refresh_valid.discard(refresh)
                access, new_refresh = self.new_service_pair()
                return self._grant(access, new_refresh)
            if form.get("client_secret") != INTEG_CLIENT_SECRET:
                return self._error(401, "invalid client")
            if refresh not in self.integ_refresh_valid:
                return self._error(400, "invalid_grant: integration refresh token invalid")
            n = next(self.serial)
            access, new_refresh = f"integ-access-{n:04d}-SECRETX", f"integ-refresh-{n:04d}-SECRETX"
            self.integ_refresh_valid.discard(refresh)
            self.integ_refresh_valid.add(new_refresh)
            self.bearers_valid.add(access)
            return self._grant(access, new_refresh)

    def _mint(self, request: Request) -> Response:
        with self.lock:
            bearer = self._bearer(request)
            self.calls["mint"] += 1
            self.log.append(("mint", {"bearer": bearer, "path": request.path}))
            if bearer not in self.bearers_valid:
                return self._error(401, "The request requires a valid access token.")
            body = request.get_json(silent=True) or {}
            if request.path != f"/applications/{APP_ID}/token":
                return self._error(404, "Service App not found")
            expected = {"clientId": SA_CLIENT_ID, "clientSecret": SA_CLIENT_SECRET}
            org = body.pop("targetOrgId", None)
            if body != expected or org not in self.orgs:
                return self._error(400, "Invalid client credentials")
            access, refresh = self.new_service_pair()
            return self._grant(access, refresh)

    def _list(self, request: Request) -> Response:
        with self.lock:
            bearer = self._bearer(request)
            self.calls["list"] += 1
            self.log.append(("list", {"bearer": bearer}))
            if self.list_status is not None:
                return self._error(self.list_status, "forced failure")
            if bearer not in self.sa_access_valid:
                return self._error(401, "The request requires a valid access token.")
            return self._json(200, {"items": list(self.data_sources.values())})

    def _item(self, request: Request) -> Response:
        with self.lock:
            bearer = self._bearer(request)
            self.calls[f"item_{request.method.lower()}"] += 1
            if bearer not in self.sa_access_valid:
                return self._error(401, "The request requires a valid access token.")
            ds_id = request.path.rsplit("/", 1)[1]
            current = self.data_sources.get(ds_id)
            if current is None:
                return self._error(404, "Data source not found")
            if request.method == "PUT":
                body = request.get_json(silent=True) or {}
                current.update(body)
            return self._json(200, current)


@pytest.fixture
def tokens_fake(httpserver: HTTPServer) -> FakeWebexTokens:
    return FakeWebexTokens(httpserver)


@pytest.fixture
def tokens_store(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    store_backend: str,
    request: pytest.FixtureRequest,
) -> Path | PgStoreRef:
    """A private token store, selected the way users select one: $BYODS_TOKEN_STORE for a
    file, $BYODS_STORE for PostgreSQL (see ``store_backend``)."""
    if store_backend == "postgres":
        url: str = request.getfixturevalue("pg_url")
        monkeypatch.setenv("BYODS_STORE", url)
        return PgStoreRef(url)
    path = tmp_path / "store" / "tokens.json"
    monkeypatch.setenv("BYODS_TOKEN_STORE", str(path))
    return path


StoreTarget = Path | PgStoreRef


def only_on_file(target: StoreTarget) -> Path:
    """The store's path; skips the test on a backend that has no file."""
    if not isinstance(target, Path):
        pytest.skip("looks at the token file itself")
    return target


def profile_dict(
    *,
    pat: str | None = PAT,
    integration: bool = False,
    spelling: str = "current",
    seed_refresh: str | None = None,
    seed_access: str | None = None,
) -> dict[str, Any]:
    """One profile in the users' format; ``spelling`` picks current/legacy/nested keys."""
    service: dict[str, Any] = {
        "appId": APP_ID,
        "clientId": SA_CLIENT_ID,
        "clientSecret": SA_CLIENT_SECRET,
        "targetOrgId": ORG_ID,
    }
    if seed_refresh:
        service["refreshToken"] = seed_refresh
    if seed_access:
        service["accessToken"] = seed_access
    manager: dict[str, Any] = {}
    if spelling == "nested":
        if pat:
            manager["personalAccessToken"] = pat
        if integration:
            manager["integration"] = {
                "clientId": INTEG_CLIENT_ID,
                "clientSecret": INTEG_CLIENT_SECRET,
                "refreshToken": INTEG_REFRESH,
            }
    else:
        if pat:
            manager["personalAccessToken"] = pat
        if integration:
            prefix = "oauth" if spelling == "current" else ""
            names = ("ClientId", "ClientSecret", "RefreshToken")
            keys = [prefix + n if prefix else n[0].lower() + n[1:] for n in names]
            manager[keys[0]] = INTEG_CLIENT_ID
            manager[keys[1]] = INTEG_CLIENT_SECRET
            manager[keys[2]] = INTEG_REFRESH
    return {"serviceApp": service, "tokenManager": manager}


@pytest.fixture
def tokens_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config file (0600) from a dict, or from :func:`profile_dict` keywords."""

    def write(
        data: dict[str, Any] | None = None, name: str = "token-config.json", **kw: Any
    ) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(data if data is not None else profile_dict(**kw)))
        path.chmod(0o600)
        return path

    return write


def seed_store(path: StoreTarget, **entry: Any) -> None:
    """Write a store holding one service-app entry (test setup only)."""
    service = {
        "accessToken": entry.get("access"),
        "expiresAt": entry.get("expires_at"),
        "refreshToken": entry.get("refresh"),
        "refreshExpiresAt": entry.get("refresh_expires_at"),
        "source": "test",
        "updatedAt": time.time(),
        "known": [],
    }
    write_document(
        path,
        {"version": 1, "serviceApps": {f"{APP_ID}@{ORG_ID}": service}, "integrations": {}},
    )


def write_document(target: StoreTarget, document: dict[str, Any]) -> None:
    """Replace the whole token document, as it is, on either backend (test setup only)."""
    if isinstance(target, Path):
        from byods_manager.fileio import atomic_write_json

        atomic_write_json(target, document)
        return
    import psycopg
    from psycopg.types.json import Jsonb

    from byods_manager.stores import sql
    from byods_manager.stores.postgres import PostgresStore

    PostgresStore(target.url).migrate()
    with psycopg.connect(target.url, autocommit=True) as conn:
        conn.execute(sql.SAVE_DOCUMENT, (sql.TOKENS_DOCUMENT, Jsonb(document)))


def read_store(path: StoreTarget) -> dict[str, Any]:
    """The raw token document as stored, on either backend."""
    if isinstance(path, Path):
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    import psycopg

    with psycopg.connect(path.url) as conn:
        row = conn.execute("SELECT body FROM byods_documents WHERE name = 'tokens'").fetchone()
    assert row is not None, "nothing stored"
    document: dict[str, Any] = row[0]
    return document


def service_entry(path: StoreTarget) -> dict[str, Any]:
    entry: dict[str, Any] = read_store(path)["serviceApps"][f"{APP_ID}@{ORG_ID}"]
    return entry


ALL_SECRETS = (
    SA_CLIENT_SECRET,
    INTEG_CLIENT_SECRET,
    PAT,
    SEED_REFRESH,
    INTEG_REFRESH,
)


def assert_no_secrets(text: str, extra: tuple[str, ...] = ()) -> None:
    """No configured secret and no issued token (all contain SECRET) appears in ``text``."""
    for secret in (*ALL_SECRETS, *extra):
        assert secret not in text
    assert "SECRETX" not in text, "an issued token leaked"
