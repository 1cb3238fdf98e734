"""Fixtures for the sandbox and for anyone who wants a running Webex stand-in.

- ``sandbox``: a started :class:`~byods_manager.sandbox.Sandbox` on a free loopback port.
- ``sandbox_config``: path of a ready ``token-config.json`` (0600) the sandbox accepts.
- ``sandbox_env``: sets ``BYODS_CONFIG`` and ``WEBEX_API_BASE_URL`` for the test and
  returns them (also handy as ``env=`` for subprocesses).
- ``service_app_token``: a valid service-app access token, for raw API calls.
- ``admin_session(sandbox)``: a ``requests.Session`` that sends the admin token
  (``X-Sandbox-Token``) the ``/_sandbox/*`` controls need.
- ``run_byods``: run ``python -m byods_manager ARGS`` in a subprocess with the test's
  environment (isolated home + sandbox variables when ``sandbox_env`` is used).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from byods_manager.sandbox import Sandbox


def admin_session(sandbox: Sandbox) -> requests.Session:
    session = requests.Session()
    session.headers["X-Sandbox-Token"] = sandbox.admin_token
    return session


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


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
