"""`byods completion SHELL`: print the shell's tab-completion script (click's own)."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion_command(shell: str) -> None:
    """Print the tab-completion script for SHELL; load it from your shell's startup file.

    \b
    bash:  eval "$(byods completion bash)"      (in ~/.bashrc)
    zsh:   eval "$(byods completion zsh)"       (in ~/.zshrc)
    fish:  byods completion fish > ~/.config/fish/completions/byods.fish
    """
    from click.shell_completion import get_completion_class

    from .main import cli

    completion_class = get_completion_class(shell)
    assert completion_class is not None  # every name in SHELLS is one of click's
    script = completion_class(cli, {}, "byods", "_BYODS_COMPLETE").source()
    click.echo(script)


def register(group: click.Group) -> None:
    """Add `completion` to `group`."""
    group.add_command(completion_command)
