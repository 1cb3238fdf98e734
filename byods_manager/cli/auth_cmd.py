"""`byods auth setup`: the OAuth setup wizard (also `python setup_oauth.py`)."""

from __future__ import annotations

import sys
from typing import Any

import click
from click.core import ParameterSource

from ..errors import InputError
from ..oauth import DEFAULT_REDIRECT_URI, DEFAULT_TIMEOUT_SECONDS
from .context import AppContext, pass_app
from .render import json_option, print_json
from .tty import stdin_is_interactive

CLIENT_SECRET_ENV = "BYODS_OAUTH_CLIENT_SECRET"

SETUP_HELP = """Set up the credentials that keep service-app tokens coming.

\b
Stops at the first step that works:
  1. a token already configured still works;
  2. the integration's refresh token still refreshes;
  3. integration client ID/secret are configured: sign in in the browser;
  4. otherwise ask: integration client ID and secret (recommended), or a
     personal access token (expires in 12 hours).

"Works" means the Applications API mints a token for the configured service
app; the tokens it returns are kept in the token store. --personal-token or
--client-id skip the checks and use what you give. Without a terminal,
anything missing is an error (exit 2) instead of a prompt.

\b
Register the redirect URI (default http://127.0.0.1:3000/callback) on the
integration in the Webex developer portal, with scope spark:applications_token.
With a localhost redirect URI the wizard listens on every address localhost
resolves to, or asks you to paste the redirected URL when one is taken.
The sign-in uses PKCE (S256).
"""


@click.group("auth")
def auth_group() -> None:
    """Set up and check the credentials byods uses."""


@auth_group.command("setup", help=SETUP_HELP)
@click.option("--client-id", metavar="ID", help="The integration's client ID.")
@click.option(
    "--client-secret",
    metavar="SECRET",
    envvar=CLIENT_SECRET_ENV,
    show_envvar=True,
    help="The integration's client secret: - reads it from stdin (prompted, hidden, when "
    "needed). Avoid giving it on the command line: other local users can see it.",
)
@click.option(
    "--personal-token",
    metavar="TOKEN",
    help="Use this personal access token (expires 12 hours after it was issued); - reads it "
    "from stdin. Prefer the hidden prompt: command lines are visible to other local users.",
)
@click.option(
    "--no-browser", is_flag=True, help="Only print the sign-in URL; do not open a browser."
)
@click.option(
    "--manual",
    is_flag=True,
    help="Do not listen for the redirect; paste the redirected URL (or code) instead.",
)
@click.option(
    "--redirect-uri",
    metavar="URL",
    default=DEFAULT_REDIRECT_URI,
    show_default=True,
    help="The redirect URI registered on the integration.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    default=DEFAULT_TIMEOUT_SECONDS,
    show_default=True,
    help="Seconds to wait for the browser sign-in.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Skip steps 1 and 2: sign in again even if the current tokens work.",
)
@json_option
@pass_app
def setup_command(
    app: AppContext,
    /,
    client_id: str | None,
    client_secret: str | None,
    personal_token: str | None,
    no_browser: bool,
    manual: bool,
    redirect_uri: str,
    timeout: float,
    force: bool,
    as_json: bool,
) -> None:
    """Run the wizard for the config/profile/base URL in ``app`` and print the result."""
    from ..http import TOKEN_ENDPOINT_RETRY, HttpClient
    from ..oauth.browser_flow import BrowserFlowSettings
    from ..oauth.prompter import ClickPrompter
    from ..oauth.wizard import SetupOptions, SetupWizard

    client_secret = _secret_option("client_secret", "--client-secret", client_secret)
    personal_token = _secret_option("personal_token", "--personal-token", personal_token)
    prompter = ClickPrompter(interactive=stdin_is_interactive())
    settings = BrowserFlowSettings(
        redirect_uri=redirect_uri, timeout=timeout, open_browser=not no_browser, manual=manual
    )
    wizard_options = SetupOptions(
        client_id=_clean(client_id),
        client_secret=_clean(client_secret),
        personal_token=_clean(personal_token),
        force=force,
        browser=settings,
    )
    http = HttpClient(app.base_url, None, retry=TOKEN_ENDPOINT_RETRY, notify=app.notify)
    try:
        result = SetupWizard(
            http, app.config_path, profile=app.profile, prompter=prompter, options=wizard_options
        ).run()
    finally:
        http.close()
    if as_json:
        print_json(result.to_json())
        return
    data = result.to_json()
    click.echo(f"Done (step {result.tier}: {result.method.replace('-', ' ')}).")
    click.echo(f"  config:               {data['config']}")
    _echo_token(f"{result.credential} token:", data["applicationsToken"])
    if data["integrationRefreshToken"]:
        _echo_token("integration refresh:", data["integrationRefreshToken"])
    _echo_token("service-app token:", data["serviceAppToken"])
    if data["serviceAppRefreshToken"]:
        _echo_token("service-app refresh:", data["serviceAppRefreshToken"])


def _echo_token(label: str, summary: dict[str, Any]) -> None:
    from .render import moment

    expiry = f" (expires {moment(summary['expiresAt'])})" if summary["expiresAt"] else ""
    click.echo(f"  {label:<21} {summary['prefix']}{expiry}")


def _secret_option(name: str, flag: str, value: str | None) -> str | None:
    """``-`` reads the secret from stdin; a secret typed on the command line gets a warning."""
    if value == "-":
        line = sys.stdin.readline()
        if not line.strip():
            raise InputError(f"{flag} -: nothing was read from stdin")
        return line.strip()
    source = click.get_current_context().get_parameter_source(name)
    if value and source == ParameterSource.COMMANDLINE:
        hint = f"${CLIENT_SECRET_ENV} or " if name == "client_secret" else ""
        click.echo(
            f"Warning: {flag} on the command line is visible to other local users "
            f"(ps, shell history); prefer {hint}{flag} - (stdin) or the hidden prompt.",
            err=True,
        )
    return value


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def register(group: click.Group) -> None:
    """Add `auth setup` to `group`."""
    group.add_command(auth_group)
