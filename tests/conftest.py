"""Shared test setup. Each area keeps its fixtures in its own tests/fixtures_*.py plugin."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures_core",
    "tests.fixtures_stores",
    "tests.fixtures_tokens",
    "tests.fixtures_oauth",
    "tests.fixtures_sandbox",
    "tests.fixtures_onboarding",
]

_ISOLATED_ENV = (
    "WEBEX_API_BASE_URL",
    "WEBEX_SERVICE_APP_ACCESS_TOKEN",
    "BYODS_CONFIG",
    "BYODS_AUDIT_LOG",
    "BYODS_TOKEN_STORE",
    "BYODS_STORE",
    "BYODS_OAUTH_CLIENT_SECRET",
    "BYODS_ASSUME_TTY",
    "BYODS_ENV",
    "BYODS_ORG",
    "BYODS_PROFILE",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every user directory at a temp dir and clear the tool's environment."""
    home = tmp_path / "home"
    for name, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_DATA_HOME", "data"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    for name in _ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return home
