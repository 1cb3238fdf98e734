"""Issued ``jwsToken`` values are real RS256 JWS that the published JWKS verifies."""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from byods_manager.errors import ConfigError
from byods_manager.sandbox import Sandbox
from byods_manager.sandbox.schemas import VOICE_VIRTUAL_AGENT_WEBSOCKET
from tests.fixtures_sandbox import register as register_one


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key(jwk: dict[str, str]) -> rsa.RSAPublicKey:
    n = int.from_bytes(b64url_decode(jwk["n"]), "big")
    e = int.from_bytes(b64url_decode(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


def verify(token: str, jwks: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check the signature with the key named by ``kid``; return header and claims."""
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(b64url_decode(header_b64))
    keys = {key["kid"]: key for key in jwks["keys"]}
    key = public_key(keys[header["kid"]])
    key.verify(
        b64url_decode(signature_b64),
        f"{header_b64}.{claims_b64}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    return header, json.loads(b64url_decode(claims_b64))


def fetch_jwks(sandbox: Sandbox) -> dict[str, Any]:
    response = requests.get(sandbox.origin + "/_sandbox/jwks", timeout=10)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def register(sandbox: Sandbox, token: str, **changes: Any) -> dict[str, Any]:
    """A websocket data source, so the claims differ from every default."""
    return register_one(
        sandbox,
        token,
        **{
            "schemaId": VOICE_VIRTUAL_AGENT_WEBSOCKET,
            "url": "wss://dap.example.com/va",
            "audience": "MyDap",
            "subject": "voiceVirtualAgent",
            "tokenLifetimeMinutes": 90,
            **changes,
        },
    )


def test_registered_jws_verifies_and_carries_the_webex_claims(
    sandbox: Sandbox, service_app_token: str
) -> None:
    created = register(sandbox, service_app_token, nonce="nonce-abc")
    jwks = fetch_jwks(sandbox)
    assert jwks["keys"][0]["kty"] == "RSA"
    assert jwks["keys"][0]["alg"] == "RS256"
    header, claims = verify(created["jwsToken"], jwks)
    assert header == {"kid": jwks["keys"][0]["kid"], "typ": "JWT", "alg": "RS256"}
    assert claims["aud"] == "MyDap"
    assert claims["sub"] == "voiceVirtualAgent"
    assert claims["jti"] == "nonce-abc"
    assert claims["iss"] == sandbox.origin + "/idb"
    assert claims["exp"] - claims["iat"] == 90 * 60
    assert claims["com.cisco.datasource.url"] == "wss://dap.example.com/va"
    assert claims["com.cisco.datasource.schema.uuid"] == VOICE_VIRTUAL_AGENT_WEBSOCKET
    assert claims["com.cisco.org.uuid"] == sandbox.state.identity.org_uuid


def test_a_tampered_jws_does_not_verify(sandbox: Sandbox, service_app_token: str) -> None:
    token = register(sandbox, service_app_token)["jwsToken"]
    header, claims, signature = token.split(".")
    forged_claims = json.loads(b64url_decode(claims))
    forged_claims["aud"] = "SomeoneElse"
    forged = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidSignature):
        verify(f"{header}.{forged}.{signature}", fetch_jwks(sandbox))


def test_extending_reissues_a_jws_with_the_new_nonce_and_lifetime(
    sandbox: Sandbox, service_app_token: str
) -> None:
    created = register(sandbox, service_app_token)
    response = requests.put(
        f"{sandbox.base_url}/dataSources/{created['id']}",
        json={
            **{k: created[k] for k in ("schemaId", "url", "audience", "subject")},
            "nonce": "fresh-nonce",
            "tokenLifetimeMinutes": 1440,
        },
        headers={"Authorization": f"Bearer {service_app_token}"},
        timeout=10,
    )
    assert response.status_code == 200
    _, claims = verify(response.json()["jwsToken"], fetch_jwks(sandbox))
    assert claims["jti"] == "fresh-nonce"
    assert claims["exp"] - claims["iat"] == 1440 * 60


def test_different_sandboxes_sign_with_different_keys() -> None:
    with Sandbox() as first, Sandbox() as second:
        token = register(first, first.issue_access_token("service_app"))["jwsToken"]
        other_jwks = fetch_jwks(second)
        other_jwks["keys"][0]["kid"] = first.jwks()["keys"][0]["kid"]
        with pytest.raises(InvalidSignature):
            verify(token, other_jwks)


def test_without_the_sandbox_extra_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(sys.modules):
        if name == "cryptography" or name.startswith("cryptography."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(ConfigError, match=r"pip install 'byods-manager\[sandbox\]'"):
        Sandbox()
