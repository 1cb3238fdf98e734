"""Environment problems are one line naming the path and what to do, never a traceback;
Ctrl-C is `Interrupted.` (exit 130), a declined prompt `Cancelled.` (exit 1)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from byods_manager.cli.os_errors import describe_os_error

REPO_ROOT = Path(__file__).resolve().parent.parent
RunCli = Callable[..., Result]
DS_ID = "f29bb291-5db0-411b-834a-e64f8dee0658"


def test_uncreatable_state_dir_is_one_line_naming_it(
    tokens_config: Callable[..., Path], run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", "/proc/byods-cannot-exist")
    config = tokens_config()
    result = run_cli(
        ["--config", str(config), "--base-url", "http://127.0.0.1:9/v1", "extend", DS_ID]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    line = result.stderr.strip()
    assert line.startswith("Error: cannot use /proc/byods-cannot-exist")
    assert "state directory /proc/byods-cannot-exist/byods-manager is not usable" in line
    assert "set BYODS_TOKEN_STORE (and BYODS_AUDIT_LOG) to a writable path" in line
    assert "\n" not in line


def test_token_store_that_is_not_utf8(
    tokens_config: Callable[..., Path], tokens_store: Path, run_cli: RunCli
) -> None:
    tokens_store.parent.mkdir(parents=True)
    tokens_store.write_bytes(b'{"version": "\xff"}')
    result = run_cli(["--config", str(tokens_config()), "token", "status"])
    assert result.exit_code == 2
    assert f"Error: token store {tokens_store} is not UTF-8 text (byte 13)" in result.stderr
    assert "Traceback" not in result.output


def test_full_disk_names_the_path_and_a_way_out() -> None:
    text = describe_os_error(OSError(errno.ENOSPC, "No space left on device", "/data/t.json"))
    assert text == (
        "cannot write /data/t.json: No space left on device; free some space, or set "
        "BYODS_TOKEN_STORE (and BYODS_AUDIT_LOG) to a writable path elsewhere"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_a_file_of_another_user_is_named_as_such(tmp_path: Path) -> None:
    theirs = tmp_path / "token-config.json"
    theirs.write_text("{}")
    os.chown(theirs, 4242, -1)
    text = describe_os_error(PermissionError(errno.EPERM, "Operation not permitted", str(theirs)))
    assert text == (
        f"cannot use {theirs}: Operation not permitted (it belongs to another user, uid 4242); "
        "choose another path"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_a_failed_rename_names_the_target_not_the_temporary_file(tmp_path: Path) -> None:
    theirs = tmp_path / "token-config.json"
    theirs.write_text("{}")
    os.chown(theirs, 4242, -1)
    temporary = str(tmp_path / ".token-config.json.x1.tmp")
    failure = PermissionError(errno.EPERM, "Operation not permitted", temporary, None, str(theirs))
    assert describe_os_error(failure).startswith(
        f"cannot use {theirs}: Operation not permitted (it belongs to another user, uid 4242)"
    )


def test_script_help_into_a_closed_pipe_has_no_traceback() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` after it has read its line
    try:
        done = subprocess.run(
            [sys.executable, str(REPO_ROOT / "setup_oauth.py"), "--help"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 1


@pytest.mark.parametrize(
    ("script", "option"), [("setup_oauth.py", "--redirect-uri"), ("refresh_token.py", "--force")]
)
def test_script_usage_is_the_command_people_type(script: str, option: str) -> None:
    helped = subprocess.run(
        [sys.executable, str(REPO_ROOT / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert helped.stdout.startswith(f"Usage: python {script} [OPTIONS]\n")
    assert option in helped.stdout
    wrong = subprocess.run(
        [sys.executable, str(REPO_ROOT / script), "--no-such-option"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert wrong.returncode == 2
    assert wrong.stderr == (
        f"Usage: python {script} [OPTIONS]\nTry 'python {script} --help' for help.\n\n"
        "Error: No such option '--no-such-option'.\n"
    )


def test_declined_prompt_is_cancelled_exit_1(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BYODS_ASSUME_TTY", "1")
    monkeypatch.setenv("WEBEX_API_BASE_URL", "http://127.0.0.1:9/v1")
    result = run_cli(["delete", DS_ID], input="n\n")
    assert result.exit_code == 1
    assert result.stderr.endswith("Cancelled.\n")
    assert "Aborted" not in result.output


def test_ctrl_c_at_a_prompt_is_interrupted_exit_130(tmp_path: Path) -> None:
    env = {**os.environ, "BYODS_ASSUME_TTY": "1", "WEBEX_API_BASE_URL": "http://127.0.0.1:9/v1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "byods_manager", "delete", DS_ID],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stderr is not None
    seen = b""
    deadline = time.monotonic() + 60
    while b"Delete data source" not in seen and time.monotonic() < deadline:
        chunk = os.read(child.stderr.fileno(), 256)
        if not chunk:
            break
        seen += chunk
    child.send_signal(signal.SIGINT)
    _, rest = child.communicate(timeout=60)
    assert child.returncode == 130
    assert (seen + rest).decode().rstrip().endswith("Interrupted.")
    assert b"Traceback" not in seen + rest


NOBODY = "65534"


def _nobody_prefix() -> list[str] | None:
    """How to run a command as an unprivileged user here (root with setpriv), else None."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        return None
    prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "pass"], capture_output=True, check=False
    )
    return prefix if probe.returncode == 0 else None


NOBODY_PREFIX = _nobody_prefix()
as_root_only = pytest.mark.skipif(
    NOBODY_PREFIX is None, reason="needs root and setpriv to run as an unprivileged user"
)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A world-readable directory outside pytest's private (0700) temp tree."""
    directory = Path(tempfile.mkdtemp(prefix="byods-shared-"))
    directory.chmod(0o1777)  # like /tmp: anyone may create, only owners may replace
    yield directory
    shutil.rmtree(directory)


def _as_nobody(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    assert NOBODY_PREFIX is not None
    return subprocess.run(
        [*NOBODY_PREFIX, sys.executable, "-m", "byods_manager", *args],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@as_root_only
def test_config_out_owned_by_another_user_in_a_shared_dir(shared_dir: Path) -> None:
    theirs = shared_dir / "token-config.json"
    theirs.write_text("{}")
    done = _as_nobody(["sandbox", "--config-out", str(theirs), "--json"], shared_dir)
    assert done.returncode == 2
    assert done.stderr == (
        f"Error: cannot use {theirs}: Operation not permitted "
        "(it belongs to another user, uid 0); choose another path\n"
    )
    assert theirs.read_text() == "{}"


@as_root_only
@pytest.mark.parametrize(("home", "state"), [(None, "/nonexistent"), ("/proc", "/proc/.local")])
def test_unusable_home_as_an_unprivileged_user(
    shared_dir: Path, tokens_config: Callable[..., Path], home: str | None, state: str
) -> None:
    config = shared_dir / "config.json"
    config.write_text(tokens_config().read_text())
    config.chmod(0o644)
    env = {} if home is None else {"HOME": home}
    args = ["--config", str(config), "--base-url", "http://127.0.0.1:9/v1", "token", "refresh"]
    done = _as_nobody(args, shared_dir, **env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    error = done.stderr.splitlines()[-1]
    assert error.startswith(f"Error: cannot use {state}")
    assert "set BYODS_TOKEN_STORE (and BYODS_AUDIT_LOG) to a writable path" in error
