"""`byods apply` hardening: schema-id case, exit codes, unreadable and empty files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.fixtures_core import SCHEMA_ID
from tests.fleet_fake import FleetWebex
from tests.test_fleet_apply import desired_file, seed, writes
from tests.test_fleet_cli import ACME, HOME_ORG, add_orgs, fleet, ok, payload

__all__ = ["fleet"]  # the fixture, shared with test_fleet_cli


def test_an_upper_case_schema_id_matches_the_existing_data_source(
    run_cli: Callable[..., Result], fleet: FleetWebex, tmp_path: Path
) -> None:
    fleet.thin_list = True
    existing = seed(fleet, HOME_ORG, audience="alpha", subject="calls", url="https://a.example")
    entry = {
        "schemaId": SCHEMA_ID.upper(),
        "audience": "alpha",
        "subject": "calls",
        "url": "https://a.example",
    }
    path = desired_file(tmp_path, [entry])

    result = ok(run_cli(["apply", "-f", str(path), "--prune", "--yes"]))

    assert result.stdout.splitlines() == [
        f"= unchanged {existing} alpha/calls (schema {SCHEMA_ID})",
        "Plan: 0 to create, 0 to update, 1 unchanged, 0 extra.",
    ]
    assert list(fleet.data_sources[HOME_ORG]) == [existing]
    assert writes(fleet) == 0


def test_single_org_apply_keeps_the_exit_code_and_the_whole_error(
    run_cli: Callable[..., Result], fleet: FleetWebex, tmp_path: Path
) -> None:
    fleet.authorize(HOME_ORG, 1)
    ok(run_cli(["list"]))  # the stored tokens exist, then the admin deauthorizes the app
    fleet.revoke(HOME_ORG)
    path = desired_file(tmp_path, [{"schemaId": SCHEMA_ID, "audience": "a", "subject": "b"}])
    path.write_text(path.read_text().replace("subject: b", "subject: b\n  url: https://x.io"))

    listed = run_cli(["list"])
    applied = run_cli(["apply", "-f", str(path), "--dry-run"])
    as_json = run_cli(["apply", "-f", str(path), "--json"])

    assert listed.exit_code == 3
    assert applied.exit_code == as_json.exit_code == 3
    assert applied.stderr == listed.stderr  # every tier's reason, not just the first line
    assert len(applied.stderr.splitlines()) > 1
    assert "Dry run" not in applied.output
    assert as_json.stdout == ""  # no {"org": "", ...} record for a single org


def test_an_unknown_org_is_a_usage_error_for_apply_as_for_list(
    run_cli: Callable[..., Result], fleet: FleetWebex, tmp_path: Path
) -> None:
    fleet.authorize(HOME_ORG)
    path = desired_file(tmp_path, [])

    listed = run_cli(["--org", "nosuch", "list"])
    applied = run_cli(["--org", "nosuch", "apply", "-f", str(path), "--dry-run"])

    assert listed.exit_code == applied.exit_code == 2
    assert applied.stderr == listed.stderr
    assert "Dry run" not in applied.output


def test_all_orgs_apply_reports_a_failed_org_by_name_with_its_whole_reason(
    run_cli: Callable[..., Result], fleet: FleetWebex, tmp_path: Path
) -> None:
    add_orgs(run_cli, fleet, per_org=0)
    fleet.revoke(ACME)
    path = desired_file(
        tmp_path, [{"schemaId": SCHEMA_ID, "audience": "a", "subject": "b", "url": "https://x.io"}]
    )

    result = run_cli(["apply", "-f", str(path), "--all-orgs", "--json"])

    assert result.exit_code == 1
    report = payload(result)
    failures = [entry for entry in report if "error" in entry]
    assert [(f["org"], f["orgId"]) for f in failures] == [("acme", ACME)]
    assert "byods auth setup" in failures[0]["error"]
    assert "tier 2" in failures[0]["error"]  # every tier's reason, on one line
    assert "\n" not in failures[0]["error"]
    assert fleet.count("post") == 2  # the other two orgs were applied


def test_a_file_that_is_not_utf8_is_a_one_line_error(
    run_cli: Callable[..., Result], fleet: FleetWebex, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")

    result = run_cli(["apply", "-f", str(path), "--dry-run"])

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path}: ")
    assert len(result.stderr.splitlines()) == 1
    assert fleet.count("list") == 0


@pytest.mark.parametrize("text", ["", "# nothing here yet\n", "dataSources:\n"])
def test_an_empty_file_does_not_prune_everything(
    run_cli: Callable[..., Result], fleet: FleetWebex, tmp_path: Path, text: str
) -> None:
    fleet.authorize(HOME_ORG, 2)
    path = tmp_path / "empty.yaml"
    path.write_text(text)

    refused = run_cli(["apply", "-f", str(path), "--prune", "--yes"])

    assert refused.exit_code == 2
    assert refused.stderr.startswith(f"Error: {path} lists no data sources")
    assert "--allow-empty" in refused.stderr
    assert len(fleet.data_sources[HOME_ORG]) == 2 and writes(fleet) == 0
    dry = ok(run_cli(["apply", "-f", str(path), "--prune", "--dry-run"]))  # shows that plan
    assert dry.stdout.count("(deleted with --prune)") == 2
    ok(run_cli(["apply", "-f", str(path)]))  # without --prune an empty file changes nothing
    assert writes(fleet) == 0


def test_allow_empty_prunes_everything_when_asked(
    run_cli: Callable[..., Result], fleet: FleetWebex, tmp_path: Path
) -> None:
    add_orgs(run_cli, fleet, per_org=2)
    path = desired_file(tmp_path, [])

    refused = run_cli(["apply", "-f", str(path), "--prune", "--yes", "--all-orgs"])
    assert refused.exit_code == 2 and "every org" in refused.stderr
    assert writes(fleet) == 0

    ok(run_cli(["apply", "-f", str(path), "--prune", "--yes", "--allow-empty"]))

    assert fleet.data_sources[HOME_ORG] == {} and len(fleet.data_sources[ACME]) == 2
