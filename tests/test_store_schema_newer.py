"""A PostgreSQL store whose schema a newer byods-manager upgraded: ``store migrate`` says so
(exit 2) instead of "up to date", and ``store status`` shows the version without reading
content it may no longer understand."""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
from click.testing import Result

from byods_manager.stores.postgres import PostgresStore

RunCli = Callable[..., Result]
NEWER = "has schema version 99, newer than this byods-manager knows (1); upgrade byods-manager"


def upgrade_behind_our_back(pg_url: str) -> None:
    PostgresStore(pg_url).migrate()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE byods_schema_version SET version = 99")


def versions(pg_url: str) -> list[int]:
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT version FROM byods_schema_version ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def test_migrate_refuses_a_newer_schema_and_changes_nothing(run_cli: RunCli, pg_url: str) -> None:
    upgrade_behind_our_back(pg_url)
    for extra in ([], ["--json"]):
        result = run_cli(["--store", pg_url, "store", "migrate", *extra])
        assert result.exit_code == 2, result.output
        assert NEWER in result.output and "up to date" not in result.output
        assert result.output.count("\n") == 1
    assert versions(pg_url) == [99]


def test_migrate_and_other_commands_agree_on_a_newer_schema(run_cli: RunCli, pg_url: str) -> None:
    upgrade_behind_our_back(pg_url)
    migrate = run_cli(["--store", pg_url, "store", "migrate"])
    copy = run_cli(["store", "copy", "--from", pg_url, "--to", "/nonexistent/x.json"])
    assert migrate.exit_code == copy.exit_code == 2
    assert NEWER in migrate.output and NEWER in copy.output


def test_status_shows_a_newer_schema_version_instead_of_refusing(
    run_cli: RunCli, pg_url: str
) -> None:
    upgrade_behind_our_back(pg_url)
    human = run_cli(["--store", pg_url, "store", "status"])
    assert human.exit_code == 0, human.output
    assert (
        "Schema version: 99 (newer than this byods-manager knows (1); upgrade byods-manager)"
        in human.output
    )
    assert "Service apps" not in human.output
    as_json = run_cli(["--store", pg_url, "store", "status", "--json"])
    assert as_json.exit_code == 0, as_json.output
    status = json.loads(as_json.output)
    assert status["schemaVersion"] == 99 and status["supportedSchemaVersion"] == 1
    assert "upgrade byods-manager" in status["note"] and "serviceApps" not in status
    assert versions(pg_url) == [99]


def test_status_of_a_current_schema_names_the_supported_version(
    run_cli: RunCli, pg_url: str
) -> None:
    result = run_cli(["--store", pg_url, "store", "status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["schemaVersion"] == status["supportedSchemaVersion"] == 1
    assert "note" not in status
