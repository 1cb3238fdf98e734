"""The sandbox checks PKCE (S256): a code issued with a challenge needs its verifier."""

from __future__ import annotations

import urllib.parse

import pytest
import requests

from byods_manager.oauth.pkce import Pkce
from byods_manager.sandbox import Sandbox

REDIRECT = "http://127.0.0.1:1/callback"


def _code(sandbox: Sandbox, **extra: str) -> str:
    query = {
        "client_id": sandbox.state.identity.integration_client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "spark:applications_token",
        "state": "s",
        **extra,
    }
    answer = requests.get(
        f"{sandbox.base_url}/authorize", params=query, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    location = urllib.parse.urlsplit(answer.headers["Location"])
    return urllib.parse.parse_qs(location.query)["code"][0]


def _redeem(sandbox: Sandbox, code: str, **extra: str) -> requests.Response:
    ident = sandbox.state.identity
    form = {
        "grant_type": "authorization_code",
        "client_id": ident.integration_client_id,
        "client_secret": ident.integration_client_secret,
        "code": code,
        "redirect_uri": REDIRECT,
        **extra,
    }
    return requests.post(f"{sandbox.base_url}/access_token", data=form, timeout=10)


@pytest.mark.parametrize(
    ("verifier", "status"), [(None, 400), ("someone-elses-verifier-" + "x" * 30, 400), ("ok", 200)]
)
def test_code_with_a_challenge_needs_the_verifier(
    sandbox: Sandbox, verifier: str | None, status: int
) -> None:
    pkce = Pkce.new()
    code = _code(sandbox, code_challenge=pkce.challenge, code_challenge_method="S256")
    extra = (
        {}
        if verifier is None
        else {"code_verifier": pkce.verifier if verifier == "ok" else verifier}
    )
    answer = _redeem(sandbox, code, **extra)
    assert answer.status_code == status, answer.text


def test_plain_challenge_method_is_refused(sandbox: Sandbox) -> None:
    query = {
        "client_id": sandbox.state.identity.integration_client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "spark:applications_token",
        "code_challenge": "abc",
        "code_challenge_method": "plain",
    }
    answer = requests.get(
        f"{sandbox.base_url}/authorize", params=query, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 400


def test_pkce_challenge_matches_rfc7636_appendix_b() -> None:
    assert Pkce("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").challenge == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
