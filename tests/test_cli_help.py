"""Every command's --help ends with an example; completion scripts and --version work."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Callable, Iterator

import click
import pytest
from click.testing import Result

from byods_manager import __version__
from byods_manager.cli.main import COMMAND_MODULES, cli
from byods_manager.cli.reporting import ReportingGroup

RunCli = Callable[..., Result]


def _command_paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        with click.Context(command) as ctx:
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                yield from _command_paths(sub, (*path, name))


@pytest.mark.parametrize("path", list(_command_paths(cli)), ids=lambda p: " ".join(p) or "byods")
def test_every_help_shows_an_example(path: tuple[str, ...], run_cli: RunCli) -> None:
    result = run_cli([*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    example_lines = result.stdout.split("Example", 1)[1].splitlines()[1:]
    assert any(line.strip().startswith(("byods", "eval")) for line in example_lines)


@pytest.mark.parametrize(
    ("shell", "marker"), [("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete")]
)
def test_completion_prints_the_shell_script(shell: str, marker: str, run_cli: RunCli) -> None:
    result = run_cli(["completion", shell])
    assert result.exit_code == 0, result.output
    assert "_BYODS_COMPLETE" in result.stdout
    assert marker in result.stdout


def test_completion_of_an_unknown_shell_is_bad_usage(run_cli: RunCli) -> None:
    assert run_cli(["completion", "tcsh"]).exit_code == 2


def test_version(run_cli: RunCli) -> None:
    result = run_cli(["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"byods, version {__version__}\n"


@pytest.mark.parametrize("module", sorted(COMMAND_MODULES))
def test_each_command_module_registers_what_main_declares(module: str) -> None:
    """A command is found before its module is loaded only if main.py declares it."""
    group = ReportingGroup()
    importlib.import_module(f"byods_manager.cli.{module}").register(group)
    assert sorted(group.commands) == sorted(COMMAND_MODULES[module])


def test_a_command_loads_only_its_own_module() -> None:
    probe = (
        "import sys\n"
        "from byods_manager.cli.main import main\n"
        "try:\n    main(['token', 'status', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('byods_manager.cli.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = done.stdout.strip().splitlines()[-1]
    assert "byods_manager.cli.token_cmd" in loaded
    for other in ("datasources", "auth_cmd", "sandbox_cmd", "schemas", "completion_cmd"):
        assert f"byods_manager.cli.{other}'" not in loaded
