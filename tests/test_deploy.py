"""The deployment files in deploy/ parse, and every command they run is a valid
`byods keepalive` command line; the systemd --once unit's command is run for real."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from byods_manager.cli.main import cli
from byods_manager.sandbox import Sandbox
from tests.keepalive_helpers import keepalive_env, register_data_sources

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: section -> key -> every value given (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        header = re.fullmatch(r"\[([A-Za-z]+)\]", line)
        if header:
            current = sections.setdefault(header.group(1), {})
            continue
        assert current is not None, f"{path.name}: {line!r} before any section"
        key, separator, value = line.partition("=")
        assert separator, f"{path.name}: not key=value: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def parse_byods_args(args: list[str]) -> click.Context:
    """Parse a `byods keepalive ...` command line the way the CLI would, without running it."""
    assert args[0] == "keepalive"
    command = cli.get_command(click.Context(cli), "keepalive")
    assert command is not None
    return command.make_context("keepalive", list(args[1:]))


def test_systemd_units_run_valid_keepalive_commands() -> None:
    units = {path.name: parse_unit(path) for path in (DEPLOY / "systemd").iterdir()}
    assert set(units) == {
        "byods-keepalive.service",
        "byods-keepalive-once.service",
        "byods-keepalive-once.timer",
    }
    for name in ("byods-keepalive.service", "byods-keepalive-once.service"):
        service = units[name]["Service"]
        assert service["User"] == ["byods"]
        (exec_start,) = service["ExecStart"]
        argv = shlex.split(exec_start)
        assert argv[0].endswith("/byods")
        context = parse_byods_args(argv[1:])
        assert context.params["once"] is (name == "byods-keepalive-once.service")
    assert units["byods-keepalive.service"]["Service"]["KillSignal"] == ["SIGTERM"]
    timer = units["byods-keepalive-once.timer"]
    assert timer["Timer"]["Unit"] == ["byods-keepalive-once.service"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]


def test_the_once_unit_command_works_against_the_sandbox(
    sandbox: Sandbox, sandbox_config: Path, tmp_path: Path
) -> None:
    register_data_sources(sandbox, 1, lifetime_minutes=1)
    unit = parse_unit(DEPLOY / "systemd" / "byods-keepalive-once.service")
    argv = shlex.split(unit["Service"]["ExecStart"][0])
    env = keepalive_env(sandbox, sandbox_config, tmp_path)

    result = subprocess.run(
        [sys.executable, "-m", "byods_manager", *argv[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    events = [json.loads(line)["event"] for line in result.stderr.splitlines()]
    assert events[0] == "started"
    assert events[-1] == "stopped"


def _dockerfile() -> dict[str, list[str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    instructions: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            instructions.setdefault(keyword.upper(), []).append(rest.strip())
    return instructions


def test_dockerfile_runs_keepalive_as_non_root_with_a_data_volume() -> None:
    docker = _dockerfile()
    (user,) = docker["USER"]
    assert user.split(":")[0] not in {"root", "0"}
    assert json.loads(docker["VOLUME"][0]) == ["/data"]
    assert json.loads(docker["ENTRYPOINT"][0]) == ["byods"]
    context = parse_byods_args(json.loads(docker["CMD"][0]))
    assert context.params["listen"].endswith(":9464")
    env = " ".join(docker["ENV"])
    assert "XDG_STATE_HOME=/data/state" in env


def _manifests() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        documents.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return documents


def _pod_spec(document: dict[str, Any]) -> dict[str, Any]:
    if document["kind"] == "CronJob":
        spec: dict[str, Any] = document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        return spec
    result: dict[str, Any] = document["spec"]["template"]["spec"]
    return result


@pytest.mark.parametrize("kind", ["Deployment", "CronJob"])
def test_kubernetes_workloads_run_valid_commands_as_non_root(kind: str) -> None:
    documents = _manifests()
    (workload,) = [doc for doc in documents if doc["kind"] == kind]
    pod = _pod_spec(workload)
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    context = parse_byods_args(container["args"])
    assert context.params["once"] is (kind == "CronJob")
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert set(mounts.values()) <= set(volumes)
    claims = {
        doc["metadata"]["name"] for doc in documents if doc["kind"] == "PersistentVolumeClaim"
    }
    assert volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"] in claims
    if kind == "Deployment":
        assert workload["spec"]["replicas"] == 1
        port = int(context.params["listen"].rsplit(":", 1)[1])
        assert container["ports"][0]["containerPort"] == port
        assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
        (service,) = [doc for doc in documents if doc["kind"] == "Service"]
        assert service["spec"]["selector"] == workload["spec"]["selector"]["matchLabels"]
