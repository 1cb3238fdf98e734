"""The root scripts are single `byods` commands that take global options anywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from byods_manager.cli.scripts import script_arguments

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["token", "refresh"]),
        (["--force"], ["token", "refresh", "--force"]),
        (
            ["--force", "--config", "c.json", "-v", "--json"],
            ["--config", "c.json", "-v", "token", "refresh", "--force", "--json"],
        ),
        (
            ["--base-url=http://127.0.0.1:1/v1", "--profile", "lab"],
            ["--base-url=http://127.0.0.1:1/v1", "--profile", "lab", "token", "refresh"],
        ),
    ],
)
def test_global_options_move_before_the_command(argv: list[str], expected: list[str]) -> None:
    assert script_arguments(argv, "token", "refresh") == expected


@pytest.mark.parametrize(
    ("script", "command_option"),
    [("refresh_token.py", "--force"), ("setup_oauth.py", "--redirect-uri")],
)
def test_script_help_lists_command_and_global_options(script: str, command_option: str) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert command_option in done.stdout
    assert "Global options:" in done.stdout
    assert "--config PATH" in done.stdout.split("Global options:")[1]


def test_script_usage_errors_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "refresh_token.py"), "--no-such-option"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "No such option" in done.stderr
    assert "Traceback" not in done.stderr
