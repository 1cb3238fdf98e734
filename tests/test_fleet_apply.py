"""`byods apply`: plan, apply, converge, prune; against the multi-org fake with thin lists."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.fixtures_core import OTHER_SCHEMA_ID, SCHEMA_ID, data_source_payload
from tests.fleet_fake import FleetWebex
from tests.test_fleet_cli import ACME, HOME_ORG, add_orgs, fleet, ok, payload

__all__ = ["fleet"]  # the fixture, shared with test_fleet_cli

WRITES = ("post", "put", "delete")


def writes(fake: FleetWebex) -> int:
    return sum(fake.count(kind) for kind in WRITES)


def seed(fake: FleetWebex, org: str, **fields: Any) -> str:
    fake.authorize(org)
    item = data_source_payload(**fields)
    fake.data_sources[org][item["id"]] = item
    return str(item["id"])


def desired_file(tmp_path: Path, entries: list[dict[str, Any]], name: str = "ds.yaml") -> Path:
    import yaml

    path = tmp_path / name
    text = json.dumps(entries) if name.endswith(".json") else yaml.safe_dump(entries)
    path.write_text(text)
    return path


ALPHA = {"schemaId": SCHEMA_ID, "audience": "alpha", "subject": "calls"}
BETA = {"schemaId": OTHER_SCHEMA_ID, "audience": "beta", "subject": "calls"}
GAMMA = {"schemaId": SCHEMA_ID, "audience": "gamma", "subject": "chat"}


@pytest.fixture
def org_with_three(fleet: FleetWebex) -> dict[str, str]:
    fleet.thin_list = True
    return {
        "alpha": seed(
            fleet, HOME_ORG, audience="alpha", subject="calls", url="https://a.example/1"
        ),
        "beta": seed(
            fleet,
            HOME_ORG,
            schema_id=OTHER_SCHEMA_ID,
            audience="beta",
            subject="calls",
            url="https://b.example/1",
            lifetime=60,
        ),
        "stray": seed(fleet, HOME_ORG, audience="stray", subject="old", url="https://s.example"),
    }


def test_apply_prints_the_plan_applies_it_and_converges(
    run_cli: Callable[..., Result],
    fleet: FleetWebex,
    org_with_three: dict[str, str],
    tmp_path: Path,
) -> None:
    path = desired_file(
        tmp_path,
        [
            {**ALPHA, "url": "https://a.example/2"},
            {**BETA, "url": "https://b.example/1", "lifetimeMinutes": 60},
            {**GAMMA, "url": "https://g.example/1", "lifetimeMinutes": 120},
        ],
    )

    first = ok(run_cli(["apply", "-f", str(path)]))

    alpha, beta, stray = org_with_three["alpha"], org_with_three["beta"], org_with_three["stray"]
    assert first.stdout.splitlines() == [
        f"~ update {alpha} alpha/calls (schema {SCHEMA_ID}) url: https://a.example/1 -> "
        "https://a.example/2",
        f"= unchanged {beta} beta/calls (schema {OTHER_SCHEMA_ID})",
        f"+ create gamma/chat (schema {SCHEMA_ID}) url=https://g.example/1",
        f"- extra {stray} stray/old (schema {SCHEMA_ID}) (kept; --prune deletes it)",
        "Plan: 1 to create, 1 to update, 1 unchanged, 1 extra.",
    ]
    assert (fleet.count("post"), fleet.count("put"), fleet.count("delete")) == (1, 1, 0)
    stored = fleet.data_sources[HOME_ORG]
    assert stored[alpha]["url"] == "https://a.example/2"
    gamma = next(ds for ds in stored.values() if ds["audience"] == "gamma")
    assert gamma["tokenLifetimeMinutes"] == 120

    before = writes(fleet)
    second = ok(run_cli(["apply", "-f", str(path)]))
    assert writes(fleet) == before  # converged: no writes at all
    assert "Plan: 0 to create, 0 to update, 3 unchanged, 1 extra." in second.stdout

    ok(run_cli(["apply", "-f", str(path), "--prune", "--yes"]))
    assert stray not in fleet.data_sources[HOME_ORG]
    before = writes(fleet)
    third = ok(run_cli(["apply", "-f", str(path), "--prune", "--yes"]))
    assert writes(fleet) == before
    assert "Plan: 0 to create, 0 to update, 3 unchanged, 0 extra." in third.stdout


def test_dry_run_and_unconfirmed_prune_send_no_writes(
    run_cli: Callable[..., Result],
    fleet: FleetWebex,
    org_with_three: dict[str, str],
    tmp_path: Path,
) -> None:
    path = desired_file(tmp_path, [{**GAMMA, "url": "https://g.example/1"}], name="ds.json")

    dry = ok(run_cli(["apply", "-f", str(path), "--dry-run", "--prune"]))
    assert "+ create gamma/chat" in dry.stdout
    assert dry.stdout.count("(deleted with --prune)") == 3
    assert dry.stdout.splitlines()[-1] == "Dry run: nothing was changed."
    refused = run_cli(["apply", "-f", str(path), "--prune"])
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert writes(fleet) == 0


def test_status_is_updated_in_place(
    run_cli: Callable[..., Result],
    fleet: FleetWebex,
    org_with_three: dict[str, str],
    tmp_path: Path,
) -> None:
    path = desired_file(tmp_path, [{**ALPHA, "url": "https://a.example/1", "status": "disabled"}])

    result = ok(run_cli(["apply", "-f", str(path), "--json"]))

    report = payload(result)
    steps = {step["action"]: step for step in report["steps"]}
    assert steps["update"]["changes"] == [{"field": "status", "old": "active", "new": "disabled"}]
    assert steps["update"]["outcome"] == "done"
    assert fleet.data_sources[HOME_ORG][org_with_three["alpha"]]["status"] == "disabled"
    before = writes(fleet)
    ok(run_cli(["apply", "-f", str(path)]))
    assert writes(fleet) == before


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [{**ALPHA, "url": "https://x"}, {"schemaId": SCHEMA_ID, "url": "https://x"}],
            "entry 2: field audience: required",
        ),
        (
            [{**ALPHA, "url": "https://x", "lifetimeMinutes": 5000}],
            "entry 1: field lifetimeMinutes: the token lifetime must be between 1 and 1440",
        ),
        ([{**ALPHA, "url": "ftp://x"}], "entry 1: field url:"),
        ([{**ALPHA, "url": "https://x", "colour": "red"}], "entry 1: field colour: unknown"),
        ([{**ALPHA, "url": "https://x", "status": "paused"}], "entry 1: field status:"),
        (
            [{**ALPHA, "url": "https://x"}, {**ALPHA, "url": "https://y"}],
            "entry 2: same schemaId, audience and subject as entry 1",
        ),
    ],
)
def test_invalid_files_name_the_file_entry_and_field(
    run_cli: Callable[..., Result],
    fleet: FleetWebex,
    tmp_path: Path,
    entries: list[dict[str, Any]],
    message: str,
) -> None:
    path = desired_file(tmp_path, entries)

    result = run_cli(["apply", "-f", str(path)])

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path}: ")
    assert message in result.stderr
    assert fleet.count("list") == 0  # nothing was sent


def test_unparsable_yaml_is_a_one_line_error(
    run_cli: Callable[..., Result], fleet: FleetWebex, tmp_path: Path
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("- url: [unclosed\n")
    result = run_cli(["apply", "-f", str(path)])
    assert result.exit_code == 2
    assert f"{path}: not valid YAML" in result.stderr


def test_apply_all_orgs_makes_each_org_match(
    run_cli: Callable[..., Result], fleet: FleetWebex, tmp_path: Path
) -> None:
    add_orgs(run_cli, fleet, per_org=0)
    path = desired_file(tmp_path, [{**GAMMA, "url": "https://g.example/1"}])

    report = payload(ok(run_cli(["apply", "-f", str(path), "--all-orgs", "--json"])))

    assert [entry["org"] for entry in report] == [HOME_ORG, "acme", "globex"]
    assert all(entry["steps"][0]["outcome"] == "done" for entry in report)
    assert fleet.count("post", ACME) == 1 and fleet.count("post") == 3
    before = writes(fleet)
    ok(run_cli(["apply", "-f", str(path), "--all-orgs"]))
    assert writes(fleet) == before
