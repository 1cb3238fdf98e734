"""Concurrent extend and `byods apply` against the single-org sandbox (real HTTP, real JWS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from byods_manager.cli.main import cli
from byods_manager.sandbox import Sandbox

SCHEMA = "5397013b-7920-4ffc-807c-e8a3e0a18f43"
WRITE_ROUTES = ("POST /dataSources", "PUT /dataSources/{id}", "DELETE /dataSources/{id}")

pytestmark = pytest.mark.usefixtures("sandbox_env")


def byods(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    return result


def writes(sandbox: Sandbox) -> int:
    seen = sandbox.stats_snapshot()["requests"]
    return sum(seen.get(route, 0) for route in WRITE_ROUTES)


def register(n: int) -> str:
    result = byods(
        "register",
        "--url",
        f"https://dap.example.com/{n}",
        "--schema-id",
        SCHEMA,
        "--audience",
        f"aud{n}",
        "--subject",
        "callAudioData",
        "--json",
    )
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["id"])


def test_concurrent_extend_all_extends_each_once_and_audits_each(
    sandbox: Sandbox, default_audit_file: Path
) -> None:
    ids = {register(n) for n in range(12)}
    nonces = {ds["id"]: ds["nonce"] for ds in sandbox.data_sources()}

    dry = byods("extend", "--all", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert sandbox.stats_snapshot()["requests"].get("PUT /dataSources/{id}", 0) == 0
    assert dry.stdout.splitlines()[-1] == "12 would be extended, 0 skipped, 0 failed"

    result = byods("extend", "--all", "--concurrency", "4", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"] == {"extended": 12, "skipped": 0, "failed": 0}
    assert sandbox.stats_snapshot()["requests"]["PUT /dataSources/{id}"] == 12
    assert all(ds["nonce"] != nonces[ds["id"]] for ds in sandbox.data_sources())
    lines = default_audit_file.read_text().splitlines()
    extends = [json.loads(line) for line in lines if '"extend"' in line]  # each line whole
    assert sorted(e["dataSourceId"] for e in extends) == sorted(ids)


def test_apply_converges_against_the_sandbox(sandbox: Sandbox, tmp_path: Path) -> None:
    stray = register(99)
    path = tmp_path / "desired.json"
    entries = [
        {
            "url": f"https://dap.example.com/{n}",
            "schemaId": SCHEMA,
            "audience": f"aud{n}",
            "subject": "callAudioData",
            "lifetimeMinutes": 90,
        }
        for n in range(3)
    ]
    path.write_text(json.dumps(entries))

    first = byods("apply", "-f", str(path))
    assert first.exit_code == 0, first.output
    assert "Plan: 3 to create, 0 to update, 0 unchanged, 1 extra." in first.stdout

    before = writes(sandbox)
    second = byods("apply", "-f", str(path))
    assert second.exit_code == 0, second.output
    assert writes(sandbox) == before

    entries[0]["url"] = "https://dap.example.com/moved"
    path.write_text(json.dumps(entries))
    third = byods("apply", "-f", str(path), "--prune", "--yes")
    assert third.exit_code == 0, third.output
    assert "url: https://dap.example.com/0 -> https://dap.example.com/moved" in third.stdout
    stored = {ds["audience"]: ds for ds in sandbox.data_sources()}
    assert stored["aud0"]["url"] == "https://dap.example.com/moved"
    assert stray not in {ds["id"] for ds in sandbox.data_sources()}
    assert {ds["tokenLifetimeMinutes"] for ds in stored.values()} == {90}


def test_an_upper_case_schema_id_in_the_file_keeps_the_live_data_source(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    live = register(7)
    path = tmp_path / "desired.yaml"
    path.write_text(
        f"- url: https://dap.example.com/7\n  schemaId: {SCHEMA.upper()}\n"
        "  audience: aud7\n  subject: callAudioData\n"
    )

    result = byods("apply", "-f", str(path), "--prune", "--yes")

    assert result.exit_code == 0, result.output
    assert "Plan: 0 to create, 0 to update, 1 unchanged, 0 extra." in result.stdout
    assert [ds["id"] for ds in sandbox.data_sources()] == [live]
    assert writes(sandbox) == 1  # only the registration
