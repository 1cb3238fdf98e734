"""A multi-org fake of Webex on pytest-httpserver (real HTTP over loopback).

One service app authorized by several orgs: the Applications API and the refresh grant
issue a different token pair per ``targetOrgId``, and ``/dataSources`` answers with the
data sources of the org the bearer token belongs to. Counters are per org, so tests can
count token requests and writes on the server.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import Counter
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from byods_manager.webex_ids import app_id_for_client
from tests.fixtures_core import data_source_payload

SA_CLIENT_ID = "fleet-sa-client-id"
SA_CLIENT_SECRET = "fleet-sa-secret-VERY-SECRET-0101"
PAT = "fleet-pat-SECRET-0102"
DERIVED_APP_ID = app_id_for_client(SA_CLIENT_ID)


class FleetWebex:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.serial = itertools.count(1)
        self.authorized: set[str] = set()
        self.access: dict[str, str] = {}  # access token -> org
        self.refresh: dict[str, str] = {}  # refresh token -> org
        self.data_sources: dict[str, dict[str, dict[str, Any]]] = {}
        self.calls: Counter[tuple[str, str]] = Counter()  # (kind, org)
        self.item_delay = 0.0
        self.list_delay = 0.0  # before a list is answered (a 429 is answered at once)
        self.expire_access_after_list = False
        self.revoke_after_list: set[str] = set()  # orgs deauthorized once they were listed
        self.rate_limit: int | None = None  # requests per 1 s window, then 429
        self._window_start = 0.0
        self._window_count = 0
        self.rate_limited = 0
        self.thin_list = False  # list items carry only id, orgId and jwsToken, as Webex's do
        server.expect_request("/access_token", method="POST").respond_with_handler(self._grant)
        server.expect_request(
            re.compile(r"^/applications/[^/]+/token$"), method="POST"
        ).respond_with_handler(self._mint)
        server.expect_request("/dataSources/", method="GET").respond_with_handler(self._list)
        server.expect_request("/dataSources", method="POST").respond_with_handler(self._create)
        server.expect_request(re.compile(r"^/dataSources/[^/]+$")).respond_with_handler(self._item)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    # -- set-up ------------------------------------------------------------------------

    def authorize(self, org: str, data_sources: int = 0) -> list[str]:
        """The org's admin authorizes the app; the org gets ``data_sources`` sources."""
        self.authorized.add(org)
        items = self.data_sources.setdefault(org, {})
        for _ in range(data_sources):
            payload = data_source_payload(expires_in=3600)
            items[payload["id"]] = payload
        return list(items)

    def revoke(self, org: str) -> None:
        """The org's admin deauthorizes the app: its tokens stop working at once."""
        with self.lock:
            self.authorized.discard(org)
            for table in (self.access, self.refresh):
                for token in [t for t, o in table.items() if o == org]:
                    del table[token]

    def count(self, kind: str, org: str | None = None) -> int:
        return sum(n for (k, o), n in self.calls.items() if k == kind and org in (None, o))

    # -- handlers ----------------------------------------------------------------------

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        return Response(
            json.dumps(body), status=status, content_type="application/json", headers=headers
        )

    def _error(self, status: int, message: str) -> Response:
        return self._json(status, {"message": message, "trackingId": "FLEET_1"})

    def _pair(self, org: str) -> Response:
        n = next(self.serial)
        access = f"sa-{org}-access-{n:04d}-SECRETX"
        refresh = f"sa-{org}-refresh-{n:04d}-SECRETX"
        self.access[access], self.refresh[refresh] = org, org
        return self._json(
            200,
            {
                "access_token": access,
                "expires_in": 14 * 86400,
                "refresh_token": refresh,
                "refresh_token_expires_in": 90 * 86400,
            },
        )

    def _grant(self, request: Request) -> Response:
        with self.lock:
            refresh = request.form.get("refresh_token", "")
            org = self.refresh.pop(refresh, None)
            self.calls[("refresh", org or "?")] += 1
            if request.form.get("client_secret") != SA_CLIENT_SECRET:
                return self._error(401, "invalid client")
            if org is None:
                return self._error(400, "invalid_grant")
            return self._pair(org)

    def _mint(self, request: Request) -> Response:
        with self.lock:
            body = request.get_json(silent=True) or {}
            org = str(body.get("targetOrgId"))
            self.calls[("mint", org)] += 1
            if request.headers.get("Authorization") != f"Bearer {PAT}":
                return self._error(401, "The request requires a valid access token.")
            if request.path != f"/applications/{DERIVED_APP_ID}/token":
                return self._error(404, "Service App not found")
            if body.get("clientSecret") != SA_CLIENT_SECRET or org not in self.authorized:
                return self._error(400, "The service app is not authorized in this org")
            return self._pair(org)

    def _org_of(self, request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        return self.access.get(header[7:]) if header.startswith("Bearer ") else None

    def _limited(self) -> Response | None:
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        if now - self._window_start >= 1.0:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        if self._window_count <= self.rate_limit:
            return None
        self.rate_limited += 1
        return self._json(429, {"message": "Too many requests"}, {"Retry-After": "1"})

    def _list(self, request: Request) -> Response:
        response = self._list_now(request)
        if self.list_delay and response.status_code != 429:
            time.sleep(self.list_delay)
        return response

    def _list_now(self, request: Request) -> Response:
        with self.lock:
            org = self._org_of(request)
            limited = self._limited() if org is not None else None
            if limited is not None:
                return limited  # counted in rate_limited only
            self.calls[("list", org or "?")] += 1
            if org is None:
                return self._error(401, "The request requires a valid access token.")
            if self.expire_access_after_list:
                self.access = {t: o for t, o in self.access.items() if o != org}
            items = list(self.data_sources[org].values())
            if org in self.revoke_after_list:
                self.authorized.discard(org)
                for table in (self.access, self.refresh):
                    for token in [t for t, o in table.items() if o == org]:
                        del table[token]
            if self.thin_list:
                items = [{k: ds[k] for k in ("id", "orgId", "jwsToken")} for ds in items]
            return self._json(200, {"items": items})

    def _create(self, request: Request) -> Response:
        with self.lock:
            org = self._org_of(request)
            self.calls[("post", org or "?")] += 1
            if org is None:
                return self._error(401, "The request requires a valid access token.")
            created = _reissued(data_source_payload(), request.get_json(silent=True) or {})
            self.data_sources[org][created["id"]] = created
            return self._json(200, created)

    def _item(self, request: Request) -> Response:
        if self.item_delay:
            time.sleep(self.item_delay)
        with self.lock:
            org = self._org_of(request)
            limited = self._limited() if org is not None else None
            if limited is not None:
                return limited  # counted in rate_limited only
            self.calls[(request.method.lower(), org or "?")] += 1
            if org is None:
                return self._error(401, "The request requires a valid access token.")
            ds_id = request.path.rsplit("/", 1)[1]
            current = self.data_sources[org].get(ds_id)
            if current is None:
                return self._error(404, "Data source not found")
            if request.method == "DELETE":
                del self.data_sources[org][ds_id]
                return Response(status=204)
            if request.method == "PUT":
                current = _reissued(current, request.get_json(silent=True) or {})
                self.data_sources[org][ds_id] = current
            return self._json(200, current)


def _reissued(current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The data source with ``body`` applied and a new JWS carrying its values."""
    merged = {**current, **body}
    fresh = data_source_payload(
        id=merged["id"],
        url=merged["url"],
        schema_id=merged["schemaId"],
        audience=merged["audience"],
        subject=merged["subject"],
        nonce=merged["nonce"],
        lifetime=merged["tokenLifetimeMinutes"],
        status=merged.get("status", "active"),
    )
    if merged.get("errorMessage") and fresh["status"] == "disabled":
        fresh["errorMessage"] = merged["errorMessage"]
    return fresh
