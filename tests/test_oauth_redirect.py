"""The redirect rules shared by the loopback callback and the paste path."""

from __future__ import annotations

import urllib.parse

import pytest

from byods_manager.errors import InputError
from byods_manager.oauth.redirect import (
    AuthorizationDenied,
    MalformedRedirect,
    RedirectTarget,
    StateMismatch,
    code_from_pasted,
    code_from_query,
)

STATE = "s3cr3t-state-value"


def query(**params: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlencode(params))


def test_matching_state_yields_the_code() -> None:
    assert code_from_query(query(code="abc", state=STATE), STATE) == "abc"


@pytest.mark.parametrize("state", [None, "", "other", STATE + "x", STATE[:-1]])
def test_missing_or_foreign_state_is_rejected(state: str | None) -> None:
    params = query(code="abc") if state is None else query(code="abc", state=state)
    with pytest.raises(StateMismatch):
        code_from_query(params, STATE)


def test_error_with_foreign_state_cannot_end_the_flow() -> None:
    with pytest.raises(StateMismatch):
        code_from_query(query(error="access_denied", state="forged"), STATE)


def test_access_denied_is_explained() -> None:
    with pytest.raises(AuthorizationDenied) as caught:
        code_from_query(
            query(error="access_denied", error_description="User denied", state=STATE), STATE
        )
    assert caught.value.error == "access_denied"
    assert "User denied" in str(caught.value)
    assert "Accept" in str(caught.value)
    assert caught.value.exit_code == 1


def test_matching_state_without_code_or_error_is_malformed() -> None:
    with pytest.raises(MalformedRedirect):
        code_from_query(query(state=STATE), STATE)


@pytest.mark.parametrize(
    "pasted",
    [
        f"http://localhost:3000/callback?code=abc&state={STATE}",
        f"  'http://localhost:3000/callback?state={STATE}&code=abc'  ",
        f"code=abc&state={STATE}",
        "abc",
        "  abc\n",
    ],
)
def test_pasted_url_query_or_bare_code(pasted: str) -> None:
    assert code_from_pasted(pasted, STATE) == "abc"


@pytest.mark.parametrize(
    ("pasted", "error"),
    [
        ("http://localhost:3000/callback?code=abc&state=wrong", StateMismatch),
        ("http://localhost:3000/callback?code=abc", StateMismatch),
        ("code=abc", StateMismatch),
        ("", MalformedRedirect),
        ("two words", MalformedRedirect),
        ("http://localhost:3000/callback", MalformedRedirect),
    ],
)
def test_bad_pastes_are_rejected(pasted: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        code_from_pasted(pasted, STATE)


def test_pasted_denial_is_a_denial() -> None:
    with pytest.raises(AuthorizationDenied):
        code_from_pasted(f"http://localhost:3000/callback?error=access_denied&state={STATE}", STATE)


@pytest.mark.parametrize(
    ("uri", "host", "port", "path", "listenable"),
    [
        ("http://localhost:3000/callback", "localhost", 3000, "/callback", True),
        ("http://127.0.0.1:8080", "127.0.0.1", 8080, "/", True),
        ("http://[::1]:9000/cb", "::1", 9000, "/cb", True),
        ("http://LOCALHOST/cb", "localhost", 80, "/cb", True),
        ("https://localhost:3000/callback", "localhost", 3000, "/callback", False),
        ("http://example.com:3000/callback", "example.com", 3000, "/callback", False),
        ("http://0.0.0.0:3000/callback", "0.0.0.0", 3000, "/callback", False),
    ],
)
def test_redirect_targets(uri: str, host: str, port: int, path: str, listenable: bool) -> None:
    target = RedirectTarget.parse(uri)
    assert (target.host, target.port, target.path, target.listenable) == (
        host,
        port,
        path,
        listenable,
    )


@pytest.mark.parametrize("uri", ["localhost:3000/callback", "ftp://localhost/x", "http://:80/"])
def test_invalid_redirect_uri_is_an_input_error(uri: str) -> None:
    with pytest.raises(InputError):
        RedirectTarget.parse(uri)
