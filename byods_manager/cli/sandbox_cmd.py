"""`byods sandbox`: run the embedded Webex stand-in until Ctrl-C."""

from __future__ import annotations

import json
import shlex
import signal
import threading
from pathlib import Path
from types import FrameType

import click


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(sandbox)


def _default_config_out() -> Path:
    from ..paths import state_dir

    return state_dir() / "sandbox" / "token-config.json"


@click.command()
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
@click.option("--quiet", is_flag=True, help="Do not log requests on stderr.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON line (baseUrl, config, jwksUrl, adminUrl) instead of the guide.",
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
    quiet: bool,
    as_json: bool,
) -> None:
    """Run a local Webex API stand-in (loopback only) until Ctrl-C.

    It implements what byods uses (OAuth authorize/access_token, the Applications
    API, /dataSources and its schemas, RS256-signed jwsToken values with a JWKS at
    /_sandbox/jwks) and writes a token-config.json it accepts, so that

    \b
      BYODS_CONFIG=PATH WEBEX_API_BASE_URL=URL byods list

    just works. Test controls (expire tokens, inject 429/5xx, latency, counters)
    live under /_sandbox/...; see the project docs.
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
    )
    config_path = box.write_config(config_out or _default_config_out()).resolve()
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Both signals stop it, even where a non-interactive shell started it with SIGINT ignored.
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    box.start()
    try:
        _announce(box.base_url, box.origin, config_path, as_json)
        while not stop.wait(0.5):
            pass
    finally:
        box.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not as_json:
        click.echo("Sandbox stopped.")


def _announce(base_url: str, origin: str, config_path: Path, as_json: bool) -> None:
    if as_json:
        info = {
            "baseUrl": base_url,
            "config": str(config_path),
            "jwksUrl": f"{origin}/_sandbox/jwks",
            "adminUrl": f"{origin}/_sandbox",
        }
        click.echo(json.dumps(info))
        return
    config = shlex.quote(str(config_path))
    click.echo(f"Webex sandbox listening on {base_url} (loopback only)")
    click.echo(f"Config written to {config_path} (mode 0600)")
    click.echo("")
    click.echo("In another shell:")
    click.echo(f"  export BYODS_CONFIG={config}")
    click.echo(f"  export WEBEX_API_BASE_URL={base_url}")
    click.echo("  byods token status && byods schemas list && byods list")
    click.echo("or in one line:")
    click.echo(f"  BYODS_CONFIG={config} WEBEX_API_BASE_URL={base_url} byods list")
    click.echo("")
    click.echo(f"JWKS: {origin}/_sandbox/jwks   counters: {origin}/_sandbox/stats")
    click.echo("Press Ctrl-C to stop.")
