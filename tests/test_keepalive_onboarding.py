"""Zero-touch onboarding through the real `byods keepalive` process: the sandbox delivers
signed ``serviceApp`` webhooks to the keepalive listener; a new org joins the registry,
gets the template's data sources with one token mint and an alert; a departing org is
marked, alerted and left alone; a forged delivery changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer

from byods_manager.sandbox import Sandbox
from byods_manager.sandbox.schemas import VOICE_VIRTUAL_AGENT_GRPC
from tests.keepalive_helpers import KeepaliveProcess, byods, keepalive_env, wait_for

SECRET = "keepalive-webhook-secret-0001"
MINT = "POST /applications/{appId}/token"
TEMPLATE = [
    {
        "url": "https://dap.example.com/voice",
        "schemaId": VOICE_VIRTUAL_AGENT_GRPC,
        "audience": "dap-voice",
        "subject": "calls",
        "lifetimeMinutes": 60,
    }
]


@pytest.fixture
def env(sandbox: Sandbox, sandbox_config: Path, tmp_path: Path) -> dict[str, str]:
    return keepalive_env(sandbox, sandbox_config, tmp_path)


def orgs(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    result = byods(env, "orgs", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {item["orgId"]: item for item in json.loads(result.stdout)}


def alerts(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.data) for request, _ in httpserver.log]


def mints(sandbox: Sandbox) -> int:
    return int(sandbox.stats_snapshot()["requests"].get(MINT, 0))


def test_an_org_is_onboarded_and_offboarded_by_webhook(
    sandbox: Sandbox, env: dict[str, str], tmp_path: Path, httpserver: HTTPServer
) -> None:
    template = tmp_path / "template.json"
    template.write_text(json.dumps(TEMPLATE))
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    service = KeepaliveProcess(
        {**env, "BYODS_WEBHOOK_SECRET": SECRET},
        "--all-orgs",
        "--template",
        str(template),
        "--interval",
        "1s",
        "--alert-webhook",
        httpserver.url_for("/hook"),
    )
    try:
        target = service.origin + "/webhooks/service-app"
        registered = byods(env, "webhooks", "register", "--target-url", target, "--secret", SECRET)
        assert registered.returncode == 0, registered.stderr
        before = mints(sandbox)

        org_id = sandbox.authorize_org()
        joined = wait_for(lambda: orgs(env).get(org_id), "the new org in `orgs list`")
        wait_for(lambda: sandbox.data_sources(org_id), "the template's data source")
        wait_for(
            lambda: any(a["event"] == "org_authorized" for a in alerts(httpserver)),
            "the org_authorized alert",
        )
        cycles = service.count("cycle")
        wait_for(lambda: service.count("cycle") >= cycles + 2, "two cycles with the new org")
        minted = mints(sandbox) - before
        created = sandbox.data_sources(org_id)
        # keepalive itself now keeps the org: its data source's expiry is published
        wait_for(
            lambda: any(
                labels["org"] == org_id
                for labels, _ in service.metrics()["byods_data_source_expiry_timestamp_seconds"]
            ),
            "the new org's data source in the metrics",
        )

        # A forged delivery: 401, and nothing changes.
        org_count = len(orgs(env))
        body = json.dumps(
            {"resource": "serviceApp", "event": "deauthorized", "data": {"orgId": org_id}}
        ).encode()
        forged = requests.post(
            target, data=body, headers={"X-Spark-Signature": "0" * 40}, timeout=10
        )
        unsigned = requests.post(target, data=body, timeout=10)
        after_forgery = orgs(env)

        sandbox.deauthorize_org(org_id)
        wait_for(
            lambda: orgs(env)[org_id]["status"] == "deauthorized", "the org marked deauthorized"
        )
        wait_for(
            lambda: any(a["event"] == "org_deauthorized" for a in alerts(httpserver)),
            "the org_deauthorized alert",
        )
        wait_for(lambda: service.find(f"org_dropped org={org_id}"), "the org dropped")
        cycles = service.count("cycle")
        wait_for(lambda: service.count("cycle") >= cycles + 1, "the cycle under way")
        requests_then = sandbox.stats_snapshot()["requestsByOrg"].get(org_id, 0)
        cycles = service.count("cycle")
        wait_for(lambda: service.count("cycle") >= cycles + 3, "three cycles")
        requests_later = sandbox.stats_snapshot()["requestsByOrg"].get(org_id, 0)
        samples = service.metrics()
    finally:
        code = service.stop()

    assert code == 0
    assert joined["source"] == "webhook" and joined["status"] == "active"
    assert minted == 1
    assert [(ds["url"], ds["audience"], ds["subject"]) for ds in created] == [
        ("https://dap.example.com/voice", "dap-voice", "calls")
    ]
    assert forged.status_code == 401 and unsigned.status_code == 401
    assert len(after_forgery) == org_count and after_forgery[org_id]["status"] == "active"
    assert requests_later == requests_then
    org_alerts = [(a["event"], a["severity"], a["org"]) for a in alerts(httpserver)]
    assert org_alerts.count(("org_authorized", "resolved", org_id)) == 1
    assert org_alerts.count(("org_deauthorized", "warning", org_id)) == 1
    events = {labels["event"]: value for labels, value in samples["byods_org_events_total"]}
    assert events == {"org_authorized": 1, "org_deauthorized": 1}
    deliveries = {
        labels["status"]: value for labels, value in samples["byods_webhook_deliveries_total"]
    }
    assert deliveries["202"] == 2 and deliveries["401"] == 2
    assert SECRET not in "\n".join(service.lines)


def test_webhook_options_need_the_service(env: dict[str, str]) -> None:
    result = byods(env, "keepalive", "--once", "--webhook-secret", SECRET)

    assert result.returncode == 2
    assert "need the service" in result.stderr


def test_template_alone_uses_the_secrets_register_saved(
    sandbox: Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    saved = byods(
        env,
        "webhooks",
        "register",
        "--target-url",
        "http://127.0.0.1:9/webhooks/service-app",
        "--secret",
        SECRET,
    )
    assert saved.returncode == 0, saved.stderr
    template = tmp_path / "template.json"
    template.write_text(json.dumps(TEMPLATE))
    service = KeepaliveProcess(env, "--all-orgs", "--template", str(template), "--interval", "1s")
    try:
        target = service.origin + "/webhooks/service-app"
        registered = byods(env, "webhooks", "register", "--target-url", target, "--secret", SECRET)
        assert registered.returncode == 0, registered.stderr
        org_id = sandbox.authorize_org()
        wait_for(lambda: sandbox.data_sources(org_id), "the template's data source")
        joined = wait_for(lambda: orgs(env).get(org_id), "the new org in `orgs list`")
    finally:
        code = service.stop()

    assert code == 0
    assert joined["source"] == "webhook"
    assert service.find("webhooks_enabled")
    assert SECRET not in "\n".join(service.lines)
