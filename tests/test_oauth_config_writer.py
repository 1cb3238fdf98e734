"""Updating token-config.json in place: unrelated keys, the user's spelling, 0600, the lock."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from byods_manager.errors import ConfigError
from byods_manager.fileio import file_lock
from byods_manager.oauth.config_writer import update_token_config

NEW = {
    "oauthClientId": "C-new-id",
    "oauthClientSecret": "new-secret",
    "oauthRefreshToken": "new-refresh",
}


def write(path: Path, document: dict[str, Any], mode: int = 0o644) -> Path:
    path.write_text(json.dumps(document))
    path.chmod(mode)
    return path


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def test_keeps_unrelated_keys_and_order_and_makes_the_file_private(tmp_path: Path) -> None:
    original = {
        "_comment": "mine",
        "serviceApp": {"appId": "a", "clientId": "b", "clientSecret": "c", "targetOrgId": "d"},
        "tokenManager": {"personalAccessToken": "old-pat", "note": "keep me"},
        "refreshThresholdMinutes": 7,
    }
    path = write(tmp_path / "token-config.json", original)
    update_token_config(path, token_manager=NEW)
    saved = read(path)
    assert list(saved) == list(original)
    assert saved["serviceApp"] == original["serviceApp"]
    assert saved["tokenManager"] == {"personalAccessToken": "old-pat", "note": "keep me", **NEW}
    assert saved["refreshThresholdMinutes"] == 7
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_legacy_flat_spelling_is_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.json",
        {"serviceApp": {}, "tokenManager": {"clientId": "old-id", "clientSecret": "old"}},
    )
    update_token_config(path, token_manager=NEW)
    assert read(path)["tokenManager"] == {
        "clientId": "C-new-id",
        "clientSecret": "new-secret",
        "refreshToken": "new-refresh",
    }


def test_nested_integration_spelling_is_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.json",
        {"tokenManager": {"integration": {"clientId": "old-id", "redirectUri": "x"}}},
    )
    update_token_config(path, token_manager=NEW)
    assert read(path)["tokenManager"] == {
        "integration": {
            "clientId": "C-new-id",
            "redirectUri": "x",
            "clientSecret": "new-secret",
            "refreshToken": "new-refresh",
        }
    }


def test_a_named_profile_in_a_multi_profile_file_is_the_only_one_touched(tmp_path: Path) -> None:
    other = {"serviceApp": {"appId": "other"}, "tokenManager": {"oauthClientId": "keep"}}
    path = write(
        tmp_path / "c.json",
        {"defaultProfile": "prod", "profiles": {"prod": {"serviceApp": {}}, "lab": other}},
    )
    update_token_config(path, profile="lab", token_manager={"oauthRefreshToken": "r"})
    saved = read(path)
    assert saved["profiles"]["prod"] == {"serviceApp": {}}
    assert saved["profiles"]["lab"]["tokenManager"] == {
        "oauthClientId": "keep",
        "oauthRefreshToken": "r",
    }


def test_a_missing_file_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "token-config.json"
    update_token_config(
        path, service_app={"appId": "a"}, token_manager={"personalAccessToken": "p"}
    )
    assert read(path) == {
        "serviceApp": {"appId": "a"},
        "tokenManager": {"personalAccessToken": "p"},
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_missing_file_with_a_profile_becomes_multi_profile(tmp_path: Path) -> None:
    path = tmp_path / "token-config.json"
    update_token_config(path, profile="lab", service_app={"appId": "a"})
    assert read(path) == {
        "defaultProfile": "lab",
        "profiles": {"lab": {"serviceApp": {"appId": "a"}}},
    }


def test_a_non_object_in_the_way_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", {"tokenManager": "oops"})
    with pytest.raises(ConfigError, match="not an object"):
        update_token_config(path, token_manager={"personalAccessToken": "p"})
    assert read(path) == {"tokenManager": "oops"}


def test_waits_for_the_config_lock_and_rereads_after_it(tmp_path: Path) -> None:
    """A concurrent writer that holds the lock wins its change; ours is applied on top."""
    path = write(tmp_path / "c.json", {"tokenManager": {}})
    locked = threading.Event()
    release = threading.Event()

    def other_process() -> None:
        with file_lock(path):
            locked.set()
            release.wait(5)
            write(path, {"tokenManager": {}, "addedMeanwhile": True}, mode=0o600)

    holder = threading.Thread(target=other_process)
    holder.start()
    locked.wait(5)
    writer = threading.Thread(
        target=update_token_config,
        args=(path,),
        kwargs={"token_manager": {"oauthRefreshToken": "r"}},
    )
    writer.start()
    writer.join(0.2)
    assert writer.is_alive()  # blocked on the lock
    release.set()
    holder.join()
    writer.join(5)
    assert read(path) == {"tokenManager": {"oauthRefreshToken": "r"}, "addedMeanwhile": True}
