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
@click.option(
    "--store",
    "store_option",
    metavar="PATH_OR_URL",
    help="Token store: a file path or postgresql://... shared by several hosts "
    "(default: $BYODS_STORE, the config's tokenStore, or the user state dir).",
)
@click.option("-v", "--verbose", count=True, help="Show progress notes (-vv for debug logs).")
@click.option(
    "--timeout",
    "timeout_option",
    metavar="DURATION",
    envvar="BYODS_TIMEOUT",
    help="Deadline for the whole command, e.g. 90s or 10m (default: 5m; bulk runs: none).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    config_option: str | None,
    profile: str | None,
    base_url_option: str | None,
    audit_log_option: str | None,
    org_option: str | None,
    store_option: str | None,
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
        import logging

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
        store_option=store_option,
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
    "jws_cmd": ("jws",),
    "orgs_cmd": ("orgs",),
    "apply_cmd": ("apply",),
    "webhooks_cmd": ("webhooks",),
    "keepalive_cmd": ("keepalive",),
    "store_cmd": ("store",),
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
