"""The root scripts (`setup_oauth.py`, `refresh_token.py`, `token_manager.py`): each is
one `byods` command, taking the global options in any position."""

from __future__ import annotations

import os
import sys

import click


def script_arguments(argv: list[str], *command: str) -> list[str]:
    """A root script's ``argv`` as ``byods`` arguments, global options first, so
    ``python refresh_token.py --force --config X`` means
    ``byods --config X token refresh --force``."""
    from .global_options import hoist_global_options
    from .main import cli

    with click.Context(cli) as ctx:
        return hoist_global_options(cli, ctx, [*command, *argv])


def global_options_help(group: click.Group) -> str:
    """The `byods` group's own options, formatted like click's help."""
    ctx = click.Context(group)
    records = [
        record
        for param in group.get_params(ctx)
        if not {"--help", "--version"} & set(getattr(param, "opts", ()))
        and (record := param.get_help_record(ctx)) is not None
    ]
    formatter = ctx.make_formatter()
    with formatter.section("Global options"):
        formatter.write_dl(records)
    return formatter.getvalue()


def _leaf_command(group: click.Group, command: tuple[str, ...]) -> click.Command:
    leaf: click.Command = group
    with click.Context(group) as ctx:
        for name in command:
            assert isinstance(leaf, click.Group)
            found = leaf.get_command(ctx, name)
            assert found is not None, name
            leaf = found
    return leaf


def script_help(prog_name: str, *command: str) -> str:
    """The help of ``python SCRIPT``: its usage as typed, its options, the global ones."""
    from .main import cli

    leaf = _leaf_command(cli, command)
    ctx = click.Context(leaf, info_name=f"python {prog_name}")
    return leaf.get_help(ctx) + "\n\n" + global_options_help(cli).rstrip()


def _quiet_broken_pipe() -> None:
    """The reader went away (``| head -1``): stop quietly, like other command-line tools."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(1)


def run_as_script(prog_name: str, *command: str, argv: list[str] | None = None) -> None:
    """Run ``byods COMMAND...`` with this script's arguments and exit codes."""
    from .main import cli

    args = sys.argv[1:] if argv is None else argv
    try:
        if any(arg in ("-h", "--help") for arg in args):
            click.echo(script_help(prog_name, *command))
            sys.stdout.flush()
            sys.exit(0)
        code = cli.main(
            args=script_arguments(args, *command), prog_name=prog_name, standalone_mode=False
        )
    except click.UsageError as exc:
        click.echo(
            f"Usage: python {prog_name} [OPTIONS]\n"
            f"Try 'python {prog_name} --help' for help.\n\nError: {exc.format_message()}",
            err=True,
        )
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        _quiet_broken_pipe()
    sys.exit(code if isinstance(code, int) else 0)
