"""`--timeout` and the token store: the lock wait ends with the deadline, save retries do not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from byods_manager.deadline import Deadline
from byods_manager.tokens.store import SAVE_ATTEMPTS, StoreData, TokenEntry, TokenStore

HOLD_LOCK = """
import sys, time
from byods_manager.fileio import file_lock
with file_lock(sys.argv[1], timeout=5):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes stdin
"""


def test_the_deadline_ends_the_wait_for_a_token_store_lock_held_by_another_process(
    tokens_config: Callable[..., Path], tmp_path: Path
) -> None:
    store = tmp_path / "store" / "tokens.json"
    env = {**os.environ, "BYODS_TOKEN_STORE": str(store)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        # Without the deadline this would wait LOCK_TIMEOUT_SECONDS (120 s): the test's own
        # timeout is only there to fail cleanly instead of hanging.
        run = subprocess.run(
            [
                *(sys.executable, "-m", "byods_manager", "--timeout", "2s"),
                *("--config", str(tokens_config()), "token", "refresh"),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    message = run.stderr.strip()
    assert len(message.splitlines()) == 1
    assert f"{store}.lock" in message
    assert "--timeout 2s" in message


def test_a_failing_save_is_retried_past_the_deadline_and_keeps_the_rotated_token(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tokens.json"
    path.mkdir()  # a directory where the file should go: saving fails until it is gone
    notes: list[str] = []
    waits: list[float] = []

    def wait_while_the_disk_is_fixed(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == SAVE_ATTEMPTS - 2:
            shutil.rmtree(path)

    store = TokenStore(
        path, sleep=wait_while_the_disk_is_fixed, warn=notes.append, deadline=Deadline(0)
    )
    data = StoreData(service_apps={"app@org": TokenEntry(refresh_token="rotated-refresh-1234")})
    store.save(data)  # the deadline has passed: still retried, and saved in the end
    assert len(waits) == SAVE_ATTEMPTS - 2
    assert all("past the command's deadline (--timeout 0s)" in note for note in notes)
    assert store.load().service_apps["app@org"].refresh_token == "rotated-refresh-1234"


def test_the_deadline_ends_the_wait_for_a_postgresql_token_lock(pg_url: str) -> None:
    """The PostgreSQL store's lock wait obeys --timeout too (it used its own 120 s)."""
    from byods_manager.errors import ByodsError
    from byods_manager.stores.postgres import PostgresStore

    holder = PostgresStore(pg_url)
    waiter = PostgresStore(pg_url, deadline=Deadline(1.0, label="--timeout 1s"))
    try:
        with holder.locked():
            try:
                with waiter.locked("serviceApps/app@org"):
                    raise AssertionError("the lock was taken while another store held it")
            except ByodsError as exc:
                message = str(exc)
        assert "--timeout 1s" in message
        assert "ended the wait" in message
        assert "postgresql://" in message
        with waiter.locked("serviceApps/app@org") as data:  # free again: taken at once
            assert isinstance(data, StoreData)
    finally:
        holder.close()
        waiter.close()
