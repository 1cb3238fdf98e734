"""`make demo` (``python -m byods_manager.demo``) in a subprocess, as CI runs it."""

from __future__ import annotations

import gc
import io
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from byods_manager.demo import Demo

STEP_TITLES = (
    "Start the Webex sandbox",
    "Token status",
    "Schemas Webex publishes",
    "Register a data source",
    "List data sources",
    "Show it, with the decoded JWS",
    "Extend it",
    "Disable it with a reason",
    "Enable it again",
    "Refresh the service-app token by hand",
    "OAuth wizard, non-interactively",
    "Delete the data source",
    "Stop the sandbox",
)


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "byods_manager.demo", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.slow
def test_the_demo_runs_every_step_and_exits_0() -> None:
    result = run_demo()
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    positions = [out.index(f"/13: {title}") for title in STEP_TITLES]
    assert positions == sorted(positions)
    assert "Demo complete: all 13 steps succeeded." in out
    assert "com.cisco.datasource.url" in out
    assert "Done (step 4: browser flow)." in out
    assert "stopped (exit code 0)" in out
    assert "FAILED" not in out


@pytest.mark.slow
def test_a_failing_step_is_named_and_the_exit_code_is_1() -> None:
    result = run_demo("--inject-fault-before", "register")
    assert result.returncode == 1
    out = result.stdout
    assert "DEMO FAILED at Step 4/13 (Register a data source)" in out
    assert "exited with code 1" in out
    assert "Step 5/13" not in out
    assert "== Step 13/13: Stop the sandbox ==" in out
    assert "stopped (exit code 0)" in out


def test_stopping_the_sandbox_leaves_no_file_open(tmp_path: Path) -> None:
    demo = Demo(tmp_path, io.StringIO())
    demo.prepare_environment()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            demo.start_sandbox()
        finally:
            demo.stop_sandbox()
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
    assert (tmp_path / "sandbox.log").exists()
