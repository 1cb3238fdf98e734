"""`byods keepalive --all-orgs`: the real process against the multi-org sandbox. Every org
of the registry is kept; the registry is re-read each cycle; an org whose authorization
is gone is reported once and, once out of the registry, gets no more requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from byods_manager.sandbox import Sandbox
from tests.fixtures_sandbox import register
from tests.keepalive_helpers import KeepaliveProcess, byods, keepalive_env, wait_for

SCHEMA = "5397013b-7920-4ffc-807c-e8a3e0a18f43"


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(orgs=3) as sandbox:
        yield sandbox


@pytest.fixture
def env(box: Sandbox, tmp_path: Path) -> dict[str, str]:
    config = box.write_config(tmp_path / "sandbox" / "token-config.json")
    return keepalive_env(box, config, tmp_path)


def seed(box: Sandbox, org_id: str, lifetime_minutes: int = 1) -> str:
    created = register(
        box,
        box.issue_access_token("service_app", org_id=org_id),
        url=f"https://dap.example.com/{org_id[-6:]}",
        schemaId=SCHEMA,
        audience="keepalive",
        subject="fleet",
        tokenLifetimeMinutes=lifetime_minutes,
    )
    return str(created["id"])


def nonces(box: Sandbox) -> dict[str, str]:
    return {item["id"]: item.get("jwsToken", "") for item in box.data_sources()}


def org_requests(box: Sandbox, org_id: str) -> int:
    return int(box.stats_snapshot()["requestsByOrg"].get(org_id, 0))


def alerts(httpserver: HTTPServer) -> list[dict[str, object]]:
    return [json.loads(request.data) for request, _ in httpserver.log]


def test_all_orgs_are_kept_and_a_departed_org_is_left_alone(
    box: Sandbox, env: dict[str, str], httpserver: HTTPServer
) -> None:
    home, beta, gamma = box.org_ids
    for org, name in ((beta, "beta"), (gamma, "gamma")):
        added = byods(env, "orgs", "add", org, "--name", name)
        assert added.returncode == 0, added.stderr
    seeded = {org: seed(box, org) for org in box.org_ids}
    before = nonces(box)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    service = KeepaliveProcess(
        env,
        "--all-orgs",
        "--concurrency",
        "3",
        "--interval",
        "1s",
        "--renew-before",
        "2m",
        "--alert-webhook",
        httpserver.url_for("/hook"),
    )
    try:
        wait_for(
            lambda: all(nonces(box)[seeded[org]] != before[seeded[org]] for org in box.org_ids),
            "every org's data source renewed",
        )
        # Webex side: gamma takes the app away. Keepalive reports it once, the others go on.
        box.deauthorize_org(gamma)
        wait_for(
            lambda: any(
                a["org"] == gamma and a["severity"] == "critical" for a in alerts(httpserver)
            ),
            "the alert for gamma",
        )
        cycles = service.count("cycle")
        wait_for(lambda: service.count("cycle") >= cycles + 3, "three more cycles")
        beta_renewed = nonces(box)[seeded[beta]]
        wait_for(lambda: nonces(box)[seeded[beta]] != beta_renewed, "beta renewed again")
        # The operator (or the deauthorized webhook) takes gamma out of the registry.
        removed = byods(env, "orgs", "remove", gamma, "--yes")
        assert removed.returncode == 0, removed.stderr
        wait_for(lambda: service.find(f"org_dropped org={gamma}"), "gamma dropped")
        cycles = service.count("cycle")
        wait_for(lambda: service.count("cycle") >= cycles + 1, "the cycle under way")
        gamma_requests = org_requests(box, gamma)
        cycles = service.count("cycle")
        wait_for(lambda: service.count("cycle") >= cycles + 3, "three cycles without gamma")
        samples = service.metrics()
        final_requests = org_requests(box, gamma)
    finally:
        code = service.stop()

    assert code == 0
    gamma_alerts = [a for a in alerts(httpserver) if a["org"] == gamma]
    # announced once; closed when gamma left the fleet (nothing would resolve it later)
    assert [(a["event"], a["severity"]) for a in gamma_alerts] == [
        ("token_refresh_failed", "critical"),
        ("token_refresh_failed", "resolved"),
    ]
    assert final_requests == gamma_requests
    extended = {
        labels["org"]: value
        for labels, value in samples["byods_extend_total"]
        if labels["outcome"] == "success"
    }
    assert extended[home] >= 1 and extended[beta] >= 1 and extended[gamma] >= 1
    assert "Traceback" not in "\n".join(service.lines)


def test_org_and_all_orgs_exclude_each_other(env: dict[str, str], box: Sandbox) -> None:
    result = byods(env, "--org", box.org_ids[0], "keepalive", "--once", "--all-orgs")

    assert result.returncode == 2
    assert "--org and --all-orgs exclude each other" in result.stderr


def test_org_picks_one_org_for_a_pass(env: dict[str, str], box: Sandbox) -> None:
    beta = box.org_ids[1]
    assert byods(env, "orgs", "add", beta, "--name", "beta").returncode == 0
    ds_id = seed(box, beta)
    seed(box, box.org_ids[0])
    before = nonces(box)
    box.reset()

    result = byods(env, "--org", "beta", "keepalive", "--once", "--renew-before", "2m")

    assert result.returncode == 0, result.stderr
    assert nonces(box)[ds_id] != before[ds_id]
    assert box.stats_snapshot()["requests"]["PUT /dataSources/{id}"] == 1
