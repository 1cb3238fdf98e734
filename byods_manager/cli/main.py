"""The `byods` entry point: global options, error-to-exit-code mapping, command registry."""

from __future__ import annotations

import sys

import click

from .. import __version__
from .context import AppContext
from .reporting import ReportingGroup


@click.group(cls=ReportingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="byods")
@click.option(
    "--config",
    "config_option",
    metavar="PATH",
    help="Token config file (default: $BYODS_CONFIG, ./token-config.json, or the user config dir).",
)
@click.option(
    "--profile",
    metavar="NAME",
    envvar="BYODS_PROFILE",
    help="Profile in a multi-profile config (default: $BYODS_PROFILE).",
)
@click.option(
    "--base-url",
    "base_url_option",
    metavar="URL",
    help="Webex API base URL (default: $WEBEX_API_BASE_URL or https://webexapis.com/v1).",
)
@click.option(
    "--audit-log",
    "audit_log_option",
    metavar="PATH",
    envvar="BYODS_AUDIT_LOG",
    help="Append the audit trail here (default: the user state dir).",
)
@click.option("-v", "--verbose", count=True, help="Show progress notes (-vv for debug logs).")
@click.pass_context
def cli(
    ctx: click.Context,
    config_option: str | None,
    profile: str | None,
    base_url_option: str | None,
    audit_log_option: str | None,
    verbose: int,
) -> None:
    """Manage Webex BYODS data sources and keep their service-app tokens alive.

    \b
    Exit codes: 0 success; 1 the operation failed; 2 bad usage, input or
    config (nothing was sent); 3 authentication needs a person
    (run `byods auth setup`).
    """
    if verbose >= 2:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    ctx.obj = AppContext(
        config_option=config_option,
        profile=profile,
        base_url_option=base_url_option,
        verbose=verbose,
        audit_log_option=audit_log_option,
    )


# Each command module (in byods_manager.cli) and the top-level commands its
# register(group) adds. A module is imported only when one of its commands runs, or when
# help lists them all, so `byods token status` does not pay for the others.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "datasources": ("list", "show", "register", "update", "extend", "disable", "enable", "delete"),
    "schemas": ("schemas",),
    "token_cmd": ("token",),
    "auth_cmd": ("auth",),
    "sandbox_cmd": ("sandbox",),
    "completion_cmd": ("completion",),
}


def _register_commands() -> None:
    from .examples import add_examples

    for module, names in COMMAND_MODULES.items():
        cli.add_command_module(module, *names)
    add_examples(cli)  # the group's own; each command's come with its module


_register_commands()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="byods")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
