"""`byods sandbox` in a real subprocess: starts, prints what to export, stops cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from byods_manager.cli.main import cli


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "byods_manager", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def mint_service_app_token(base_url: str, config: dict[str, dict[str, str]]) -> str:
    app = config["serviceApp"]
    response = requests.post(
        f"{base_url}/applications/{app['appId']}/token",
        json={
            "clientId": app["clientId"],
            "clientSecret": app["clientSecret"],
            "targetOrgId": app["targetOrgId"],
        },
        headers={"Authorization": f"Bearer {config['tokenManager']['personalAccessToken']}"},
        timeout=10,
    )
    assert response.status_code == 200
    token: str = response.json()["access_token"]
    return token


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_start_use_and_stop(
    tmp_path: Path, processes: list[subprocess.Popen[str]], stop_signal: signal.Signals
) -> None:
    config_path = tmp_path / "out" / "token-config.json"
    process = start("--config-out", str(config_path), "--latency-ms", "0")
    processes.append(process)
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.match(r"Webex sandbox listening on (http://127\.0\.0\.1:\d+/v1)", first)
    assert match, first
    base_url = match.group(1)
    lines = [process.stdout.readline() for _ in range(9)]
    text = "".join(lines)
    assert f"export WEBEX_API_BASE_URL={base_url}" in text
    assert f"export BYODS_CONFIG={config_path}" in text
    assert f"BYODS_CONFIG={config_path} WEBEX_API_BASE_URL={base_url} byods list" in text

    config = json.loads(config_path.read_text())
    token = mint_service_app_token(base_url, config)
    listed = requests.get(
        base_url + "/dataSources", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert listed.json() == {"items": []}

    process.send_signal(stop_signal)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out.rstrip().endswith("Sandbox stopped.")
    assert "POST /v1/applications/" in err
    assert "GET /v1/dataSources -> 200" in err
    assert config["serviceApp"]["clientSecret"] not in out + err
    assert token not in out + err
    with pytest.raises(requests.ConnectionError):
        requests.get(base_url + "/dataSources/schemas", timeout=2)


def test_json_mode_with_a_state_file(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    state = tmp_path / "state.json"
    process = start(
        "--json",
        "--quiet",
        "--state-file",
        str(state),
        "--config-out",
        str(tmp_path / "c.json"),
        "--orgs",
        "2",
        "--page-size",
        "5",
    )
    processes.append(process)
    assert process.stdout is not None
    info = json.loads(process.stdout.readline())
    assert info["baseUrl"].endswith("/v1")
    jwks = requests.get(info["jwksUrl"], timeout=10).json()
    assert jwks["keys"][0]["kty"] == "RSA"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert out == "" and err == ""
    assert json.loads(state.read_text())["signingKeys"][-1]["kid"] == jwks["keys"][0]["kid"]
    assert info["jwksUrl"].endswith("/idb/oauth2/v2/keys/verificationjwk")
    assert len(info["adminToken"]) >= 20
    assert len(info["orgIds"]) == 2
    written = json.loads((tmp_path / "c.json").read_text())
    assert written["sandbox"]["adminToken"] == info["adminToken"]
    assert written["serviceApp"]["targetOrgId"] == info["orgIds"][0]


def test_bad_options_exit_2_without_starting(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["sandbox", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "loopback" in result.output
    result = runner.invoke(cli, ["sandbox", "--port", "70000"])
    assert result.exit_code == 2
    bad_state = tmp_path / "bad.json"
    bad_state.write_text("[]")
    result = runner.invoke(cli, ["sandbox", "--state-file", str(bad_state)])
    assert result.exit_code == 2
    assert "Error:" in result.output


def test_help_mentions_the_one_line_quick_start() -> None:
    result = CliRunner().invoke(cli, ["sandbox", "--help"])
    assert result.exit_code == 0
    assert "BYODS_CONFIG=PATH WEBEX_API_BASE_URL=URL byods list" in result.output
    assert "--state-file" in result.output
