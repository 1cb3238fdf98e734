"""Every command's --help ends with an example; completion scripts and --version work."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import click
import pytest
from click.testing import Result

from byods_manager import __version__
from byods_manager.cli.main import cli

RunCli = Callable[..., Result]


def _command_paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
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
