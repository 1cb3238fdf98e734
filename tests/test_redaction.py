"""Every secret the process knows is redacted from whatever it prints or records, even
when the text comes from a server that echoes the request back."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from byods_manager.secrets import forget_all_secrets, remember_secret, scrub_text
from tests.fixtures_core import API_TOKEN
from tests.fixtures_tokens import SEED_REFRESH, assert_no_secrets

RunCli = Callable[..., Result]
DS_ID = "9a1f3c5e-7b2d-4e6f-8a0c-1d3e5f7a9b2c"


def echo_everything(request: Request) -> Response:
    """A server that quotes the whole request (headers, form, JSON body) in its error."""
    echoed = {
        "authorization": request.headers.get("Authorization"),
        "form": dict(request.form),
        "body": request.get_data(as_text=True),
    }
    text = json.dumps(echoed)
    return Response(
        json.dumps({"message": f"bad request: {text}", "errors": [{"description": text}]}),
        status=400,
        content_type="application/json",
    )


@pytest.fixture(autouse=True)
def fresh_registry() -> None:
    forget_all_secrets()


def test_token_refresh_errors_echoing_secrets_are_redacted(
    httpserver: HTTPServer,
    tokens_config: Callable[..., Path],
    tokens_store: Path,
    run_cli: RunCli,
) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_handler(echo_everything)
    config = tokens_config(seed_refresh=SEED_REFRESH, integration=True)
    base = httpserver.url_for("/").rstrip("/")
    result = run_cli(["--config", str(config), "--base-url", base, "token", "refresh"])
    assert result.exit_code != 0
    assert "bad request" in result.stderr  # the server's text is shown...
    assert_no_secrets(result.output)  # ...without any secret in it


def test_api_errors_echoing_the_bearer_are_redacted_in_output_and_audit(
    httpserver: HTTPServer, cli_env: str, run_cli: RunCli, tmp_path: Path
) -> None:
    httpserver.expect_request(f"/v1/dataSources/{DS_ID}").respond_with_handler(echo_everything)
    audit = tmp_path / "audit.jsonl"
    result = run_cli(["--audit-log", str(audit), "disable", DS_ID, "--reason", "maintenance"])
    assert result.exit_code == 1
    assert "bad request" in result.stderr
    assert API_TOKEN not in result.output
    assert API_TOKEN[:6] in result.output  # a short prefix is what is shown


def test_scrub_text_replaces_every_registered_secret_longest_first() -> None:
    remember_secret("abcdefgh12345678", "abcdefgh12345678-longer-one", None, "short")
    text = "a=abcdefgh12345678-longer-one b=abcdefgh12345678 c=short"
    scrubbed = scrub_text(text)
    assert "12345678" not in scrubbed
    assert "longer-one" not in scrubbed
    assert "c=short" in scrubbed


def test_log_records_are_scrubbed_by_the_redacting_filter() -> None:
    import logging

    from byods_manager.secrets import RedactingFilter

    remember_secret("log-secret-value-0001")
    record = logging.LogRecord(
        "x", logging.DEBUG, __file__, 1, "sent %s", ("log-secret-value-0001",), None
    )
    assert RedactingFilter().filter(record)
    assert "log-secret-value-0001" not in record.getMessage()
    assert "sent log-se" in record.getMessage()
