"""File-system hardening: private directories, a symlink-proof audit log, and dependency
floors past known advisories installed through the shipped constraints file."""

from __future__ import annotations

import logging
import re
import stat
from pathlib import Path

import pytest

from byods_manager.audit import AuditLog
from byods_manager.fileio import atomic_write_text, file_lock

REPO = Path(__file__).resolve().parent.parent


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_directories_the_tool_creates_are_private(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "state" / "deep" / "tokens.json", "{}")
    assert mode_of(tmp_path / "state") == 0o700
    assert mode_of(tmp_path / "state" / "deep") == 0o700
    with file_lock(tmp_path / "locks" / "x.json"):
        pass
    assert mode_of(tmp_path / "locks") == 0o700
    AuditLog(tmp_path / "audit" / "a.jsonl").record("extend", "id", "success")
    assert mode_of(tmp_path / "audit") == 0o700


def test_existing_directories_keep_their_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    atomic_write_text(shared / "tokens.json", "{}")
    assert mode_of(shared) == 0o755


def test_audit_log_does_not_write_through_a_symlink(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("original\n")
    link = tmp_path / "audit.jsonl"
    link.symlink_to(victim)
    with caplog.at_level(logging.WARNING):
        AuditLog(link).record("delete", "id", "success")
    assert victim.read_text() == "original\n"
    assert "could not write the audit log" in caplog.text


def _minimum(requirements: list[str], name: str) -> tuple[int, ...]:
    for requirement in requirements:
        match = re.match(rf"{name}\s*>=\s*([\d.]+)", requirement)
        if match:
            return tuple(int(part) for part in match.group(1).split("."))
    raise AssertionError(f"{name} has no minimum version")


def test_dependency_floors_are_past_known_advisories() -> None:
    text = (REPO / "pyproject.toml").read_text()
    dependencies = re.findall(r'^\s*"([^"]+)",', text.split("dependencies = [", 1)[1], re.M)
    assert _minimum(dependencies, "requests") >= (2, 32, 4)
    assert _minimum(dependencies, "filelock") >= (3, 20, 1)


def test_make_installs_with_the_constraints_file_and_its_pins_respect_the_floors() -> None:
    assert "-c constraints.txt" in (REPO / "Makefile").read_text()
    pins = dict(
        line.split("==", 1)
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    pins = {name.lower().replace("_", "-"): version for name, version in pins.items()}
    floors = {"requests": (2, 32, 4), "filelock": (3, 20, 1)}
    for name, floor in floors.items():
        version = tuple(int(part) for part in re.findall(r"\d+", pins[name])[:3])
        assert version >= floor, name
