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
    "--env",
    "env_option",
    type=click.Choice(["production", "integration"], case_sensitive=False),
    envvar="BYODS_ENV",
    help="Webex environment: API base URL and identity brokers (default: $BYODS_ENV or "
    "production). --base-url and $WEBEX_API_BASE_URL still set the base URL.",
)
@click.option(
    "--audit-log",
    "audit_log_option",
    metavar="PATH",
    envvar="BYODS_AUDIT_LOG",
    help="Append the audit trail here (default: the user state dir).",
)
@click.option(
    "--org",
    "org_option",
    metavar="ORG",
    envvar="BYODS_ORG",
    help="The org to work on: a name or id from `byods orgs list` (default: the config's).",
)
@click.option("-v", "--verbose", count=True, help="Show progress notes (-vv for debug logs).")
@click.option(
    "--timeout",
    "timeout_option",
    metavar="DURATION",
    envvar="BYODS_TIMEOUT",
    help="Deadline for the whole command, e.g. 90s or 10m (default: 5m).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    config_option: str | None,
    profile: str | None,
    base_url_option: str | None,
    audit_log_option: str | None,
    org_option: str | None,
    verbose: int,
    timeout_option: str | None,
    env_option: str | None,
) -> None:
    """Manage Webex BYODS data sources and keep their service-app tokens alive.

    \b
    Exit codes: 0 success; 1 the operation failed; 2 bad usage, input or
    config (nothing was sent); 3 authentication needs a person
    (run `byods auth setup`).
    """
    if verbose >= 2:
        from ..secrets import RedactingFilter

        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactingFilter())
    ctx.obj = AppContext(
        config_option=config_option,
        profile=profile,
        base_url_option=base_url_option,
        verbose=verbose,
        audit_log_option=audit_log_option,
        timeout_option=timeout_option,
        env_option=env_option,
        org_option=org_option,
    )


def _register_commands() -> None:
    from . import (
        apply_cmd,
        auth_cmd,
        datasources,
        jws_cmd,
        orgs_cmd,
        sandbox_cmd,
        schemas,
        token_cmd,
        webhooks_cmd,
    )

    modules = (
        datasources,
        schemas,
        token_cmd,
        auth_cmd,
        sandbox_cmd,
        jws_cmd,
        orgs_cmd,
        apply_cmd,
        webhooks_cmd,
    )
    for module in modules:
        module.register(cli)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="byods")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
