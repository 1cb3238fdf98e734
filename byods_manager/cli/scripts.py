"""The root scripts (`setup_oauth.py`, `refresh_token.py`, `token_manager.py`): each is
one `byods` command, taking the global options in any position."""

from __future__ import annotations

import sys

import click

# For the root scripts: options of the `byods` group that take a value, and its flags.
_GLOBAL_WITH_VALUE = ("--config", "--profile", "--base-url", "--audit-log")
_GLOBAL_FLAGS = ("-v", "-vv", "--verbose")


def script_arguments(argv: list[str], *command: str) -> list[str]:
    """Reorder a root script's ``argv`` into ``[global options] COMMAND... [options]``,
    so ``python refresh_token.py --force --config X`` means
    ``byods --config X token refresh --force``."""
    global_args: list[str] = []
    command_args: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in _GLOBAL_WITH_VALUE and index + 1 < len(argv):
            global_args += [arg, argv[index + 1]]
            index += 2
            continue
        if arg in _GLOBAL_FLAGS or arg.split("=", 1)[0] in _GLOBAL_WITH_VALUE:
            global_args.append(arg)
        else:
            command_args.append(arg)
        index += 1
    return [*global_args, *command, *command_args]


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
