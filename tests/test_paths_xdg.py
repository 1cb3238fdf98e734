"""On Linux the tool resolves its directories like platformdirs, without importing it."""

from __future__ import annotations

import sys

import platformdirs
import pytest

from byods_manager import paths

XDG = ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is for Linux")
@pytest.mark.parametrize(
    "values",
    [
        {},
        {"XDG_STATE_HOME": "/a/state", "XDG_CACHE_HOME": "/a/cache", "XDG_CONFIG_HOME": "/a/cfg"},
        {"XDG_STATE_HOME": "relative", "XDG_CACHE_HOME": "", "XDG_CONFIG_HOME": "  "},
    ],
)
def test_directories_match_platformdirs(
    values: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in XDG:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    assert str(paths.state_dir()) == platformdirs.user_state_dir(paths.APP_NAME)
    assert str(paths.cache_dir()) == platformdirs.user_cache_dir(paths.APP_NAME)
    assert str(paths.config_dir()) == platformdirs.user_config_dir(paths.APP_NAME)
