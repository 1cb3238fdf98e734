"""The data-source commands end to end: CLI -> library -> HTTP -> local server."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer

from tests.fixtures_core import (
    API_TOKEN,
    SCHEMA_ID,
    data_source_payload,
    put_body_from,
    schema_payload,
)

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
DS_ID = "f29bb291-5db0-411b-834a-e64f8dee0658"
ITEM = f"/v1/dataSources/{DS_ID}"
RunCli = Callable[..., Result]

pytestmark = pytest.mark.usefixtures("cli_env")


def sent_json(httpserver: HTTPServer, index: int) -> Any:
    return json.loads(httpserver.log[index][0].get_data(as_text=True))


def read_audit(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_list_table_shows_schema_names_and_expiry(httpserver: HTTPServer, run_cli: RunCli) -> None:
    items = [
        data_source_payload(id=DS_ID, thin=True, expires_in=3 * 3600 + 125),
        data_source_payload(thin=True, expires_in=-60, audience="OldApp"),
    ]
    httpserver.expect_request("/v1/dataSources/", headers=AUTH).respond_with_json({"items": items})
    httpserver.expect_request("/v1/dataSources/schemas").respond_with_json(
        {"items": [schema_payload()]}
    )
    result = run_cli(["list"])
    assert result.exit_code == 0, result.output
    assert DS_ID in result.stdout
    assert "voiceVirtualAgent (gRPC)" in result.stdout
    assert "MedDocVirtualAgent" in result.stdout
    assert re.search(r"\b3h [12]m\b", result.stdout)
    assert "EXPIRED" in result.stdout
    assert "eyJ" not in result.output


def test_warm_list_sends_exactly_one_request(httpserver: HTTPServer, run_cli: RunCli) -> None:
    httpserver.expect_request("/v1/dataSources/").respond_with_json(
        {"items": [data_source_payload(thin=True)]}
    )
    httpserver.expect_request("/v1/dataSources/schemas").respond_with_json(
        {"items": [schema_payload()]}
    )
    assert run_cli(["list"]).exit_code == 0
    assert len(httpserver.log) == 2  # cold: the list and the schemas
    httpserver.clear_log()
    warm = run_cli(["list"])
    assert warm.exit_code == 0
    assert "voiceVirtualAgent (gRPC)" in warm.stdout
    assert [(r.method, r.path) for r, _ in httpserver.log] == [("GET", "/v1/dataSources/")]


def test_list_json_is_only_json_and_has_no_token(httpserver: HTTPServer, run_cli: RunCli) -> None:
    payload = data_source_payload(id=DS_ID, thin=True)
    httpserver.expect_request("/v1/dataSources/").respond_with_json({"items": [payload]})
    result = run_cli(["list", "--json"])
    assert result.exit_code == 0
    (item,) = json.loads(result.stdout)
    assert item["id"] == DS_ID
    assert item["audience"] == "MedDocVirtualAgent"
    assert "jwsToken" not in item
    assert payload["jwsToken"] not in result.output
    assert item["jws"]["claims"]["jti"] == "nonce-1"


def test_list_still_works_when_schemas_fail(httpserver: HTTPServer, run_cli: RunCli) -> None:
    httpserver.expect_request("/v1/dataSources/").respond_with_json(
        {"items": [data_source_payload(thin=True)]}
    )
    httpserver.expect_request("/v1/dataSources/schemas").respond_with_json(
        {"message": "forbidden"}, status=403
    )
    result = run_cli(["list"])
    assert result.exit_code == 0
    assert SCHEMA_ID in result.stdout
    assert "could not load schema names" in result.stderr


def test_show_decodes_the_jws_and_hides_the_token(httpserver: HTTPServer, run_cli: RunCli) -> None:
    payload = data_source_payload(id=DS_ID)
    httpserver.expect_request(ITEM).respond_with_json(payload)
    httpserver.expect_request("/v1/dataSources/schemas").respond_with_json(
        {"items": [schema_payload()]}
    )
    result = run_cli(["show", DS_ID])
    assert result.exit_code == 0, result.output
    for expected in ("JWS claims", "com.cisco.org.uuid", "https://idbroker.webex.com/idb", "UTC"):
        assert expected in result.stdout
    assert payload["jwsToken"] not in result.output
    assert "--show-token" in result.stdout

    shown = run_cli(["show", DS_ID, "--show-token"])
    assert payload["jwsToken"] in shown.stdout


def test_show_json_token_only_on_request(httpserver: HTTPServer, run_cli: RunCli) -> None:
    payload = data_source_payload(id=DS_ID)
    httpserver.expect_request(ITEM).respond_with_json(payload)
    plain = json.loads(run_cli(["show", DS_ID, "--json"]).stdout)
    assert "jwsToken" not in plain
    assert plain["jws"]["header"]["alg"] == "RS256"
    with_token = json.loads(run_cli(["show", DS_ID, "--json", "--show-token"]).stdout)
    assert with_token["jwsToken"] == payload["jwsToken"]


@pytest.mark.parametrize("command", [["show", DS_ID], ["update", DS_ID, "--audience", "x"]])
def test_404_says_data_source_not_found(
    httpserver: HTTPServer, run_cli: RunCli, command: list[str]
) -> None:
    httpserver.expect_request(ITEM).respond_with_json(
        {"message": "The requested resource could not be found.", "trackingId": "ROUTER_404"},
        status=404,
    )
    result = run_cli(command)
    assert result.exit_code == 1
    assert "Data source ID not found" in result.stderr
    assert "ROUTER_404" in result.stderr
    assert "Traceback" not in result.output


def test_register_with_all_options(
    httpserver: HTTPServer, run_cli: RunCli, default_audit_file: Path, tmp_path: Path
) -> None:
    created = data_source_payload(id=DS_ID, nonce="chosen-nonce", lifetime=60)
    httpserver.expect_request("/v1/dataSources", method="POST", headers=AUTH).respond_with_json(
        created
    )
    result = run_cli(
        [
            "register",
            "--url",
            "https://dap.example.com/ingest",
            "--schema-id",
            SCHEMA_ID,
            "--audience",
            "MedDocVirtualAgent",
            "--subject",
            "callAudioData",
            "--nonce",
            "chosen-nonce",
            "--lifetime-minutes",
            "60",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == DS_ID
    assert sent_json(httpserver, 0) == {
        "schemaId": SCHEMA_ID,
        "url": "https://dap.example.com/ingest",
        "audience": "MedDocVirtualAgent",
        "subject": "callAudioData",
        "nonce": "chosen-nonce",
        "tokenLifetimeMinutes": 60,
    }
    (entry,) = read_audit(default_audit_file)
    assert (entry["operation"], entry["outcome"], entry["dataSourceId"]) == (
        "register",
        "success",
        DS_ID,
    )
    assert oct(default_audit_file.stat().st_mode & 0o777) == "0o600"
    assert list(tmp_path.glob("*.jsonl")) == []  # nothing in the working directory


def test_register_sends_an_upper_case_schema_id_in_lower_case(
    httpserver: HTTPServer, run_cli: RunCli
) -> None:
    httpserver.expect_request("/v1/dataSources", method="POST").respond_with_json(
        data_source_payload(id=DS_ID)
    )
    result = run_cli(
        [
            "register",
            "--url",
            "https://a.example",
            "--schema-id",
            SCHEMA_ID.upper(),
            "--audience",
            "MyApp",
            "--subject",
            "MySubject",
        ]
    )
    assert result.exit_code == 0, result.output
    assert sent_json(httpserver, 0)["schemaId"] == SCHEMA_ID


def test_register_without_a_terminal_names_what_is_missing(
    httpserver: HTTPServer, run_cli: RunCli
) -> None:
    result = run_cli(["register", "--url", "https://a.example"])
    assert result.exit_code == 2
    assert "--schema-id" in result.stderr and "--audience" in result.stderr
    assert "--subject" in result.stderr and "not a terminal" in result.stderr
    assert httpserver.log == []


@pytest.mark.usefixtures("assume_tty")
def test_register_prompts_on_a_terminal_with_a_schema_pick_list(
    httpserver: HTTPServer, run_cli: RunCli
) -> None:
    other = schema_payload("5397013b-9bbd-4b6b-9f31-5b4f2d1e8a10", "contactCenter", "HTTPS")
    httpserver.expect_request("/v1/dataSources/schemas").respond_with_json(
        {"items": [schema_payload(), other]}
    )
    httpserver.expect_request("/v1/dataSources", method="POST").respond_with_json(
        data_source_payload(id=DS_ID)
    )
    answers = "http://wrong.example\nhttps://dap.example.com/x\n5\n2\nMyApp\nMySubject\n"
    result = run_cli(["register"], input=answers)
    assert result.exit_code == 0, result.output
    assert "1) voiceVirtualAgent (gRPC)" in result.output
    assert "2) contactCenter (HTTPS)" in result.output
    assert "Error: the URL must start with https:// or wss://" in result.output
    assert "Error: 5 is not in the range" in result.output
    body = sent_json(httpserver, 1)
    assert body["url"] == "https://dap.example.com/x"
    assert body["schemaId"] == "5397013b-9bbd-4b6b-9f31-5b4f2d1e8a10"
    assert (body["audience"], body["subject"]) == ("MyApp", "MySubject")
    assert f"Registered data source {DS_ID}" in result.stdout


def test_update_sends_full_merged_body_with_new_nonce(
    httpserver: HTTPServer, run_cli: RunCli
) -> None:
    current = data_source_payload(id=DS_ID, nonce="old", lifetime=90)
    httpserver.expect_ordered_request(ITEM, method="GET", headers=AUTH).respond_with_json(current)
    httpserver.expect_ordered_request(ITEM, method="PUT", headers=AUTH).respond_with_json(current)
    result = run_cli(["update", DS_ID, "--subject", "newSubject", "--lifetime-minutes", "30"])
    assert result.exit_code == 0, result.output
    assert f"Updated data source {DS_ID}" in result.stdout
    body = sent_json(httpserver, 1)
    assert body.pop("nonce") not in ("old", "")
    assert body == put_body_from(current, subject="newSubject", tokenLifetimeMinutes=30)


def test_update_without_changes_is_refused(httpserver: HTTPServer, run_cli: RunCli) -> None:
    result = run_cli(["update", DS_ID])
    assert result.exit_code == 2
    assert "nothing to update" in result.stderr
    assert httpserver.log == []


def test_extend_one_is_one_get_and_one_put(httpserver: HTTPServer, run_cli: RunCli) -> None:
    current = data_source_payload(id=DS_ID, nonce="old", expires_in=600)
    renewed = data_source_payload(id=DS_ID, expires_in=24 * 3600)
    httpserver.expect_ordered_request(ITEM, method="GET").respond_with_json(current)
    httpserver.expect_ordered_request(ITEM, method="PUT").respond_with_json(renewed)
    result = run_cli(["extend", DS_ID, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == DS_ID
    assert [(r.method, r.path) for r, _ in httpserver.log] == [("GET", ITEM), ("PUT", ITEM)]
    body = sent_json(httpserver, 1)
    assert body.pop("nonce") != "old"
    assert body == put_body_from(current)


def _serve_bulk(httpserver: HTTPServer, items: list[dict[str, Any]], failing: set[str]) -> None:
    httpserver.expect_request("/v1/dataSources/", method="GET").respond_with_json({"items": items})
    for item in items:
        path = f"/v1/dataSources/{item['id']}"
        httpserver.expect_request(path, method="GET").respond_with_json(item)
        if item["id"] in failing:
            httpserver.expect_request(path, method="PUT").respond_with_json(
                {"message": "Internal error", "trackingId": "ROUTER_500"}, status=500
            )
        else:
            httpserver.expect_request(path, method="PUT").respond_with_json(item)


def test_extend_all_summary_and_exit_1_on_partial_failure(
    httpserver: HTTPServer, run_cli: RunCli, default_audit_file: Path
) -> None:
    good = data_source_payload(expires_in=3600)
    bad = data_source_payload(expires_in=3600)
    off = data_source_payload(status="disabled", error_message="paused")
    _serve_bulk(httpserver, [good, bad, off], failing={bad["id"]})
    result = run_cli(["extend", "--all"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("extended") and good["id"] in line for line in lines)
    assert any(
        line.startswith("FAILED") and bad["id"] in line and "ROUTER_500" in line for line in lines
    )
    assert any(line.startswith("skipped") and off["id"] in line for line in lines)
    assert lines[-1] == "1 extended, 1 skipped, 1 failed"
    outcomes = {(e["dataSourceId"], e["outcome"]) for e in read_audit(default_audit_file)}
    assert outcomes == {(good["id"], "success"), (bad["id"], "failure")}


def test_extend_all_within_a_window_json(httpserver: HTTPServer, run_cli: RunCli) -> None:
    soon = data_source_payload(expires_in=2 * 3600)
    later = data_source_payload(expires_in=20 * 3600)
    _serve_bulk(httpserver, [soon, later], failing=set())
    result = run_cli(["extend", "--all", "--if-expiring-within", "6h", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    outcomes = {r["id"]: r["outcome"] for r in report["results"]}
    assert outcomes == {soon["id"]: "extended", later["id"]: "skipped"}
    assert report["summary"] == {"extended": 1, "skipped": 1, "failed": 0}
    puts = [r.path for r, _ in httpserver.log if r.method == "PUT"]
    assert puts == [f"/v1/dataSources/{soon['id']}"]


def test_disable_sends_reason_as_error_message(httpserver: HTTPServer, run_cli: RunCli) -> None:
    current = data_source_payload(id=DS_ID)
    httpserver.expect_ordered_request(ITEM, method="GET").respond_with_json(current)
    httpserver.expect_ordered_request(ITEM, method="PUT").respond_with_json(
        data_source_payload(id=DS_ID, status="disabled", error_message="Down for upgrade")
    )
    result = run_cli(["disable", DS_ID, "--reason", "Down for upgrade"])
    assert result.exit_code == 0, result.output
    body = sent_json(httpserver, 1)
    body.pop("nonce")
    assert body == put_body_from(current, status="disabled", errorMessage="Down for upgrade")


def test_enable(httpserver: HTTPServer, run_cli: RunCli) -> None:
    current = data_source_payload(id=DS_ID, status="disabled", error_message="x")
    httpserver.expect_ordered_request(ITEM, method="GET").respond_with_json(current)
    httpserver.expect_ordered_request(ITEM, method="PUT").respond_with_json(
        data_source_payload(id=DS_ID)
    )
    result = run_cli(["enable", DS_ID, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "active"
    body = sent_json(httpserver, 1)
    assert body["status"] == "active" and "errorMessage" not in body


def test_delete_requires_yes_without_a_terminal(httpserver: HTTPServer, run_cli: RunCli) -> None:
    result = run_cli(["delete", DS_ID])
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert httpserver.log == []


def test_delete_with_yes(httpserver: HTTPServer, run_cli: RunCli) -> None:
    httpserver.expect_request(ITEM, method="DELETE", headers=AUTH).respond_with_data("", status=204)
    result = run_cli(["delete", DS_ID, "--yes", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"id": DS_ID, "deleted": True}


@pytest.mark.usefixtures("assume_tty")
def test_delete_asks_on_a_terminal(httpserver: HTTPServer, run_cli: RunCli) -> None:
    httpserver.expect_request(ITEM, method="DELETE").respond_with_data("", status=204)
    declined = run_cli(["delete", DS_ID], input="n\n")
    assert declined.exit_code == 1
    assert httpserver.log == []
    accepted = run_cli(["delete", DS_ID], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert [r.method for r, _ in httpserver.log] == ["DELETE"]


def test_delete_404(httpserver: HTTPServer, run_cli: RunCli) -> None:
    httpserver.expect_request(ITEM, method="DELETE").respond_with_json(
        {"message": "not found", "trackingId": "ROUTER_X"}, status=404
    )
    result = run_cli(["delete", DS_ID, "--yes"])
    assert result.exit_code == 1
    assert "Data source ID not found" in result.stderr


def test_secrets_never_reach_output_or_audit(
    httpserver: HTTPServer, run_cli: RunCli, default_audit_file: Path
) -> None:
    """Run every changing command; neither the API token nor any JWS may leak."""
    current = data_source_payload(id=DS_ID)
    jws_values = [current["jwsToken"]]
    httpserver.expect_request(ITEM, method="GET").respond_with_json(current)
    httpserver.expect_request(ITEM, method="PUT").respond_with_json(current)
    httpserver.expect_request(ITEM, method="DELETE").respond_with_data("", status=204)
    httpserver.expect_request("/v1/dataSources", method="POST").respond_with_json(current)
    httpserver.expect_request("/v1/dataSources/").respond_with_json({"items": [current]})
    httpserver.expect_request("/v1/dataSources/schemas").respond_with_json({"items": []})
    commands = [
        [
            "-v",
            "register",
            "--url",
            "https://a.example",
            "--schema-id",
            SCHEMA_ID,
            "--audience",
            "a",
            "--subject",
            "s",
        ],
        ["-v", "update", DS_ID, "--audience", "b"],
        ["-v", "extend", DS_ID],
        ["-v", "extend", "--all", "--json"],
        ["-v", "disable", DS_ID, "--reason", "r"],
        ["-v", "enable", DS_ID, "--json"],
        ["-v", "show", DS_ID],
        ["-v", "show", DS_ID, "--json"],
        ["-v", "list"],
        ["-v", "list", "--json"],
        ["-v", "delete", DS_ID, "--yes"],
    ]
    outputs = []
    for command in commands:
        result = run_cli(command)
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.output)
    audit_text = default_audit_file.read_text()
    assert len(audit_text.splitlines()) == 7
    for text in [*outputs, audit_text]:
        assert API_TOKEN not in text
        for jws in jws_values:
            assert jws not in text
            assert jws.split(".")[1] not in text  # not even the claims segment


def test_audit_log_option_is_used(httpserver: HTTPServer, run_cli: RunCli, tmp_path: Path) -> None:
    httpserver.expect_request(ITEM, method="DELETE").respond_with_data("", status=204)
    target = tmp_path / "elsewhere" / "trail.jsonl"
    assert run_cli(["--audit-log", str(target), "delete", DS_ID, "--yes"]).exit_code == 0
    assert read_audit(target)[0]["operation"] == "delete"


def test_401_with_a_static_token_exits_3(httpserver: HTTPServer, run_cli: RunCli) -> None:
    httpserver.expect_request("/v1/dataSources/").respond_with_json(
        {"message": "The request requires a valid access token set in the Authorization header."},
        status=401,
    )
    result = run_cli(["list"])
    assert result.exit_code == 3
    assert "WEBEX_SERVICE_APP_ACCESS_TOKEN" in result.stderr
    assert "byods auth setup" in result.stderr
    assert "Traceback" not in result.output


def test_429_is_waited_out_with_a_visible_note(httpserver: HTTPServer, run_cli: RunCli) -> None:
    httpserver.expect_ordered_request("/v1/dataSources/").respond_with_json(
        {"message": "Too many requests"}, status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/v1/dataSources/").respond_with_json({"items": []})
    result = run_cli(["-v", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert "rate limited, waiting 1s" in result.stderr
    assert len(httpserver.log) == 2


def test_extend_all_skips_a_disabled_source_that_the_thin_list_does_not_show(
    httpserver: HTTPServer, run_cli: RunCli, default_audit_file: Path
) -> None:
    """Real list items carry no status: "disabled" is only known from the item's GET."""
    active = data_source_payload(expires_in=3600)
    off = data_source_payload(status="disabled", error_message="paused", expires_in=3600)
    thin_keys = data_source_payload(thin=True).keys()
    thin_items = [{key: full[key] for key in thin_keys} for full in (active, off)]
    assert all("status" not in item for item in thin_items)
    httpserver.expect_request("/v1/dataSources/", method="GET").respond_with_json(
        {"items": thin_items}
    )
    for full in (active, off):
        path = f"/v1/dataSources/{full['id']}"
        httpserver.expect_request(path, method="GET").respond_with_json(full)
        httpserver.expect_request(path, method="PUT").respond_with_json(full)

    result = run_cli(["extend", "--all"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"skipped   {off['id']}  (disabled)" in lines
    assert any(line.startswith("extended") and active["id"] in line for line in lines)
    assert lines[-1] == "1 extended, 1 skipped, 0 failed"
    # the list comes first; the items are then worked concurrently, in any order
    sent = [(r.method, r.path) for r, _ in httpserver.log]
    assert sent[0] == ("GET", "/v1/dataSources/")
    assert sorted(sent[1:]) == sorted(
        [
            ("GET", f"/v1/dataSources/{active['id']}"),
            ("PUT", f"/v1/dataSources/{active['id']}"),
            ("GET", f"/v1/dataSources/{off['id']}"),
        ]
    )
    outcomes = [(e["dataSourceId"], e["outcome"]) for e in read_audit(default_audit_file)]
    assert outcomes == [(active["id"], "success")]
