"""``make demo``: byods-manager doing its main job against the local Webex sandbox.

Everything runs the way a user would run it: ``byods sandbox`` in the background, then
one ``byods`` command per step in a subprocess, with ``BYODS_CONFIG`` and
``WEBEX_API_BASE_URL`` pointing at the sandbox and private, throw-away user dirs. The
OAuth wizard runs with ``--no-browser``; this script plays the browser (the sandbox
approves at once). Exit 0 only if every step succeeded.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import ConfigError
from .fileio import read_json

COMMAND_TIMEOUT = 90.0
DEMO_SCHEMA = "5397013b-7920-4ffc-807c-e8a3e0a18f43"  # voice virtual agent over gRPC


class StepFailed(Exception):
    """A step did not do what it should; the message says what happened."""


def byods_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "byods_manager", *args]


def show_command(args: tuple[str, ...]) -> str:
    return "$ byods " + shlex.join(args)


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Demo:
    workdir: Path
    out: IO[str] = field(default_factory=lambda: sys.stdout)
    inject_fault_before: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    admin_url: str = ""
    admin_token: str = field(default="", repr=False)
    config: Path = Path()
    data_source_id: str = ""
    sandbox: subprocess.Popen[str] | None = None
    sandbox_log: IO[str] | None = None

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    # -- environment and sandbox ----------------------------------------------------------

    def prepare_environment(self) -> None:
        """A clean environment: no real credentials, user dirs inside the work dir."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBEX_", "BYODS_"))}
        home = self.workdir / "home"
        for name, sub in (
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_STATE_HOME", "state"),
            ("XDG_CACHE_HOME", "cache"),
            ("XDG_DATA_HOME", "data"),
        ):
            (home / sub).mkdir(parents=True, exist_ok=True)
            env[name] = str(home / sub)
        env["HOME"] = str(home)
        env["PYTHONUNBUFFERED"] = "1"
        self.env = env

    def start_sandbox(self) -> str:
        self.config = self.workdir / "token-config.json"
        args = ("sandbox", "--json", "--quiet", "--config-out", str(self.config))
        self.say(show_command(args) + " &")
        self.sandbox_log = (self.workdir / "sandbox.log").open("w")
        self.sandbox = subprocess.Popen(
            byods_command(*args),
            stdout=subprocess.PIPE,
            stderr=self.sandbox_log,
            text=True,
            env=self.env,
        )
        assert self.sandbox.stdout is not None
        line = self.sandbox.stdout.readline()
        try:
            info = json.loads(line)
        except ValueError:
            log = (self.workdir / "sandbox.log").read_text()
            raise StepFailed(f"the sandbox did not start: {line or log}".strip()) from None
        self.base_url = info["baseUrl"]
        self.admin_url = info["adminUrl"]
        self.admin_token = info["adminToken"]
        self.env["BYODS_CONFIG"] = str(self.config)
        self.env["WEBEX_API_BASE_URL"] = self.base_url
        return (
            f"listening on {self.base_url}; config written to {self.config}\n"
            f"export BYODS_CONFIG={self.config}\n"
            f"export WEBEX_API_BASE_URL={self.base_url}"
        )

    def stop_sandbox(self) -> str:
        try:
            return self._stop_sandbox_process()
        finally:
            if self.sandbox_log is not None:
                self.sandbox_log.close()
                self.sandbox_log = None

    def _stop_sandbox_process(self) -> str:
        if self.sandbox is None:
            return "not running"
        process, self.sandbox = self.sandbox, None
        self.say(f"$ kill -INT {process.pid}   # Ctrl-C")
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise StepFailed("the sandbox did not stop on Ctrl-C; killed it") from None
        if process.stdout is not None:
            process.stdout.close()
        if process.returncode != 0:
            raise StepFailed(f"the sandbox exited with code {process.returncode}")
        return "stopped (exit code 0)"

    def inject_fault(self) -> None:
        """For the failure-path test: make every API call fail from now on."""
        body = json.dumps({"status": 500, "count": 1000}).encode()
        request = urllib.request.Request(  # noqa: S310 - the loopback sandbox
            self.admin_url + "/faults",
            data=body,
            headers={"Content-Type": "application/json", "X-Sandbox-Token": self.admin_token},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback sandbox
            pass

    # -- running byods --------------------------------------------------------------------

    def run(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        """Run one byods command, echo it and its output, fail on a non-zero exit."""
        self.say(show_command(args))
        result = subprocess.run(
            byods_command(*args),
            capture_output=True,
            text=True,
            env={**self.env, **(extra_env or {})},
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        shown = result.stdout if result.stdout.strip() else result.stderr
        if shown.strip():
            self.say(indent(shown))
        if result.returncode != 0:
            if result.stderr.strip() and shown is not result.stderr:
                self.say(indent(result.stderr))
            raise StepFailed(f"`byods {args[0]}` exited with code {result.returncode}")
        return result.stdout

    # -- the steps ------------------------------------------------------------------------

    def token_status(self) -> None:
        self.run("token", "status")

    def schemas(self) -> None:
        output = self.run("schemas", "list")
        if DEMO_SCHEMA not in output:
            raise StepFailed(f"schema {DEMO_SCHEMA} is not in the list")

    def register(self) -> None:
        output = self.run(
            "register",
            "--url",
            "https://dap.example.com/byova",
            "--schema-id",
            DEMO_SCHEMA,
            "--audience",
            "ByodsDemo",
            "--subject",
            "callAudioData",
            "--lifetime-minutes",
            "60",
            "--json",
        )
        try:
            created: dict[str, Any] = json.loads(output)
        except ValueError:
            raise StepFailed("register --json did not print JSON") from None
        self.data_source_id = str(created.get("id") or "")
        if not self.data_source_id:
            raise StepFailed("register --json printed no id")

    def list(self) -> None:
        if self.data_source_id not in self.run("list"):
            raise StepFailed("the new data source is not listed")

    def show(self) -> None:
        output = self.run("show", self.data_source_id)
        if "com.cisco.datasource.url" not in output:
            raise StepFailed("show did not print the decoded JWS claims")

    def extend(self) -> None:
        self.run("extend", self.data_source_id)

    def disable(self) -> None:
        self.run("disable", self.data_source_id, "--reason", "Scheduled maintenance (demo)")

    def enable(self) -> None:
        self.run("enable", self.data_source_id)

    def token_refresh(self) -> None:
        self.run("token", "refresh", "--force")

    def auth_setup(self) -> None:
        """The OAuth wizard with --no-browser; this script opens the URL it prints."""
        manager = read_json(self.config, what="sandbox config")["tokenManager"]
        redirect = f"http://127.0.0.1:{free_port()}/callback"
        args = (
            "auth",
            "setup",
            "--no-browser",
            "--force",
            "--client-id",
            manager["oauthClientId"],
            "--redirect-uri",
            redirect,
            "--timeout",
            "60",
        )
        self.say(show_command(args) + "   # client secret via $BYODS_OAUTH_CLIENT_SECRET")
        process = subprocess.Popen(
            byods_command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**self.env, "BYODS_OAUTH_CLIENT_SECRET": manager["oauthClientSecret"]},
        )
        lines: list[str] = []
        url_seen = threading.Event()
        found: list[str] = []

        def read_output() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                stripped = line.strip()
                if not found and stripped.startswith("http") and "/authorize?" in stripped:
                    found.append(stripped)
                    url_seen.set()

        reader = threading.Thread(target=read_output, daemon=True)
        reader.start()
        try:
            if not url_seen.wait(COMMAND_TIMEOUT) or not found:
                raise StepFailed("the wizard did not print a sign-in URL")
            self.say("    (the demo opens the sign-in URL as a browser would)")
            self.open_like_a_browser(found[0])
            process.wait(timeout=COMMAND_TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(timeout=5)
            if process.stdout is not None:
                process.stdout.close()
        self.say(indent("".join(lines)))
        if process.returncode != 0:
            raise StepFailed(f"`byods auth setup` exited with code {process.returncode}")

    def open_like_a_browser(self, url: str) -> None:
        if not url.startswith(self.base_url + "/"):
            raise StepFailed(f"the sign-in URL does not point at the sandbox: {url}")
        try:
            with urllib.request.urlopen(url, timeout=30):  # noqa: S310 - loopback only
                pass
        except urllib.error.HTTPError as exc:
            raise StepFailed(f"the redirect chain ended in HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise StepFailed(f"could not follow the sign-in redirect: {exc.reason}") from None

    def delete(self) -> None:
        self.run("delete", self.data_source_id, "--yes")
        remaining = json.loads(self.run("list", "--json") or "[]")
        if any(item.get("id") == self.data_source_id for item in remaining):
            raise StepFailed("the data source is still listed after delete")


# What a failing step raises (read_json reports an unreadable config as a ConfigError).
STEP_ERRORS = (StepFailed, subprocess.TimeoutExpired, OSError, ValueError, ConfigError)

# The steps between starting and stopping the sandbox: key (for --inject-fault-before),
# title, action.
STEPS: tuple[tuple[str, str, Callable[[Demo], None]], ...] = (
    ("token-status", "Token status (which refresh tiers are configured)", Demo.token_status),
    ("schemas", "Schemas Webex publishes", Demo.schemas),
    ("register", "Register a data source", Demo.register),
    ("list", "List data sources", Demo.list),
    ("show", "Show it, with the decoded JWS", Demo.show),
    ("extend", "Extend it (fresh nonce, new JWS)", Demo.extend),
    ("disable", "Disable it with a reason", Demo.disable),
    ("enable", "Enable it again", Demo.enable),
    ("token-refresh", "Refresh the service-app token by hand", Demo.token_refresh),
    ("auth-setup", "OAuth wizard, non-interactively", Demo.auth_setup),
    ("delete", "Delete the data source", Demo.delete),
)
STEP_KEYS = tuple(key for key, _, _ in STEPS)


def run_demo(workdir: Path, out: IO[str], inject_fault_before: str | None = None) -> int:
    demo = Demo(workdir, out, inject_fault_before)
    demo.prepare_environment()
    total = len(STEPS) + 2
    demo.say("byods-manager demo: the main job against a local Webex sandbox")
    demo.say("(no Webex account, no credentials, nothing leaves this machine)")
    failed: str | None = None
    try:
        demo.say(f"\n== Step 1/{total}: Start the Webex sandbox ==")
        try:
            demo.say(indent(demo.start_sandbox()))
        except StepFailed as exc:
            failed = f"Step 1/{total} (Start the Webex sandbox): {exc}"
        for number, (key, title, action) in enumerate(STEPS, start=2):
            if failed:
                break
            demo.say(f"\n== Step {number}/{total}: {title} ==")
            if key == inject_fault_before:
                demo.inject_fault()
            try:
                action(demo)
            except STEP_ERRORS as exc:
                failed = f"Step {number}/{total} ({title}): {exc}"
    finally:
        demo.say(f"\n== Step {total}/{total}: Stop the sandbox ==")
        try:
            demo.say(indent(demo.stop_sandbox()))
        except StepFailed as exc:
            failed = failed or f"Step {total}/{total} (Stop the sandbox): {exc}"
    if failed:
        demo.say(f"\nDEMO FAILED at {failed}")
        return 1
    demo.say(f"\nDemo complete: all {total} steps succeeded.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m byods_manager.demo", description=__doc__)
    parser.add_argument(
        "--inject-fault-before",
        choices=STEP_KEYS,
        help="(for testing the demo) make every API call fail from this step on",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="byods-demo-") as workdir:
        return run_demo(Path(workdir), sys.stdout, args.inject_fault_before)


if __name__ == "__main__":
    sys.exit(main())
