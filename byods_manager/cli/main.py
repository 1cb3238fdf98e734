"""The `byods` entry point: global options, error-to-exit-code mapping, command registry."""

from __future__ import annotations

import logging
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
@click.option("--profile", metavar="NAME", help="Profile in a multi-profile config.")
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
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    ctx.obj = AppContext(
        config_option=config_option,
        profile=profile,
        base_url_option=base_url_option,
        verbose=verbose,
        audit_log_option=audit_log_option,
    )


def _register_commands() -> None:
    from . import auth_cmd, datasources, keepalive_cmd, sandbox_cmd, schemas, token_cmd

    for module in (datasources, schemas, token_cmd, auth_cmd, sandbox_cmd, keepalive_cmd):
        module.register(cli)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="byods")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
