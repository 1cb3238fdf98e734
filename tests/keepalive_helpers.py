"""Helpers for the keepalive tests: a sandbox org with data sources, and a running
`byods keepalive` process whose stderr is read line by line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from byods_manager.auth import StaticTokenProvider
from byods_manager.client import DataSourceClient
from byods_manager.http import HttpClient
from byods_manager.models import DataSource
from byods_manager.sandbox import Sandbox

WAIT_SECONDS = 20.0


def sandbox_client(sandbox: Sandbox) -> DataSourceClient:
    token = sandbox.issue_access_token("service_app")
    return DataSourceClient(HttpClient(sandbox.base_url, StaticTokenProvider(token)))


def register_data_sources(sandbox: Sandbox, count: int, lifetime_minutes: int) -> list[str]:
    client = sandbox_client(sandbox)
    try:
        schema_id = client.list_schemas()[0].id
        return [
            client.register(
                url=f"https://dap.example.com/ingest/{index}",
                schema_id=schema_id,
                audience="KeepaliveTest",
                subject=f"subject{index}",
                lifetime_minutes=lifetime_minutes,
            ).id
            for index in range(count)
        ]
    finally:
        client.close()


def data_sources_by_id(sandbox: Sandbox) -> dict[str, DataSource]:
    return {item["id"]: DataSource.from_api(item) for item in sandbox.data_sources()}


def keepalive_env(sandbox: Sandbox, config: Path, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BYODS_CONFIG=str(config),
        WEBEX_API_BASE_URL=sandbox.base_url,
        BYODS_AUDIT_LOG=str(tmp_path / "audit.jsonl"),
    )
    return env


def run_once(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "byods_manager", "keepalive", "--once", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class KeepaliveProcess:
    """`byods keepalive` (service mode) on a free port; stop() sends SIGTERM."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "byods_manager", "keepalive", "--listen", "127.0.0.1:0", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        line = wait_for(lambda: self.find("listening"), "the listener to start")
        self.origin = "http://" + line.split("address=", 1)[1].split()[0]

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def find(self, event: str) -> str | None:
        return next((line for line in self.lines if f" {event}" in line), None)

    def count(self, event: str) -> int:
        return sum(1 for line in self.lines if f" {event} " in line + " ")

    def get(self, path: str) -> requests.Response:
        return requests.get(self.origin + path, timeout=5)

    def metrics(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        """Sample name -> [(labels, value)] from the real /metrics endpoint."""
        samples: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(self.get("/metrics").text):
            samples.setdefault(family.name, [])
            for sample in family.samples:
                samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
        return samples

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=15)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


def puts_outside_their_window(
    extensions: dict[str, list[dict[str, float]]], renew_before: float
) -> list[tuple[str, dict[str, float]]]:
    """The sandbox's PUTs (``Sandbox.extensions()``) that did not fall inside the renewal
    window of the token they replaced: made before it opened (``renew_before`` plus the
    largest jitter, 10 %, ahead of the expiry: a second extension in one window) or after
    the token had expired (a window missed)."""
    earliest = renew_before * 1.1
    return [
        (ds_id, put)
        for ds_id, puts in extensions.items()
        for put in puts
        if not put["replacedExpiry"] - earliest <= put["at"] < put["replacedExpiry"]
    ]


def byods(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """One `byods` command in a process of its own with ``env`` (output captured)."""
    return subprocess.run(
        [sys.executable, "-m", "byods_manager", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
