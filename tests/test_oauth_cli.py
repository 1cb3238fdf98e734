"""`byods auth setup` and `python setup_oauth.py` end to end over loopback HTTP."""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from byods_manager.sandbox import Sandbox
from tests.fixtures_oauth import (
    APP_ID,
    INTEGRATION_CLIENT_ID,
    INTEGRATION_CLIENT_SECRET,
    Browser,
    FakeWebex,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
MINT = f"POST /v1/applications/{APP_ID}/token"
WriteConfig = Callable[..., Path]
RunCli = Callable[..., Result]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """The person's browser, opened by the wizard through the real `webbrowser.open` call."""
    person = Browser()
    monkeypatch.setattr("webbrowser.open", person.open_in_background)
    yield person
    person.join()


def files_containing(root: Path, secrets: set[str]) -> set[Path]:
    found = set()
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes().decode("utf-8", "replace")
            if any(secret in content for secret in secrets):
                found.add(path)
    return found


def sandbox_tokens(sandbox: Sandbox) -> set[str]:
    with sandbox.state.lock:
        return set(sandbox.state.access_tokens) | set(sandbox.state.refresh_tokens)


def integration_setup(
    config: Path, base_url: str, redirect_uri: str, *extra: str, secret: bool = True
) -> list[str]:
    """`byods auth setup` with the test integration's credentials."""
    args = ["--config", str(config), "--base-url", base_url, "auth", "setup"]
    args += ["--client-id", INTEGRATION_CLIENT_ID]
    if secret:
        args += ["--client-secret", INTEGRATION_CLIENT_SECRET]
    return [*args, "--redirect-uri", redirect_uri, *extra]


def test_browser_flow_end_to_end_then_byods_list_works(
    sandbox: Sandbox,
    browser: Browser,
    tmp_path: Path,
    isolated_home: Path,
    free_port: int,
    run_cli: RunCli,
) -> None:
    ident = sandbox.state.identity
    config = tmp_path / "token-config.json"
    service_app = sandbox.config_data()["serviceApp"]
    config.write_text(json.dumps({"_comment": "keep this", "serviceApp": service_app}))
    config.chmod(0o644)
    base = ["--config", str(config), "--base-url", sandbox.base_url]

    result = run_cli(
        [
            *base,
            "auth",
            "setup",
            "--client-id",
            ident.integration_client_id,
            "--client-secret",
            ident.integration_client_secret,
            "--redirect-uri",
            f"http://127.0.0.1:{free_port}/callback",
            "--timeout",
            "10",
            "--json",
        ]
    )
    browser.join()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["tier"], summary["method"], summary["credential"]) == (
        4,
        "browser-flow",
        "integration",
    )
    assert summary["serviceAppToken"]["expiresAt"]
    assert browser.pages[-1].status == 200
    assert "close this tab" in browser.pages[-1].text

    saved = json.loads(config.read_text())
    assert saved["_comment"] == "keep this"
    assert saved["serviceApp"] == service_app
    assert saved["tokenManager"]["oauthClientId"] == ident.integration_client_id
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    requests_before = sandbox.stats_snapshot()["requests"]

    listing = run_cli([*base, "list", "--json"])
    assert listing.exit_code == 0, listing.output
    assert json.loads(listing.stdout) == []
    requests_after = sandbox.stats_snapshot()["requests"]
    # The list used the minted service-app token kept by the wizard: no token request.
    assert {k: v for k, v in requests_after.items() if "token" in k} == {
        k: v for k, v in requests_before.items() if "token" in k
    }

    tokens = sandbox_tokens(sandbox)
    everything = result.output + listing.output
    assert not any(token in everything for token in tokens)
    from byods_manager.tokens.store import default_store_path

    allowed = {config, default_store_path()}
    assert files_containing(tmp_path, tokens) <= allowed
    assert default_store_path() in files_containing(tmp_path, tokens)
    assert stat.S_IMODE(default_store_path().stat().st_mode) == 0o600


def test_cascade_stops_at_a_working_personal_token(
    fake_webex: FakeWebex, write_config: WriteConfig, run_cli: RunCli
) -> None:
    pat = fake_webex.new_personal_token()
    config = write_config({"personalAccessToken": pat})
    result = run_cli(["--config", str(config), "--base-url", fake_webex.base_url, "auth", "setup"])
    assert result.exit_code == 0, result.output
    assert "step 1" in result.stdout
    assert fake_webex.calls() == [MINT]
    assert pat not in result.output
    assert pat[:6] in result.output


def test_without_a_terminal_missing_answers_exit_2(
    fake_webex: FakeWebex, write_config: WriteConfig, run_cli: RunCli
) -> None:
    config = write_config({"personalAccessToken": "personal-expired"})
    result = run_cli(["--config", str(config), "--base-url", fake_webex.base_url, "auth", "setup"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("Error: no working credentials")
    assert "--personal-token" in result.stderr
    assert "Traceback" not in result.output


def test_access_denied_exits_1_with_a_clear_message(
    fake_webex: FakeWebex,
    write_config: WriteConfig,
    browser: Browser,
    free_port: int,
    run_cli: RunCli,
) -> None:
    fake_webex.authorize_mode = "deny"
    config = write_config({})
    result = run_cli(
        integration_setup(
            config, fake_webex.base_url, f"http://127.0.0.1:{free_port}/callback", "--timeout", "10"
        ),
    )
    assert result.exit_code == 1
    assert "access_denied" in result.stderr
    assert json.loads(config.read_text()) == {
        "serviceApp": json.loads(config.read_text())["serviceApp"],
        "tokenManager": {},
    }


def test_timeout_exits_1(
    fake_webex: FakeWebex, write_config: WriteConfig, free_port: int, run_cli: RunCli
) -> None:
    config = write_config({})
    result = run_cli(
        integration_setup(
            config,
            fake_webex.base_url,
            f"http://127.0.0.1:{free_port}/callback",
            "--no-browser",
            "--timeout",
            "1",
        ),
        input=None,
    )
    assert result.exit_code == 1
    assert "within 1s" in result.stderr
    assert "/authorize?" in result.stderr  # the URL was printed for the person


def test_client_secret_from_the_environment(
    fake_webex: FakeWebex,
    write_config: WriteConfig,
    browser: Browser,
    free_port: int,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: RunCli,
) -> None:
    monkeypatch.setenv("BYODS_OAUTH_CLIENT_SECRET", INTEGRATION_CLIENT_SECRET)
    config = write_config({})
    result = run_cli(
        integration_setup(
            config,
            fake_webex.base_url,
            f"http://127.0.0.1:{free_port}/callback",
            "--timeout",
            "10",
            secret=False,
        )
    )
    browser.join()
    assert result.exit_code == 0, result.output
    assert INTEGRATION_CLIENT_SECRET not in result.output
    saved = json.loads(config.read_text())["tokenManager"]
    assert saved["oauthClientSecret"] == INTEGRATION_CLIENT_SECRET


def test_port_in_use_without_a_terminal_explains_instead_of_hanging(
    fake_webex: FakeWebex, write_config: WriteConfig, free_port: int, run_cli: RunCli
) -> None:
    config = write_config({})
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", free_port))
        squatter.listen()
        result = run_cli(
            integration_setup(
                config,
                fake_webex.base_url,
                f"http://127.0.0.1:{free_port}/callback",
                "--no-browser",
            )
        )
    assert result.exit_code == 2
    assert "already in use" in result.stderr
    assert fake_webex.calls() == []


def test_interactive_personal_token_is_asked_hidden_and_never_echoed(
    fake_webex: FakeWebex,
    write_config: WriteConfig,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: RunCli,
) -> None:
    monkeypatch.setenv("BYODS_ASSUME_TTY", "1")
    pat = fake_webex.new_personal_token()
    config = write_config({})
    result = run_cli(
        ["--config", str(config), "--base-url", fake_webex.base_url, "auth", "setup", "--json"],
        input=f"2\n{pat}\n",
    )
    assert result.exit_code == 0, result.output
    assert pat not in result.output
    assert "12 hours" in result.stderr
    assert json.loads(result.stdout)["method"] == "personal-token"
    assert json.loads(config.read_text())["tokenManager"] == {"personalAccessToken": pat}


def test_interactive_paste_path_when_the_port_is_taken(
    fake_webex: FakeWebex,
    write_config: WriteConfig,
    free_port: int,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: RunCli,
) -> None:
    """The person pastes the redirected URL; its state is checked like the callback's."""
    monkeypatch.setenv("BYODS_ASSUME_TTY", "1")
    config = write_config({})
    person = Browser()
    pasted: list[str] = []

    def open_and_copy_address(url: str) -> bool:
        pasted.append(person.redirect_for(url))
        return True

    monkeypatch.setattr("webbrowser.open", open_and_copy_address)
    redirect_uri = f"http://127.0.0.1:{free_port}/callback"

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", free_port))
        squatter.listen()
        result = run_cli(
            integration_setup(config, fake_webex.base_url, redirect_uri),
            input=LateInput(lambda: pasted[-1] + "\n"),
        )
    assert result.exit_code == 0, result.output
    assert "already in use" in result.stderr
    assert json.loads(config.read_text())["tokenManager"]["oauthClientId"] == INTEGRATION_CLIENT_ID


class LateInput(io.RawIOBase):
    """stdin whose content exists only once it is read: the URL the browser landed on."""

    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce
        self._data: bytes | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if len(buffer) == 0:
            return 0
        if self._data is None:
            self._data = self._produce().encode()
        chunk, self._data = self._data[: len(buffer)], self._data[len(buffer) :]
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_setup_oauth_script_is_the_same_program(
    fake_webex: FakeWebex, write_config: WriteConfig, tmp_path: Path
) -> None:
    pat = fake_webex.new_personal_token()
    config = write_config({"note": "x"})
    env = dict(os.environ)
    completed = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "setup_oauth.py"),
            "--config",
            str(config),
            "--base-url",
            fake_webex.base_url,
            "--personal-token",
            pat,
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 0, completed.stderr
    summary: dict[str, Any] = json.loads(completed.stdout)
    assert summary["method"] == "personal-token"
    assert pat not in completed.stdout + completed.stderr
    assert json.loads(config.read_text())["tokenManager"] == {
        "note": "x",
        "personalAccessToken": pat,
    }
    assert fake_webex.calls() == [MINT]


def test_setup_oauth_script_help_and_errors() -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "setup_oauth.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0
    assert "--redirect-uri" in completed.stdout
    assert "--config" in completed.stdout
