"""JwsVerifier and `byods jws verify` against the sandbox's real RS256 data-source tokens."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from click.testing import Result

from byods_manager.jws import b64url_encode
from byods_manager.sandbox import Sandbox
from byods_manager.sandbox.schemas import VOICE_VIRTUAL_AGENT_WEBSOCKET
from byods_manager.verify import InvalidJws, JwsVerifier

URL = "wss://dap.example.com/va"


def register(sandbox: Sandbox, token: str, **changes: Any) -> dict[str, Any]:
    body = {
        "schemaId": VOICE_VIRTUAL_AGENT_WEBSOCKET,
        "url": URL,
        "audience": "MyDap",
        "subject": "voiceVirtualAgent",
        "nonce": str(uuid.uuid4()),
        "tokenLifetimeMinutes": 60,
    }
    body.update(changes)
    response = requests.post(
        sandbox.base_url + "/dataSources",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def jwks_url(sandbox: Sandbox) -> str:
    return sandbox.origin + "/_sandbox/jwks"


def expectations(created: dict[str, Any], sandbox: Sandbox) -> dict[str, str]:
    return {
        "url": created["url"],
        "audience": created["audience"],
        "subject": created["subject"],
        "schema_id": created["schemaId"],
        "org_id": sandbox.state.identity.org_uuid,
        "nonce": created["nonce"],
    }


@pytest.fixture
def created(sandbox: Sandbox, service_app_token: str) -> dict[str, Any]:
    return register(sandbox, service_app_token)


def test_a_sandbox_token_verifies_with_every_expectation(
    sandbox: Sandbox, created: dict[str, Any]
) -> None:
    verifier = JwsVerifier(jwks_url=jwks_url(sandbox))
    claims = verifier.verify(created["jwsToken"], **expectations(created, sandbox))
    assert claims["jti"] == created["nonce"]
    assert claims["iss"] == sandbox.issuer()


def test_the_base64_org_id_from_the_config_matches_the_token(
    sandbox: Sandbox, created: dict[str, Any]
) -> None:
    verifier = JwsVerifier(jwks_url=jwks_url(sandbox))
    assert verifier.verify(created["jwsToken"], org_id=sandbox.state.identity.org_id)


@pytest.mark.parametrize("name", ["url", "audience", "subject", "schema_id", "org_id", "nonce"])
def test_a_sandbox_token_for_another_data_source_fails_each_expectation(
    sandbox: Sandbox, created: dict[str, Any], name: str
) -> None:
    wrong = dict(expectations(created, sandbox), **{name: str(uuid.uuid4())})
    with pytest.raises(InvalidJws) as caught:
        JwsVerifier(jwks_url=jwks_url(sandbox)).verify(created["jwsToken"], **wrong)
    assert caught.value.check == name.replace("_", "-")


def test_tampering_with_a_sandbox_token_breaks_its_signature(
    sandbox: Sandbox, created: dict[str, Any]
) -> None:
    header, payload, signature = created["jwsToken"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["com.cisco.datasource.url"] = "wss://attacker.example.com"
    forged = f"{header}.{b64url_encode(json.dumps(claims).encode())}.{signature}"
    verifier = JwsVerifier(jwks_url=jwks_url(sandbox))
    for token in (forged, f"{header}.{payload}.{signature[::-1]}"):
        with pytest.raises(InvalidJws) as caught:
            verifier.verify(token)
        assert caught.value.check == "signature"


def test_the_sandbox_issuer_is_not_a_webex_broker_and_nothing_is_fetched(
    sandbox: Sandbox, created: dict[str, Any]
) -> None:
    before = sandbox.stats_snapshot()["requests"]
    with pytest.raises(InvalidJws) as caught:
        JwsVerifier().verify(created["jwsToken"])
    assert caught.value.check == "issuer"
    assert sandbox.stats_snapshot()["requests"] == before


def test_an_extended_data_source_gets_a_token_with_the_new_nonce(
    sandbox: Sandbox, created: dict[str, Any], service_app_token: str
) -> None:
    response = requests.put(
        f"{sandbox.base_url}/dataSources/{created['id']}",
        json={
            **{name: created[name] for name in ("schemaId", "url", "audience", "subject")},
            "nonce": "fresh-nonce",
            "tokenLifetimeMinutes": 120,
        },
        headers={"Authorization": f"Bearer {service_app_token}"},
        timeout=10,
    )
    assert response.status_code == 200
    verifier = JwsVerifier(jwks_url=jwks_url(sandbox))
    assert verifier.verify(response.json()["jwsToken"], nonce="fresh-nonce")
    with pytest.raises(InvalidJws, match=r"^nonce:"):
        verifier.verify(created["jwsToken"], nonce="fresh-nonce")


class Timer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_sandbox_issuer_when_trusted_serves_keys_at_the_webex_path_and_rotates(
    sandbox: Sandbox, service_app_token: str
) -> None:
    timer = Timer()
    verifier = JwsVerifier(trusted_issuers=[sandbox.issuer()], timer=timer)
    first = register(sandbox, service_app_token)["jwsToken"]
    assert verifier.verify(first)["iss"] == sandbox.issuer()

    sandbox.rotate_signing_key(keep_old=True)
    rotated = register(sandbox, service_app_token)["jwsToken"]
    with pytest.raises(InvalidJws, match=r"^kid:"):
        verifier.verify(rotated)  # within the cooldown of the first fetch
    timer.now += 31
    assert verifier.verify(rotated) and verifier.verify(first)
    assert verifier.keys.fetch_count == 2

    sandbox.rotate_signing_key(keep_old=False)
    timer.now += 3601  # past the TTL: the withdrawn keys are dropped on the next fetch
    with pytest.raises(InvalidJws, match=r"^kid:"):
        verifier.verify(first)
    assert verifier.keys.fetch_count == 3


# -- `byods jws verify` -------------------------------------------------------------------------


def no_secret(result: Result, token: str) -> None:
    for part in token.split("."):
        assert part not in result.stdout
        assert part not in result.stderr


def test_cli_a_valid_token_exits_0_and_prints_the_claims(
    run_cli: Callable[..., Result], sandbox: Sandbox, created: dict[str, Any]
) -> None:
    token = created["jwsToken"]
    result = run_cli(
        ["jws", "verify", token, "--jwks-url", jwks_url(sandbox), "--audience", "MyDap"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Valid JWS: RS256 signature by key")
    assert "Checked: signature, exp, iat, audience." in result.stdout
    assert created["nonce"] in result.stdout  # the jti claim is shown
    no_secret(result, token)


def test_cli_reads_the_token_from_stdin_with_a_bearer_prefix_and_prints_json(
    run_cli: Callable[..., Result], sandbox: Sandbox, created: dict[str, Any]
) -> None:
    result = run_cli(
        ["jws", "verify", "-", "--jwks-url", jwks_url(sandbox), "--json", "--url", URL],
        input=f"Bearer {created['jwsToken']}\n",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["valid"] is True
    assert payload["checked"] == ["url"]
    assert payload["claims"]["com.cisco.datasource.url"] == URL
    assert payload["header"]["alg"] == "RS256"


def test_cli_an_invalid_token_exits_1_with_one_line_naming_the_check(
    run_cli: Callable[..., Result], sandbox: Sandbox, created: dict[str, Any]
) -> None:
    token = created["jwsToken"]
    result = run_cli(["jws", "verify", token, "--jwks-url", jwks_url(sandbox), "--subject", "x"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Invalid JWS: subject: the token is for subject 'voiceVirtualAgent', expected 'x'"
    ]
    no_secret(result, token)
    as_json = run_cli(
        ["jws", "verify", token, "--jwks-url", jwks_url(sandbox), "--nonce", "x", "--json"]
    )
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["check"] == "nonce"


def test_cli_the_default_environment_refuses_the_sandbox_issuer(
    run_cli: Callable[..., Result], created: dict[str, Any]
) -> None:
    result = run_cli(["jws", "verify", created["jwsToken"]])
    assert result.exit_code == 1
    assert "issuer:" in result.stderr and "production identity broker" in result.stderr


def test_cli_leeway_zero_and_a_short_leeway_are_accepted(
    run_cli: Callable[..., Result], sandbox: Sandbox, created: dict[str, Any]
) -> None:
    for leeway in ("0", "30s", "2m"):
        args = ["jws", "verify", created["jwsToken"], "--jwks-url", jwks_url(sandbox)]
        result = run_cli([*args, "--leeway", leeway])
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["not-a-jws"], None, "not a JWS"),
        (["-"], "", "not a JWS: the token is empty"),
        (["a.b.c", "--leeway", "soon"], None, "invalid duration"),
        (["a.b.c", "--jwks-url", "http://keys.example.com/jwks"], None, "plain http://"),
    ],
)
def test_cli_bad_input_exits_2(
    run_cli: Callable[..., Result], args: list[str], stdin: str | None, message: str
) -> None:
    result = run_cli(["jws", "verify", *args], input=stdin)
    assert result.exit_code == 2
    assert message in result.stderr


def test_cli_without_a_token_on_a_terminal_asks_for_one(
    run_cli: Callable[..., Result], assume_tty: None
) -> None:
    result = run_cli(["jws", "verify"])
    assert result.exit_code == 2
    assert "give the JWS as an argument" in result.stderr


def test_cli_data_source_supplies_the_expectations_and_the_token(
    run_cli: Callable[..., Result],
    sandbox: Sandbox,
    sandbox_env: dict[str, str],
    service_app_token: str,
) -> None:
    created = register(sandbox, service_app_token)
    other = register(sandbox, service_app_token, audience="SomeoneElse")
    base = ["jws", "verify", "--jwks-url", jwks_url(sandbox), "--data-source", created["id"]]
    own = run_cli([*base, "--json"])
    assert own.exit_code == 0, own.output
    assert json.loads(own.stdout)["checked"] == [
        "url",
        "audience",
        "subject",
        "schema-id",
        "org-id",
    ]
    mismatch = run_cli([*base, other["jwsToken"]])
    assert mismatch.exit_code == 1
    assert "Invalid JWS: audience:" in mismatch.stderr
    overridden = run_cli([*base, other["jwsToken"], "--audience", "SomeoneElse"])
    assert overridden.exit_code == 0, overridden.output
