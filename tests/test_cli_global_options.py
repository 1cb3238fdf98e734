"""Global options after the command (`byods list -v`), `BYODS_PROFILE`, and which
`./token-config.json` the tool trusts."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from byods_manager.cli.global_options import hoist_global_options
from byods_manager.cli.reporting import ReportingGroup
from tests.fixtures_tokens import profile_dict

RunCli = Callable[..., Result]


def _status_json(run_cli: RunCli, args: list[str]) -> dict[str, object]:
    result = run_cli(args)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_config_and_verbose_work_after_the_command(
    tokens_config: Callable[..., Path], tokens_store: Path, run_cli: RunCli
) -> None:
    config = tokens_config(name="elsewhere.json")
    data = _status_json(run_cli, ["token", "status", "--json", "--config", str(config), "-v"])
    assert data["config"] == str(config)
    verbose = run_cli(["token", "status", "-v", f"--config={config}"])
    assert verbose.exit_code == 0, verbose.output
    assert f"Using config {config} (from --config)." in verbose.stderr


def test_byods_profile_selects_the_profile(
    tokens_config: Callable[..., Path],
    tokens_store: Path,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tokens_config({"profiles": {"lab": profile_dict(), "prod": profile_dict()}})
    monkeypatch.setenv("BYODS_PROFILE", "prod")
    data = _status_json(run_cli, ["token", "status", "--json", "--config", str(config)])
    assert data["profile"] == "prod"
    explicit = _status_json(
        run_cli, ["token", "status", "--profile", "lab", "--json", "--config", str(config)]
    )
    assert explicit["profile"] == "lab"


def _demo_group() -> click.Group:
    """A group shaped like `byods`, with a global option a subcommand also declares."""

    @click.group(cls=ReportingGroup)
    @click.option("--timeout", default="g")
    @click.option("--store")
    @click.option("-v", "--verbose", count=True)
    @click.pass_context
    def root(ctx: click.Context, timeout: str, store: str | None, verbose: int) -> None:
        ctx.obj = {"timeout": timeout, "store": store, "verbose": verbose}

    @root.group("auth")
    def auth() -> None:
        pass

    @auth.command("setup")
    @click.option("--timeout", default="local")
    @click.option("--name")
    @click.pass_obj
    def setup(obj: dict[str, object], timeout: str, name: str | None) -> None:
        click.echo(json.dumps({**obj, "local_timeout": timeout, "name": name}))

    return root


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["auth", "setup", "--timeout", "5", "--store", "s", "-vv"],
            {"timeout": "g", "local_timeout": "5", "store": "s", "verbose": 2},
        ),
        (
            ["--timeout", "9", "auth", "setup", "--store=s2"],
            {"timeout": "9", "local_timeout": "local", "store": "s2", "verbose": 0},
        ),
        # A value that looks like a global option stays the subcommand's value.
        (
            ["auth", "setup", "--name", "--store", "-v"],
            {"name": "--store", "store": None, "verbose": 1},
        ),
        # Everything after `--` is left alone.
        (["auth", "setup", "-v", "--"], {"verbose": 1}),
    ],
)
def test_options_declared_by_the_group_move_generically(
    args: list[str], expected: dict[str, object]
) -> None:
    result = CliRunner().invoke(_demo_group(), args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    seen = json.loads(result.stdout)
    assert {key: seen[key] for key in expected} == expected


def test_hoisting_leaves_unknown_commands_alone() -> None:
    group = _demo_group()
    with click.Context(group) as ctx:
        assert hoist_global_options(group, ctx, ["nope", "-v"]) == ["nope", "-v"]
        assert hoist_global_options(group, ctx, ["auth", "setup", "-v"]) == [
            "-v",
            "auth",
            "setup",
        ]


def test_local_config_is_used_when_owned_and_private(
    tokens_config: Callable[..., Path], tokens_store: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    local = tokens_config()  # tmp_path/token-config.json, the cwd in tests
    assert local.parent == Path.cwd()
    result = run_cli(["-v", "token", "status"])
    assert result.exit_code == 0, result.output
    assert f"Using config {local} (from the current directory)." in result.stderr


def test_group_writable_local_config_is_refused(
    tokens_config: Callable[..., Path], tokens_store: Path, run_cli: RunCli
) -> None:
    local = tokens_config()
    local.chmod(0o664)
    result = run_cli(["token", "status"])
    assert result.exit_code == 2
    assert f"refusing {local}: it is writable by group or others (mode 0664)" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_local_config_of_another_user_is_refused(
    tokens_config: Callable[..., Path], tokens_store: Path, run_cli: RunCli
) -> None:
    local = tokens_config()
    os.chown(local, 4242, -1)
    result = run_cli(["token", "status"])
    assert result.exit_code == 2
    assert f"refusing {local}: it belongs to another user (uid 4242)" in result.stderr
    explicit = run_cli(["--config", str(local), "token", "status"])
    assert explicit.exit_code == 0, explicit.output
