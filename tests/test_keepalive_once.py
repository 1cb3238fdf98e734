"""`byods keepalive --once` as cron runs it: a real process against the sandbox."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from byods_manager.sandbox import Sandbox
from tests.keepalive_helpers import (
    data_sources_by_id,
    keepalive_env,
    register_data_sources,
    run_once,
)

ALERT_FIELDS = {"text", "event", "severity", "org", "dataSourceId", "time"}


@pytest.fixture
def env(sandbox: Sandbox, sandbox_config: Path, tmp_path: Path) -> dict[str, str]:
    return keepalive_env(sandbox, sandbox_config, tmp_path)


def _secrets(config: Path) -> list[str]:
    data = json.loads(config.read_text())
    return [
        data["serviceApp"]["clientSecret"],
        data["tokenManager"]["personalAccessToken"],
        data["tokenManager"]["oauthClientSecret"],
        data["tokenManager"]["oauthRefreshToken"],
    ]


def _alerts(httpserver: HTTPServer) -> list[dict[str, object]]:
    return [json.loads(request.data) for request, _ in httpserver.log]


def test_once_extends_only_the_data_sources_inside_their_window(
    sandbox: Sandbox, env: dict[str, str], sandbox_config: Path
) -> None:
    short = register_data_sources(sandbox, 3, lifetime_minutes=1)
    long = register_data_sources(sandbox, 1, lifetime_minutes=60)
    before = data_sources_by_id(sandbox)
    sandbox.reset()

    result = run_once(env, "--renew-before", "2m")

    assert result.returncode == 0, result.stderr
    after = data_sources_by_id(sandbox)
    for ds_id in short:
        assert after[ds_id].nonce != before[ds_id].nonce
        assert after[ds_id].expires_at >= before[ds_id].expires_at  # type: ignore[operator]
    assert after[long[0]].nonce == before[long[0]].nonce
    requests = sandbox.stats_snapshot()["requests"]
    assert requests["GET /dataSources"] == 1
    assert requests["PUT /dataSources/{id}"] == 3
    assert result.stderr.count(" extended ") == 3
    assert result.stdout == ""
    for secret in [*_secrets(sandbox_config), *(ds.jws_token for ds in after.values())]:
        assert secret and secret not in result.stderr


def test_once_idle_pass_costs_one_list_and_logs_json(sandbox: Sandbox, env: dict[str, str]) -> None:
    register_data_sources(sandbox, 2, lifetime_minutes=60)
    before = data_sources_by_id(sandbox)
    sandbox.reset()

    result = run_once(env, "--log-format", "json")

    assert result.returncode == 0, result.stderr
    assert data_sources_by_id(sandbox).keys() == before.keys()
    assert all(data_sources_by_id(sandbox)[k].nonce == v.nonce for k, v in before.items())
    requests = sandbox.stats_snapshot()["requests"]
    assert requests["GET /dataSources"] == 1
    assert "PUT /dataSources/{id}" not in requests
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert events[0]["event"] == "started"
    cycle = next(e for e in events if e["event"] == "cycle")
    assert (cycle["lists"], cycle["extended"], cycle["failures"]) == (1, 0, 0)


def test_once_failure_alerts_webhooks_and_command_then_exits_1(
    sandbox: Sandbox, env: dict[str, str], httpserver: HTTPServer, tmp_path: Path
) -> None:
    failing, healthy = register_data_sources(sandbox, 2, lifetime_minutes=1)
    before = data_sources_by_id(sandbox)
    sandbox.reset()
    sandbox.add_fault(400, count=1, path=f"/dataSources/{failing}", method="PUT")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    httpserver.expect_request("/broken", method="POST").respond_with_data("no", status=400)
    captured = tmp_path / "alert.json"
    command = (
        f"{sys.executable} -c 'import sys, pathlib; "
        f'pathlib.Path(sys.argv[1]).write_text(sys.stdin.read())\' "{captured}"'
    )

    result = run_once(
        env,
        "--renew-before",
        "2m",
        "--alert-webhook",
        httpserver.url_for("/broken"),
        "--alert-webhook",
        httpserver.url_for("/hook"),
        "--on-alert",
        command,
    )

    assert result.returncode == 1, result.stderr
    # The other data source was still renewed, although one webhook refused every alert.
    assert data_sources_by_id(sandbox)[healthy].nonce != before[healthy].nonce
    assert "alert_delivery_failed" in result.stderr
    delivered = [
        json.loads(request.data) for request, _ in httpserver.log if request.path == "/hook"
    ]
    by_event = {alert["event"]: alert for alert in delivered}
    assert sorted(by_event) == ["data_source_expiring", "extend_failed"]
    extend_failed = by_event["extend_failed"]
    assert set(extend_failed) == ALERT_FIELDS
    assert extend_failed["severity"] == "warning"
    assert extend_failed["dataSourceId"] == failing
    assert failing in str(extend_failed["text"])
    assert by_event["data_source_expiring"]["severity"] == "critical"
    assert json.loads(captured.read_text())["event"] in by_event


def test_once_exits_3_with_a_critical_alert_when_every_tier_fails(
    sandbox: Sandbox, env: dict[str, str], httpserver: HTTPServer
) -> None:
    register_data_sources(sandbox, 1, lifetime_minutes=60)
    sandbox.revoke_tokens()
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")

    result = run_once(env, "--alert-webhook", httpserver.url_for("/hook"))

    assert result.returncode == 3, result.stderr
    critical = [a for a in _alerts(httpserver) if a["severity"] == "critical"]
    assert [a["event"] for a in critical] == ["token_refresh_failed"]
    assert "byods auth setup" in str(critical[0]["text"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--renew-before", "soon"], "invalid duration"),
        (["--listen", "nowhere"], "invalid --listen"),
        (["--log-format", "xml"], "xml"),
        (["--on-alert", "notify 'unbalanced"], "invalid --on-alert"),
    ],
)
def test_once_rejects_bad_options_with_exit_2(
    env: dict[str, str], args: list[str], message: str
) -> None:
    result = run_once(env, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_rejected_fixed_token_exits_3_with_a_critical_alert(
    sandbox: Sandbox, env: dict[str, str], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    env["WEBEX_SERVICE_APP_ACCESS_TOKEN"] = "not-a-token-the-sandbox-issued"

    result = run_once(env, "--alert-webhook", httpserver.url_for("/hook"))

    assert result.returncode == 3, result.stderr
    (alert,) = _alerts(httpserver)
    assert (alert["event"], alert["severity"]) == ("token_refresh_failed", "critical")
    assert "not-a-token" not in result.stderr + json.dumps(alert)


def test_timer_runs_announce_a_lasting_problem_once_and_its_end_once(
    sandbox: Sandbox, env: dict[str, str], httpserver: HTTPServer
) -> None:
    (ds_id,) = register_data_sources(sandbox, 1, lifetime_minutes=1)
    sandbox.add_fault(400, count=2, path=f"/dataSources/{ds_id}", method="PUT")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    args = ("--renew-before", "2m", "--alert-webhook", httpserver.url_for("/hook"))

    codes = [run_once(env, *args).returncode for _ in range(3)]

    assert codes == [1, 1, 0]
    sent = [(a["event"], a["severity"]) for a in _alerts(httpserver)]
    assert sent.count(("extend_failed", "warning")) == 1
    assert sent.count(("extend_failed", "resolved")) == 1
    assert sent.index(("extend_failed", "warning")) < sent.index(("extend_failed", "resolved"))


def test_a_retried_request_is_logged_and_the_pass_still_succeeds(
    sandbox: Sandbox, env: dict[str, str]
) -> None:
    register_data_sources(sandbox, 1, lifetime_minutes=60)
    sandbox.add_fault(503, count=1, path="/dataSources/", method="GET")

    result = run_once(env, "--log-format", "json")

    assert result.returncode == 0, result.stderr
    notes = [json.loads(line) for line in result.stderr.splitlines() if '"http_note"' in line]
    assert len(notes) == 1
    assert "HTTP 503" in notes[0]["note"]
