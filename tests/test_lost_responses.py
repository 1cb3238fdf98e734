"""A PUT or DELETE whose response is lost is reconciled by reading the data source back.

The fake below is a tiny stateful data-source server with real nonce rules: a nonce that
was already used is refused (400), and a deleted data source answers 404. ``lose`` makes
it apply the next change and then answer 502 (a proxy lost the response) or stall past
the client's timeout; ``refuse`` answers 503 without applying anything.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from byods_manager.audit import AuditLog
from byods_manager.client import DataSourceClient
from byods_manager.errors import TransportError
from byods_manager.http import HttpClient
from tests.fixtures_core import data_source_payload

DS_ID = "3c9d6f2a-1b7e-4c55-9a0d-6e2f8b1c4d70"


class FlakyDataSource:
    def __init__(self, server: HTTPServer) -> None:
        self.payload: dict[str, Any] | None = data_source_payload(id=DS_ID, nonce="n-0")
        self.used_nonces = {"n-0"}
        self.puts: list[str] = []
        self.deletes = 0
        self.mode: list[str] = []  # per change request: "lose", "stall" or "refuse"
        self.lock = threading.Lock()
        server.expect_request(f"/v1/dataSources/{DS_ID}").respond_with_handler(self.handle)

    def _json(self, status: int, body: Any) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def handle(self, request: Request) -> Response:
        with self.lock:
            if self.payload is None:
                return self._json(404, {"message": "Data source not found"})
            if request.method == "GET":
                return self._json(200, self.payload)
            mode = self.mode.pop(0) if self.mode else "ok"
            if mode == "refuse":
                return self._json(503, {"message": "Service Unavailable"})
            if request.method == "DELETE":
                self.deletes += 1
                self.payload = None
            else:
                body = json.loads(request.get_data(as_text=True))
                self.puts.append(body["nonce"])
                if body["nonce"] in self.used_nonces:
                    return self._json(400, {"message": "nonce has already been used"})
                self.used_nonces.add(body["nonce"])
                self.payload = data_source_payload(
                    id=DS_ID,
                    nonce=body["nonce"],
                    lifetime=body["tokenLifetimeMinutes"],
                    status=body.get("status", "active"),
                )
            result = self._json(204 if request.method == "DELETE" else 200, self.payload or {})
        if mode == "lose":
            return self._json(502, {"message": "Bad Gateway"})
        if mode == "stall":
            time.sleep(1.5)
        return result


@pytest.fixture
def flaky(threaded_httpserver: HTTPServer) -> FlakyDataSource:
    return FlakyDataSource(threaded_httpserver)


@pytest.fixture
def client(
    threaded_httpserver: HTTPServer, make_http: Callable[..., HttpClient], audit_path: Path
) -> DataSourceClient:
    http = make_http(threaded_httpserver.url_for("/v1"), timeout=(2.0, 0.5))
    return DataSourceClient(http, audit=AuditLog.open(audit_path))


@pytest.mark.parametrize("mode", ["lose", "stall"])
def test_extend_applied_but_response_lost_is_a_success(
    flaky: FlakyDataSource, client: DataSourceClient, audit_path: Path, mode: str
) -> None:
    flaky.mode = [mode]
    extended = client.extend(DS_ID)
    assert len(flaky.puts) == 1, "the applied PUT was not sent again"
    assert extended.nonce == flaky.puts[0]
    (record,) = AuditLog(audit_path).read()
    assert (record["operation"], record["outcome"], record["recovered"]) == (
        "extend",
        "success",
        True,
    )


def test_update_not_applied_is_sent_again_with_a_fresh_nonce(
    flaky: FlakyDataSource, client: DataSourceClient, audit_path: Path
) -> None:
    flaky.mode = ["refuse"]
    updated = client.update(DS_ID, lifetime_minutes=60)
    assert len(flaky.puts) == 1  # the refused attempt never reached the PUT handler's log
    assert updated.nonce == flaky.puts[0]
    assert updated.token_lifetime_minutes == 60
    (record,) = AuditLog(audit_path).read()
    assert record["outcome"] == "success"


def test_lost_then_refused_uses_a_new_nonce_each_time(
    flaky: FlakyDataSource, client: DataSourceClient
) -> None:
    flaky.mode = ["refuse", "refuse"]
    client.extend(DS_ID)
    assert len(flaky.puts) == 1
    assert flaky.puts[0] not in ("n-0",)


def test_change_never_applied_is_a_failure_in_the_audit(
    flaky: FlakyDataSource, client: DataSourceClient, audit_path: Path
) -> None:
    flaky.mode = ["refuse"] * 10
    with pytest.raises(TransportError, match="was not applied"):
        client.extend(DS_ID)
    (record,) = AuditLog(audit_path).read()
    assert record["outcome"] == "failure"


@pytest.mark.parametrize("mode", ["lose", "stall"])
def test_delete_applied_but_response_lost_is_a_success(
    flaky: FlakyDataSource, client: DataSourceClient, audit_path: Path, mode: str
) -> None:
    flaky.mode = [mode]
    client.delete(DS_ID)
    assert flaky.deletes == 1
    (record,) = AuditLog(audit_path).read()
    assert (record["operation"], record["outcome"], record["recovered"]) == (
        "delete",
        "success",
        True,
    )


def test_delete_not_applied_is_sent_again(flaky: FlakyDataSource, client: DataSourceClient) -> None:
    flaky.mode = ["refuse"]
    client.delete(DS_ID)
    assert flaky.deletes == 1
    assert flaky.payload is None


def test_cli_extend_exits_0_when_the_response_was_lost(
    flaky: FlakyDataSource,
    threaded_httpserver: HTTPServer,
    cli_env: str,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., Result],
) -> None:
    monkeypatch.setenv("WEBEX_API_BASE_URL", threaded_httpserver.url_for("/v1"))
    flaky.mode = ["lose"]
    result = run_cli(["extend", DS_ID, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["nonce"] == flaky.puts[0]


# -- against the sandbox: it applies the change, then answers a gateway error ------------


@pytest.fixture
def sandbox_client(sandbox: Any, audit_path: Path) -> Iterator[DataSourceClient]:
    from byods_manager.auth import StaticTokenProvider
    from byods_manager.http import RetryPolicy

    token = sandbox.issue_access_token("service_app")
    http = HttpClient(
        sandbox.base_url,
        StaticTokenProvider(token),
        retry=RetryPolicy(max_retries=2, backoff_seconds=0.01),
        sleep=lambda _: None,
    )
    client = DataSourceClient(http, audit=AuditLog.open(audit_path))
    yield client
    client.close()


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_sandbox_change_applied_before_a_502_counts_as_done(
    sandbox: Any, sandbox_client: DataSourceClient, audit_path: Path, method: str
) -> None:
    from byods_manager.sandbox.schemas import VOICE_VIRTUAL_AGENT_GRPC

    created = sandbox_client.register(
        url="https://dap.example.com/lost",
        schema_id=VOICE_VIRTUAL_AGENT_GRPC,
        audience="aud-lost",
        subject="sub-lost",
        lifetime_minutes=60,
    )
    sandbox.add_fault(502, path=f"/dataSources/{created.id}", method=method, after=True)
    if method == "PUT":
        extended = sandbox_client.extend(created.id)
        assert sandbox_client.get(created.id).nonce == extended.nonce
    else:
        sandbox_client.delete(created.id)
        assert all(ds.id != created.id for ds in sandbox_client.list())
    last = AuditLog(audit_path).read()[-1]
    assert (last["outcome"], last["recovered"]) == ("success", True)
