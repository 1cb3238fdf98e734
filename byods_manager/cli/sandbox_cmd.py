"""`byods sandbox`: run the embedded Webex stand-in until Ctrl-C."""

from __future__ import annotations

import json
import shlex
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from ..sandbox.admin import controls_help

if TYPE_CHECKING:
    from ..sandbox import Sandbox


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(sandbox)


def _default_config_out() -> Path:
    from ..paths import state_dir

    return state_dir() / "sandbox" / "token-config.json"


def _epilog() -> str:
    """The controls table, kept verbatim by click (``\\b``), one paragraph."""
    text = controls_help().replace("\n\n", "\n")
    return "\b\n" + text


@click.command(epilog=_epilog())
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address only.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port (default: a free one)."
)
@click.option(
    "--config-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the ready-to-use token-config.json "
    "(default: the user state dir, sandbox/token-config.json).",
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep tokens, data sources and the signing key in this file across restarts.",
)
@click.option("--latency-ms", type=click.FloatRange(0), default=0, help="Delay every API answer.")
@click.option(
    "--access-token-lifetime",
    type=click.IntRange(1),
    metavar="SECONDS",
    help="Lifetime of service-app access tokens (default 14 days).",
)
@click.option(
    "--personal-token-lifetime",
    type=click.IntRange(1),
    metavar="SECONDS",
    help="Lifetime of personal access tokens (default 12 hours).",
)
@click.option(
    "--refresh-token-lifetime",
    type=click.IntRange(1),
    metavar="SECONDS",
    help="Lifetime of refresh tokens (default 90 days).",
)
@click.option(
    "--orgs",
    type=click.IntRange(1, 10000),
    default=1,
    show_default=True,
    help="Customer orgs that have authorized the service app.",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help='Data sources per page of GET /dataSources (Link: rel="next" while more remain).',
)
@click.option(
    "--admin-token",
    envvar="BYODS_SANDBOX_ADMIN_TOKEN",
    help="Admin token for /_sandbox/* (default: a random one, printed and written to the config).",
)
@click.option("--quiet", is_flag=True, help="Do not log requests on stderr.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON line (baseUrl, config, jwksUrl, adminUrl, adminToken, orgIds) "
    "instead of the guide.",
)
def sandbox(
    host: str,
    port: int,
    config_out: Path | None,
    state_file: Path | None,
    latency_ms: float,
    access_token_lifetime: int | None,
    personal_token_lifetime: int | None,
    refresh_token_lifetime: int | None,
    orgs: int,
    page_size: int,
    admin_token: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run a local Webex API stand-in (loopback only) until Ctrl-C.

    It implements what byods uses (OAuth authorize/access_token, the Applications
    API for many orgs, /dataSources with thin list items and pages, its schemas,
    /webhooks with signed serviceApp events, RS256-signed jwsToken values with a
    JWKS at /idb/oauth2/v2/keys/verificationjwk) and writes a token-config.json it
    accepts, so that

    \b
      BYODS_CONFIG=PATH WEBEX_API_BASE_URL=URL byods list

    just works. Test controls live under /_sandbox/ and need the admin token
    (printed at start, and in the config's "sandbox" section).
    """
    from ..sandbox import Sandbox

    log = None if quiet else (lambda line: click.echo(line, err=True))
    box = Sandbox(
        host=host,
        port=port,
        state_file=state_file,
        access_token_lifetime=access_token_lifetime,
        personal_token_lifetime=personal_token_lifetime,
        refresh_token_lifetime=refresh_token_lifetime,
        latency_ms=latency_ms,
        log=log,
        orgs=orgs,
        page_size=page_size,
        admin_token=admin_token,
    )
    config_path = box.write_config(config_out or _default_config_out()).resolve()
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Both signals stop it, even where a non-interactive shell started it with SIGINT ignored.
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    box.start()
    try:
        box.write_config(config_path)  # now with the URLs
        _announce(box, config_path, as_json)
        while not stop.wait(0.5):
            pass
    finally:
        box.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not as_json:
        click.echo("Sandbox stopped.")


def _announce(box: Sandbox, config_path: Path, as_json: bool) -> None:
    base_url, origin = box.base_url, box.origin
    if as_json:
        info = {
            "baseUrl": base_url,
            "config": str(config_path),
            "jwksUrl": box.jwks_url,
            "adminUrl": f"{origin}/_sandbox",
            "adminToken": box.admin_token,
            "orgIds": box.org_ids,
        }
        click.echo(json.dumps(info))
        return
    config = shlex.quote(str(config_path))
    click.echo(f"Webex sandbox listening on {base_url} (loopback only)")
    click.echo(f"Config written to {config_path} (mode 0600)")
    click.echo(f"Customer orgs: {len(box.org_ids)} (default {box.org_ids[0]})")
    click.echo("")
    click.echo("In another shell:")
    click.echo(f"  export BYODS_CONFIG={config}")
    click.echo(f"  export WEBEX_API_BASE_URL={base_url}")
    click.echo("  byods token status && byods schemas list && byods list")
    click.echo("or in one line:")
    click.echo(f"  BYODS_CONFIG={config} WEBEX_API_BASE_URL={base_url} byods list")
    click.echo("")
    click.echo(f"JWKS: {box.jwks_url}")
    click.echo(f"Controls: {origin}/_sandbox/...  with header X-Sandbox-Token: {box.admin_token}")
    click.echo(f"  e.g. curl -H 'X-Sandbox-Token: {box.admin_token}' {origin}/_sandbox/stats")
    click.echo("Press Ctrl-C to stop.")
