"""Fixtures for the OAuth setup wizard tests.

- ``free_port()`` / ``free_port`` fixture: a loopback port nobody listens on right now.
- ``fake_webex``: a :class:`FakeWebex` authorization server + Applications API on
  pytest-httpserver: ``/authorize`` redirects to the redirect URI (approve, deny, or a
  foreign ``state``), ``/access_token`` redeems codes and refresh tokens, and
  ``/applications/{appId}/token`` mints service-app tokens for accepted bearers.
- ``Browser``: a person's browser over real HTTP: GET the authorize URL, follow the 302
  to the wizard's callback, remember every page it saw.
- ``ScriptedPrompter``: answers the wizard's questions from a list and records messages.
- ``write_config``: writes a ``token-config.json`` with the fake server's service app.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import socket
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from byods_manager.errors import InputError

APP_ID = "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL3NlcnZpY2UtYXBw"
APP_CLIENT_ID = "C-service-app-client-id"
APP_CLIENT_SECRET = "service-app-client-secret-VERYSECRET-0001"
ORG_ID = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9vcmc"
INTEGRATION_CLIENT_ID = "C-integration-client-id"
INTEGRATION_CLIENT_SECRET = "integration-client-secret-VERYSECRET-0002"
API_PREFIX = "/v1"
URL_PATTERN = re.compile(r"https?://\S+")


def free_port() -> int:
    """A loopback port that is free right now (bind port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    return free_port()


def _token(kind: str) -> str:
    return f"{kind}-{secrets.token_urlsafe(24)}"


@dataclass
class FakeWebex:
    """Webex's token side, with every credential it accepts kept in plain sets."""

    server: HTTPServer
    # "approve", "deny", or "foreign-state" (redirect with a state the wizard never made).
    authorize_mode: str = "approve"
    personal_tokens: set[str] = field(default_factory=set)
    integration_access: set[str] = field(default_factory=set)
    integration_refresh: set[str] = field(default_factory=set)
    codes: dict[str, str] = field(default_factory=dict)  # code -> redirect_uri
    challenges: dict[str, str] = field(default_factory=dict)  # code -> PKCE S256 challenge
    minted: list[dict[str, Any]] = field(default_factory=list)
    issue_refresh_token: bool = True
    mint_status: int | None = None  # when set, the Applications API answers only this

    @property
    def base_url(self) -> str:
        return self.server.url_for(API_PREFIX)

    def calls(self) -> list[str]:
        """Every request the server saw, as "METHOD /path" (query left out)."""
        return [f"{request.method} {request.path}" for request, _ in self.server.log]

    def all_tokens(self) -> set[str]:
        tokens = self.personal_tokens | self.integration_access | self.integration_refresh
        for pair in self.minted:
            tokens |= {pair["access_token"], pair["refresh_token"]}
        return tokens

    def new_personal_token(self) -> str:
        token = _token("personal")
        self.personal_tokens.add(token)
        return token

    def new_integration_refresh(self) -> str:
        token = _token("intg-refresh")
        self.integration_refresh.add(token)
        return token

    def install(self) -> FakeWebex:
        self.server.expect_request(f"{API_PREFIX}/authorize", method="GET").respond_with_handler(
            self._authorize
        )
        self.server.expect_request(
            f"{API_PREFIX}/access_token", method="POST"
        ).respond_with_handler(self._access_token)
        self.server.expect_request(
            re.compile(rf"^{API_PREFIX}/applications/[^/]+/token$"), method="POST"
        ).respond_with_handler(self._mint)
        return self

    def _authorize(self, request: Request) -> Response:
        query = request.args
        if query.get("client_id") != INTEGRATION_CLIENT_ID:
            return _error(400, "Invalid client_id")
        if "spark:applications_token" not in (query.get("scope") or "").split():
            return _error(400, "Invalid scope")
        if query.get("response_type") != "code":
            return _error(400, "response_type must be code")
        redirect_uri = query.get("redirect_uri") or ""
        state = query.get("state") or ""
        if self.authorize_mode == "deny":
            params = {"error": "access_denied", "state": state}
        elif self.authorize_mode == "foreign-state":
            params = {"code": "code-for-someone-else", "state": "not-" + state}
        else:
            code = _token("code")
            self.codes[code] = redirect_uri
            if query.get("code_challenge_method") == "S256":
                self.challenges[code] = query.get("code_challenge") or ""
            params = {"code": code, "state": state}
        location = redirect_uri + "?" + urllib.parse.urlencode(params)
        return Response(status=302, headers={"Location": location})

    def _access_token(self, request: Request) -> Response:
        form = request.form
        if (form.get("client_id"), form.get("client_secret")) != (
            INTEGRATION_CLIENT_ID,
            INTEGRATION_CLIENT_SECRET,
        ):
            return _error(401, "invalid_client")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = form.get("code") or ""
            if self.codes.get(code) != form.get("redirect_uri"):
                return _error(400, "invalid_grant: bad code or redirect_uri")
            verifier = (form.get("code_verifier") or "").encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest())
            if code in self.challenges and digest.decode().rstrip("=") != self.challenges[code]:
                return _error(400, "invalid_grant: PKCE code_verifier does not match")
            del self.codes[code]
        elif grant == "refresh_token":
            refresh = form.get("refresh_token") or ""
            if refresh not in self.integration_refresh:
                return _error(400, "invalid_grant: the refresh token is invalid")
            self.integration_refresh.discard(refresh)
        else:
            return _error(400, "unsupported_grant_type")
        access = _token("intg-access")
        self.integration_access.add(access)
        payload: dict[str, Any] = {
            "access_token": access,
            "expires_in": 1209600,
            "token_type": "Bearer",
        }
        if self.issue_refresh_token:
            refresh_token = self.new_integration_refresh()
            payload |= {"refresh_token": refresh_token, "refresh_token_expires_in": 7776000}
        return _json(200, payload)

    def _mint(self, request: Request) -> Response:
        bearer = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        if self.mint_status is not None:
            return _error(self.mint_status, "forced failure")
        if bearer not in self.personal_tokens | self.integration_access:
            return _error(401, "The request requires a valid access token.")
        body = request.get_json(silent=True) or {}
        if request.path != f"{API_PREFIX}/applications/{APP_ID}/token":
            return _error(404, "Service App not found.")
        if (body.get("clientId"), body.get("clientSecret"), body.get("targetOrgId")) != (
            APP_CLIENT_ID,
            APP_CLIENT_SECRET,
            ORG_ID,
        ):
            return _error(400, "Invalid client credentials")
        pair = {
            "access_token": _token("sa-access"),
            "expires_in": 1209600,
            "refresh_token": _token("sa-refresh"),
            "refresh_token_expires_in": 7776000,
            "token_type": "Bearer",
        }
        self.minted.append(pair)
        return _json(200, pair)


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json(status, {"message": message, "trackingId": "ROUTER_test"})


@pytest.fixture
def fake_webex(httpserver: HTTPServer) -> FakeWebex:
    return FakeWebex(httpserver).install()


def service_app_section() -> dict[str, str]:
    return {
        "appId": APP_ID,
        "clientId": APP_CLIENT_ID,
        "clientSecret": APP_CLIENT_SECRET,
        "targetOrgId": ORG_ID,
    }


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write ``token-config.json`` (serviceApp filled in) plus any extra keys; 0600."""

    def write(token_manager: dict[str, Any] | None = None, **extra: Any) -> Path:
        path = tmp_path / "token-config.json"
        document: dict[str, Any] = {"serviceApp": service_app_section(), **extra}
        if token_manager is not None:
            document["tokenManager"] = token_manager
        path.write_text(json.dumps(document, indent=2))
        path.chmod(0o600)
        return path

    return write


@dataclass
class Page:
    url: str
    status: int
    text: str


class Browser:
    """A person's browser: opens the authorize URL and follows the redirect once."""

    def __init__(self, before_callback: Callable[[str], None] | None = None) -> None:
        self.pages: list[Page] = []
        self.before_callback = before_callback
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def visit(self, url: str) -> Page:
        response = requests.get(url, timeout=10, allow_redirects=False)
        page = Page(url, response.status_code, response.text)
        self.pages.append(page)
        return page

    def redirect_for(self, authorize_url: str) -> str:
        """GET the authorize URL; return where it sends the browser (the callback URL)."""
        response = requests.get(authorize_url, timeout=10, allow_redirects=False)
        self.pages.append(Page(authorize_url, response.status_code, response.text))
        assert response.status_code == 302, response.text
        return str(response.headers["Location"])

    def sign_in(self, authorize_url: str) -> None:
        """Authorize, then (after ``before_callback``) land on the callback."""
        location = self.redirect_for(authorize_url)
        if self.before_callback is not None:
            self.before_callback(location)
        self.visit(location)

    def open_in_background(self, authorize_url: str) -> bool:
        """What ``webbrowser.open`` does: return at once, the person acts meanwhile."""
        thread = threading.Thread(target=self._run, args=(authorize_url,), daemon=True)
        thread.start()
        self._threads.append(thread)
        return True

    def _run(self, authorize_url: str) -> None:
        try:
            self.sign_in(authorize_url)
        except BaseException as exc:  # reported by join()
            self.errors.append(exc)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=10)
        if self.errors:
            raise self.errors[0]


class ScriptedPrompter:
    """Answers questions in order; records everything said. ``on_url`` sees printed URLs."""

    def __init__(
        self,
        answers: Sequence[str | Callable[[], str]] = (),
        *,
        interactive: bool = True,
        confirm_answers: Sequence[bool] = (),
        on_url: Callable[[str], None] | None = None,
    ) -> None:
        self._interactive = interactive
        self.answers = list(answers)
        self.confirm_answers = list(confirm_answers)
        self.on_url = on_url
        self.messages: list[str] = []
        self.questions: list[str] = []

    @property
    def interactive(self) -> bool:
        return self._interactive

    def say(self, message: str) -> None:
        self.messages.append(message)
        if self.on_url is not None:
            for url in URL_PATTERN.findall(message):
                if "/authorize?" in url:
                    self.on_url(url)

    def warn(self, message: str) -> None:
        self.messages.append("Warning: " + message)

    def _next(self, question: str) -> str:
        self.questions.append(question)
        if not self._interactive:
            raise InputError(f"no terminal to ask: {question}")
        assert self.answers, f"unexpected question: {question}"
        answer = self.answers.pop(0)
        return answer() if callable(answer) else answer

    def ask(self, question: str, *, secret: bool = False, hint: str = "") -> str:
        return self._next(question)

    def confirm(self, question: str, *, default: bool = True) -> bool:
        self.questions.append(question)
        assert self.confirm_answers, f"unexpected confirmation: {question}"
        return self.confirm_answers.pop(0)

    def choose(self, question: str, options: Sequence[tuple[str, str]], *, default: str) -> str:
        return self._next(question)
