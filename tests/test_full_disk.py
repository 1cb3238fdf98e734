"""A full disk during a refresh must not lose the rotated refresh token.

The "full disk" is a file-size limit (RLIMIT_FSIZE) on a child process running the real
CLI: it needs no root and no mount, and the kernel refuses the write exactly as a full
file system would (EFBIG instead of ENOSPC). The fake Webex runs in the test process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from byods_manager.errors import ByodsError
from byods_manager.tokens.store import SAVE_ATTEMPTS, StoreData, TokenStore
from tests.fixtures_tokens import FakeWebexTokens, seed_store, service_entry

LIMITED_CLI = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from byods_manager.cli.main import main
main(sys.argv[2:])
"""

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE")


def test_a_refresh_that_could_not_be_saved_does_not_spend_the_refresh_token(
    tokens_fake: FakeWebexTokens,
    tokens_config: Callable[..., Path],
    tokens_store: Path,
    tmp_path: Path,
) -> None:
    _, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, refresh=refresh, refresh_expires_at=time.time() + 86400)
    config = tokens_config()
    limit = tokens_store.stat().st_size + 64  # the current store fits, a new one does not
    run = subprocess.run(
        [
            *(sys.executable, "-c", LIMITED_CLI, str(limit)),
            *("--config", str(config), "--base-url", tokens_fake.base_url, "token", "refresh"),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert str(tokens_store) in run.stderr
    # Either the refresh token was not spent, or what replaced it was saved.
    assert service_entry(tokens_store)["refreshToken"] in tokens_fake.sa_refresh_valid
    assert tokens_fake.calls["sa_refresh"] == 0
    assert tokens_fake.calls["mint"] == 0


def test_a_save_that_keeps_failing_is_retried_then_names_the_file(tmp_path: Path) -> None:
    blocked = tmp_path / "tokens.json"
    blocked.mkdir()  # a directory where the file should go: every rename fails
    waits: list[float] = []
    notes: list[str] = []
    store = TokenStore(blocked, sleep=waits.append, warn=notes.append)
    with pytest.raises(ByodsError, match=str(blocked)):
        store.save(StoreData())
    assert len(waits) == SAVE_ATTEMPTS - 1
    assert len(notes) == SAVE_ATTEMPTS - 1


def test_a_refresh_with_room_saves_through_the_reservation(
    tokens_fake: FakeWebexTokens,
    tokens_config: Callable[..., Path],
    tokens_store: Path,
    run_cli: Callable[..., Result],
) -> None:
    _, refresh = tokens_fake.new_service_pair()
    seed_store(tokens_store, refresh=refresh, refresh_expires_at=time.time() + 86400)
    config = tokens_config()
    result = run_cli(
        ["--config", str(config), "--base-url", tokens_fake.base_url, "token", "refresh"]
    )
    assert result.exit_code == 0
    assert service_entry(tokens_store)["refreshToken"] in tokens_fake.sa_refresh_valid
    assert oct(tokens_store.stat().st_mode & 0o777) == "0o600"
    assert list(tokens_store.parent.glob(".tokens.json.*.tmp")) == []
