"""The root scripts (`setup_oauth.py`, `refresh_token.py`, `token_manager.py`): each is
one `byods` command, taking the global options in any position."""

from __future__ import annotations

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


def run_as_script(prog_name: str, *command: str, argv: list[str] | None = None) -> None:
    """Run ``byods COMMAND...`` with this script's arguments and exit codes."""
    from .main import cli

    args = sys.argv[1:] if argv is None else argv
    try:
        cli.main(args=script_arguments(args, *command), prog_name=prog_name)
    except SystemExit as done:
        if done.code in (0, None) and any(arg in ("-h", "--help") for arg in args):
            click.echo("\n" + global_options_help(cli).rstrip())
        raise
