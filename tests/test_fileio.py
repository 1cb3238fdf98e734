"""Atomic 0600 writes, the cross-process lock, and JSON reading errors."""

from __future__ import annotations

import json
import multiprocessing
import stat
from pathlib import Path

import pytest

from byods_manager.errors import ByodsError, ConfigError
from byods_manager.fileio import atomic_write_json, atomic_write_text, file_lock, read_json


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_creates_private_file_and_parents(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "dir" / "tokens.json"
    atomic_write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    assert _mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["tokens.json"]


def test_atomic_write_tightens_an_existing_loose_file(tmp_path: Path) -> None:
    target = tmp_path / "config.json"
    target.write_text("{}")
    target.chmod(0o644)
    atomic_write_text(target, "{}\n")
    assert _mode(target) == 0o600


def test_failed_write_leaves_old_content_and_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "store" / "store.json"
    atomic_write_json(target, {"old": True})
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "half written \ud800 never lands")
    assert json.loads(target.read_text()) == {"old": True}
    assert sorted(p.name for p in target.parent.iterdir()) == ["store.json"]


def test_read_json_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config not found"):
        read_json(tmp_path / "missing.json", what="config")
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": ')
    with pytest.raises(ConfigError, match=r"broken\.json is not valid JSON \(line 1"):
        read_json(broken, what="config")


def _hold_lock(path: str, ready: object, release: object) -> None:
    with file_lock(path):
        ready.set()  # type: ignore[attr-defined]
        release.wait(10)  # type: ignore[attr-defined]


def test_lock_excludes_other_processes(tmp_path: Path) -> None:
    target = tmp_path / "tokens.json"
    ready = multiprocessing.Event()
    release = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(target), ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        with (
            pytest.raises(ByodsError, match="waiting for the lock") as caught,
            file_lock(target, 0.2),
        ):
            pass
        assert caught.value.exit_code == 1
    finally:
        release.set()
        holder.join(10)
    with file_lock(target, 5):
        assert _mode(Path(str(target) + ".lock")) == 0o600
