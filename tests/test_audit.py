"""The audit trail: JSON lines, 0600, UTC times, never a token."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

from byods_manager.audit import AuditLog, scrub
from byods_manager.paths import state_dir
from tests.fixtures_core import make_jws


def test_default_location_is_the_user_state_dir(isolated_home: Path) -> None:
    log = AuditLog.open(None)
    assert log.path == state_dir() / "audit.jsonl"
    assert str(log.path).startswith(str(isolated_home))
    assert not log.path.exists()  # nothing is created until something happens


def test_records_are_json_lines_with_utc_time(tmp_path: Path) -> None:
    log = AuditLog.open(tmp_path / "deep" / "audit.jsonl")
    log.record("extend", "ds-1", "success", tracking_id="ROUTER_1", tokenLifetimeMinutes=60)
    log.record("delete", "ds-2", "failure", error="HTTP 500: boom")
    lines = log.path.read_text().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["operation"] == "extend"
    assert first["dataSourceId"] == "ds-1"
    assert first["trackingId"] == "ROUTER_1"
    assert first["tokenLifetimeMinutes"] == 60
    assert datetime.fromisoformat(first["time"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert (second["outcome"], second["error"]) == ("failure", "HTTP 500: boom")
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


def test_credential_fields_and_jws_values_never_land_in_the_file(tmp_path: Path) -> None:
    jws = make_jws({"aud": "a", "exp": 1})
    log = AuditLog.open(tmp_path / "audit.jsonl")
    log.record(
        "register",
        "ds-1",
        "failure",
        error=f"server echoed {jws} back",
        jwsToken=jws,
        access_token="secret-access",
        clientSecret="secret-client",
        note=f"see {jws}",
        nested={"refreshToken": "secret-refresh", "ok": jws},
    )
    text = log.path.read_text()
    for secret in (jws, jws.split(".")[1], "secret-access", "secret-client", "secret-refresh"):
        assert secret not in text
    entry = json.loads(text)
    assert "jwsToken" not in entry and "clientSecret" not in entry
    assert entry["note"].startswith("see eyJ")
    assert entry["nested"] == {"ok": entry["nested"]["ok"]}


def test_scrub_leaves_ordinary_text_alone() -> None:
    assert scrub({"url": "https://a.example/x.y.z", "n": 3}) == {
        "url": "https://a.example/x.y.z",
        "n": 3,
    }


def test_unwritable_log_does_not_break_the_operation(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    log = AuditLog.open(blocker / "audit.jsonl")  # parent is a file: cannot be created
    entry = log.record("enable", "ds-1", "success")
    assert entry["operation"] == "enable"
    assert log.read() == []
