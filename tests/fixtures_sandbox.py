"""Fixtures for the sandbox and for anyone who wants a running Webex stand-in.

- ``sandbox``: a started :class:`~byods_manager.sandbox.Sandbox` on a free loopback port.
- ``sandbox_config``: path of a ready ``token-config.json`` (0600) the sandbox accepts.
- ``sandbox_env``: sets ``BYODS_CONFIG`` and ``WEBEX_API_BASE_URL`` for the test and
  returns them (also handy as ``env=`` for subprocesses).
- ``service_app_token``: a valid service-app access token, for raw API calls.
- ``admin_session(sandbox)``: a ``requests.Session`` that sends the admin token
  (``X-Sandbox-Token``) the ``/_sandbox/*`` controls need.
- ``registration(**changes)``: a valid ``POST /dataSources`` body with a fresh nonce;
  ``SandboxApi(sandbox, token)`` sends raw requests with one bearer token, and
  ``register(sandbox, token, **changes)`` registers one data source (asserting a 200).
- ``run_byods``: run ``python -m byods_manager ARGS`` in a subprocess with the test's
  environment (isolated home + sandbox variables when ``sandbox_env`` is used).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from byods_manager.sandbox import Sandbox
from byods_manager.sandbox.schemas import VOICE_VIRTUAL_AGENT_GRPC

if TYPE_CHECKING:
    from byods_manager.fleet.orgs import Fleet


def admin_session(sandbox: Sandbox) -> requests.Session:
    session = requests.Session()
    session.headers["X-Sandbox-Token"] = sandbox.admin_token
    return session


def registration(**changes: Any) -> dict[str, Any]:
    """A valid ``POST /dataSources`` body with a fresh nonce, then ``changes``."""
    body: dict[str, Any] = {
        "schemaId": VOICE_VIRTUAL_AGENT_GRPC,
        "url": "https://dap.example.com/byova",
        "audience": "MyDapApp",
        "subject": "callAudioData",
        "nonce": str(uuid.uuid4()),
        "tokenLifetimeMinutes": 60,
    }
    body.update(changes)
    return body


class SandboxApi:
    """Raw HTTP to the sandbox with one bearer token: no library code in between."""

    def __init__(self, sandbox: Sandbox, token: str) -> None:
        self.base = sandbox.base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=10, **kwargs)

    def register(self, **changes: Any) -> dict[str, Any]:
        response = self("POST", "/dataSources", json=registration(**changes))
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def register(sandbox: Sandbox, token: str, **changes: Any) -> dict[str, Any]:
    """Register one data source (see :func:`registration`) and return Webex's answer."""
    return SandboxApi(sandbox, token).register(**changes)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


@pytest.fixture
def sandbox_fleet(tmp_path: Path) -> Iterator[tuple[Sandbox, Fleet]]:
    """A sandbox and the library's Fleet over its config (file token store)."""
    from byods_manager.fleet.orgs import Fleet
    from byods_manager.tokens.config import load_config
    from byods_manager.tokens.store import TokenStore

    with Sandbox() as box:
        config = load_config(box.write_config(tmp_path / "token-config.json"))
        fleet = Fleet(config, base_url=box.base_url, store=TokenStore(tmp_path / "tokens.json"))
        try:
            yield box, fleet
        finally:
            fleet.close()


@pytest.fixture
def sandbox_config(sandbox: Sandbox, tmp_path: Path) -> Path:
    return sandbox.write_config(tmp_path / "sandbox" / "token-config.json")


@pytest.fixture
def sandbox_env(
    sandbox: Sandbox, sandbox_config: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    values = {"BYODS_CONFIG": str(sandbox_config), "WEBEX_API_BASE_URL": sandbox.base_url}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def service_app_token(sandbox: Sandbox) -> str:
    return sandbox.issue_access_token("service_app")


RunByods = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_byods() -> RunByods:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "byods_manager", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run
