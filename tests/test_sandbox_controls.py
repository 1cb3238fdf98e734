"""Locked-down controls (admin token, loopback Host), form bodies, JWKS path and key rotation."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from byods_manager.cli.main import cli
from byods_manager.sandbox import Sandbox
from byods_manager.sandbox.admin import CONTROLS
from tests.fixtures_sandbox import admin_session, register

README = Path(__file__).resolve().parent.parent / "README.md"
JWKS_PATH = "/idb/oauth2/v2/keys/verificationjwk"


def raw_request(sandbox: Sandbox, host: str, path: str = "/v1/dataSources/schemas") -> str:
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks).decode("latin-1")


@pytest.mark.parametrize("token", [None, "", "wrong"])
def test_controls_need_the_admin_token(sandbox: Sandbox, token: str | None) -> None:
    headers = {} if token is None else {"X-Sandbox-Token": token}
    for method, name in (("GET", "stats"), ("POST", "expire"), ("GET", "config")):
        response = requests.request(
            method, f"{sandbox.origin}/_sandbox/{name}", headers=headers, timeout=10
        )
        assert response.status_code == 401
        assert "X-Sandbox-Token" in response.json()["message"]
    assert sandbox.stats_snapshot()["tokens"]["personal"]["valid"] == 1  # nothing expired


def test_the_public_key_set_needs_no_token(sandbox: Sandbox) -> None:
    assert requests.get(sandbox.origin + "/_sandbox/jwks", timeout=10).status_code == 200
    assert requests.get(sandbox.origin + JWKS_PATH, timeout=10).json() == sandbox.jwks()


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:80", "10.0.0.1"])
def test_requests_addressed_to_other_hosts_are_refused(sandbox: Sandbox, host: str) -> None:
    answer = raw_request(sandbox, host)
    assert answer.startswith("HTTP/1.1 403")
    assert "loopback" in answer


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8080", "[::1]:9", "LOCALHOST"])
def test_loopback_host_names_are_served(sandbox: Sandbox, host: str) -> None:
    assert raw_request(sandbox, host).startswith("HTTP/1.1 401")  # reached the API


def test_form_encoded_control_bodies_work(sandbox: Sandbox) -> None:
    control = admin_session(sandbox)
    admin = sandbox.origin + "/_sandbox"
    sandbox.issue_access_token("service_app")
    assert control.post(admin + "/expire", data={"kind": "serviceApp"}, timeout=10).json() == {
        "expired": 1
    }
    fault = {"status": "503", "count": "2", "path": "/dataSources", "retryAfter": "1"}
    assert control.post(admin + "/faults", data=fault, timeout=10).json() == {"pending": 2}
    assert control.post(admin + "/latency", data={"ms": "0"}, timeout=10).status_code == 200
    lifetimes = control.post(admin + "/lifetimes", data={"serviceApp": "60"}, timeout=10).json()
    assert lifetimes["service_app"] == 60
    revoked = control.post(admin + "/revoke", data={"refresh": "true"}, timeout=10)
    assert revoked.status_code == 200
    assert control.post(admin + "/reset", data={"data": "true"}, timeout=10).status_code == 204
    assert control.post(admin + "/faults", data={"status": "x"}, timeout=10).status_code == 400


def decode(segment: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return result


def test_iss_points_at_the_sandbox_and_its_jwks_path_serves_the_key(
    sandbox: Sandbox, service_app_token: str
) -> None:
    token = register(sandbox, service_app_token)["jwsToken"]
    header, claims = decode(token.split(".")[0]), decode(token.split(".")[1])
    assert claims["iss"] == sandbox.origin + "/idb"
    jwks = requests.get(claims["iss"] + "/oauth2/v2/keys/verificationjwk", timeout=10).json()
    assert header["kid"] in [key["kid"] for key in jwks["keys"]]


@pytest.mark.parametrize("keep_old", [True, False])
def test_key_rotation(sandbox: Sandbox, service_app_token: str, keep_old: bool) -> None:
    old_kid = sandbox.jwks()["keys"][0]["kid"]
    control = admin_session(sandbox)
    answer = control.post(
        sandbox.origin + "/_sandbox/rotate-key", json={"keepOld": keep_old}, timeout=10
    ).json()
    new_kid = answer["kid"]
    assert new_kid != old_kid
    published = [
        key["kid"] for key in requests.get(sandbox.origin + JWKS_PATH, timeout=10).json()["keys"]
    ]
    assert published == ([new_kid, old_kid] if keep_old else [new_kid])
    token = register(sandbox, service_app_token)["jwsToken"]
    assert decode(token.split(".")[0])["kid"] == new_kid


def test_rotated_keys_survive_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with Sandbox(state_file=state_file) as first:
        old = first.jwks()["keys"][0]["kid"]
        new = first.rotate_signing_key(keep_old=True)
    with Sandbox(state_file=state_file) as second:
        assert [key["kid"] for key in second.jwks()["keys"]] == [new, old]


def test_every_control_is_documented_in_help_and_readme() -> None:
    help_text = CliRunner().invoke(cli, ["sandbox", "--help"]).output
    readme = README.read_text()
    for method, name, body, _ in CONTROLS:
        for text in (help_text, readme):
            assert f"{method} /_sandbox/{name}" in text, name
            curl = f'curl -X {method} -H "X-Sandbox-Token: $TOKEN"'
            if body:
                curl += f" -H 'Content-Type: application/json' -d '{body}'"
            assert curl in text, name
    assert "--orgs" in help_text and "--page-size" in help_text
