"""`byods token status` and `byods token refresh`: show and renew the service-app token.

The token manager is imported inside the commands so that `byods --help` stays fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ..auth import ENV_ACCESS_TOKEN, environment_token
from ..errors import InputError
from ..secrets import scrub_text
from .context import AppContext, pass_app
from .fleet_options import all_orgs_option, concurrency_option
from .render import json_option, moment, print_json
from .tables import table_options
from .tty import stdin_is_interactive

if TYPE_CHECKING:
    from ..tokens.status import CheckResult, TierStatus, TokenStatus

BYPASS_NOTE = (
    f"{ENV_ACCESS_TOKEN} is set: other commands use that token and bypass the token manager "
    "(unset it to use the tokens below)."
)


@click.group("token")
def token_group() -> None:
    """Show and refresh the service-app access token the token manager keeps."""


@token_group.command("status")
@json_option
@click.option(
    "--check",
    is_flag=True,
    help="Also validate the tokens against Webex: GET /dataSources/ with the service-app "
    "token, and the Applications API with the token-manager token (this mints and saves a "
    "new service-app token pair).",
)
@all_orgs_option
@table_options
@pass_app
def status_command(
    app: AppContext,
    as_json: bool,
    check: bool,
    all_orgs: bool,
    wide: bool,
    columns: str | None,
) -> None:
    """Show each refresh tier's credential: present or missing, prefix, expiry.

    \b
    Tier 0  the stored service-app access token
    Tier 1  the service-app refresh token
    Tier 2  the token-manager token (personal access token or integration token)
    Tier 3  the integration's OAuth refresh token
    Exits 1 if a --check fails, 3 if authentication needs a person.

    With --all-orgs: one row per org, fitted to the terminal (--wide, --columns); --check
    validates every org at once and exits 1 if any org failed.
    """
    from ..tokens.manager import TokenManager

    if all_orgs:
        from .fleet_cmds import token_status_all

        token_status_all(app, as_json, check=check, wide=wide, columns=columns)
        return
    if wide or columns is not None:
        raise InputError("--wide and --columns go with --all-orgs (one org's status is no table)")
    env_token = environment_token()
    if env_token and not app.config_path.exists():
        _env_only_status(env_token, app, as_json)
        return
    if env_token and not as_json:
        click.echo(f"Note: {BYPASS_NOTE}", err=True)
    manager: TokenManager = app.token_manager()
    status = manager.status()
    checks: list[CheckResult] = manager.check() if check else []
    if as_json:
        payload = status.to_dict()
        payload.update(_environment_fields(app))
        if check:
            payload["checks"] = [result.to_dict() for result in checks]
        print_json(payload)
    else:
        click.echo(f"Environment: {app.describe_environment()}")
        click.echo(_render_status(status))
        if check:
            click.echo("")
            click.echo("Checks:")
            for result in checks:
                mark = "ok  " if result.ok else "FAIL"
                detail = scrub_text(result.detail).replace("\n", "\n        ")
                click.echo(f"  {mark} {result.name}\n        {detail}")
    failed = [result.exit_code or 1 for result in checks if not result.ok]
    if failed:
        sys.exit(max(failed))


def _env_only_status(env_token: str, app: AppContext, as_json: bool) -> None:
    from ..secrets import redact

    if as_json:
        print_json(
            {
                "config": str(app.config_path),
                "envTokenBypass": True,
                "envTokenPrefix": redact(env_token),
                "tiers": [],
                **_environment_fields(app),
            }
        )
        return
    click.echo(f"Environment: {app.describe_environment()}")
    click.echo(
        f"Using {ENV_ACCESS_TOKEN} ({redact(env_token)}): the token manager is bypassed and "
        f"cannot refresh it. No token-manager config at {app.config_path}."
    )


def _environment_fields(app: AppContext) -> dict[str, str]:
    return {"environment": app.environment.name, "baseUrl": app.base_url}


def _render_status(status: TokenStatus) -> str:

    lines = [
        f"Config:  {status.config_path}"
        + (f" (profile {status.profile})" if status.profile else ""),
        f"Store:   {status.store_path}",
        f"Service app {status.app_id} for org {status.target_org_id}",
        "",
    ]
    for tier in status.tiers:
        lines.append(f"Tier {tier.tier} - {tier.credential}: " + _presence(tier))
        if tier.expires_at is not None:
            lines.append(f"    expires {moment(tier.expires_at)}")
        if tier.refresh_expires_at is not None:
            when = tier.refresh_expires_at
            lines.append(f"    refresh token expires {moment(when)}")
        if tier.note:
            lines.append(f"    {tier.note}")
        lines.extend(f"    WARNING: {warning}" for warning in tier.warnings)
    return "\n".join(lines)


def _presence(tier: TierStatus) -> str:
    if not tier.present:
        return "missing"
    text = f"present ({tier.prefix})" if tier.prefix else "present"
    if tier.source:
        text += f" [{tier.source}]"
    return text


@token_group.command("refresh")
@click.option("--force", is_flag=True, help="Refresh even if the stored token is still valid.")
@json_option
@all_orgs_option
@concurrency_option
@pass_app
def refresh_command(
    app: AppContext, force: bool, as_json: bool, all_orgs: bool, concurrency: int
) -> None:
    """Refresh the service-app access token now and report which tier succeeded.

    Without --force a still-valid token is kept (on a terminal you are asked first).
    Exits 3 when every tier failed and a person must re-authorize (`byods auth setup`).
    --all-orgs refreshes every active org, --concurrency orgs at a time.
    """
    from ..tokens.manager import TokenManager

    if all_orgs:
        from .fleet_cmds import token_refresh_all

        token_refresh_all(app, force, as_json, concurrency)
        return
    if environment_token():
        click.echo(f"Note: {BYPASS_NOTE}", err=True)
    manager: TokenManager = app.token_manager()
    ask = not force and not as_json and stdin_is_interactive()
    stored = manager.usable_entry() if ask else None
    if stored is not None:
        expires = stored.expires_at
        when = f" (expires {moment(expires)})" if expires else ""
        force = click.confirm(
            f"The stored access token is still valid{when}. Refresh it anyway?",
            default=False,
            err=True,
        )
    outcome = manager.refresh(force=force)
    if as_json:
        print_json(outcome.to_dict())
        return
    if not outcome.refreshed:
        click.echo(
            f"The stored access token is still valid (expires {moment(outcome.expires_at)}); "
            "kept it. Use --force to refresh anyway."
        )
        return
    click.echo(f"Refreshed via tier {outcome.tier} ({outcome.tier_name}).")
    click.echo(f"New access token expires {moment(outcome.expires_at)}.")
    if outcome.refresh_expires_at is not None:
        click.echo(f"Refresh token expires {moment(outcome.refresh_expires_at)}.")


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(token_group)
