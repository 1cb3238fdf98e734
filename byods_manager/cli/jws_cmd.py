"""`byods jws verify`: check a data-source JWS the way the DAP's endpoint must.

Exit 0 valid (the claims are printed), 1 invalid (one line naming the failed check),
2 bad input (no token, not a JWS at all, a bad option). The verifier and its
``cryptography`` dependency are imported inside the command so `byods --help` stays fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from ..errors import InputError
from .context import AppContext, pass_app
from .render import json_option, print_json
from .tty import stdin_is_interactive

if TYPE_CHECKING:
    from ..verify import InvalidJws

_EXPECTATION_NAMES = ("url", "audience", "subject", "schema_id", "org_id", "nonce")


@click.group("jws")
def jws_group() -> None:
    """Check the data-source JWS that Webex presents to your endpoint."""


def _leeway_seconds(text: str) -> float:
    from ..durations import parse_duration

    if text.strip() in ("0", "0s"):
        return 0.0
    return parse_duration(text).total_seconds()


def _read_token(token: str | None, from_data_source: bool) -> str | None:
    """The token argument, stdin for ``-`` (or when piped), None to use the data source's."""
    if token is not None and token != "-":
        return token
    if token is None and (from_data_source or stdin_is_interactive()):
        if from_data_source:
            return None
        raise InputError("give the JWS as an argument, or `-` to read it from stdin")
    return sys.stdin.read()


def _strip_scheme(token: str) -> str:
    """Accept an ``authorization`` value as it arrives: ``Bearer <jws>``."""
    text = token.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    return text


@jws_group.command("verify")
@click.argument("token", metavar="[TOKEN|-]", required=False)
@click.option("--url", metavar="URL", help="Expected data-source URL (com.cisco.datasource.url).")
@click.option("--audience", metavar="TEXT", help="Expected audience (aud).")
@click.option("--subject", metavar="TEXT", help="Expected subject (sub).")
@click.option(
    "--schema-id", metavar="UUID", help="Expected schema id (com.cisco.datasource.schema.uuid)."
)
@click.option("--org-id", metavar="ORG", help="Expected customer org (com.cisco.org.uuid).")
@click.option("--nonce", metavar="TEXT", help="Expected nonce (jti).")
@click.option(
    "--jwks-url",
    metavar="URL",
    help="Take the keys from this JWKS instead of the allow-listed Webex issuer's.",
)
@click.option(
    "--leeway",
    metavar="DURATION",
    default="60s",
    show_default=True,
    help="Clock skew allowed for exp/iat/nbf (e.g. 30s, 2m, 0).",
)
@click.option(
    "--data-source",
    "data_source_id",
    metavar="ID",
    help="Expect that data source's url, audience, subject, schema and org (read via the API); "
    "without TOKEN, verify its current jwsToken.",
)
@json_option
@pass_app
def verify_command(
    app: AppContext,
    /,
    token: str | None,
    jwks_url: str | None,
    leeway: str,
    data_source_id: str | None,
    as_json: bool,
    **expected: str | None,
) -> None:
    """Verify a data-source JWS: RS256 signature by Webex, times, and expectations.

    \b
    TOKEN is the JWS (or `Bearer <JWS>`); `-` or a pipe reads it from stdin.
    The keys come from {iss}/oauth2/v2/keys/verificationjwk when iss is a Webex
    identity broker of the selected --env, or from --jwks-url.
    Exit codes: 0 valid, 1 invalid (the failed check is named), 2 bad input.
    """
    from ..verify import InvalidJws, JwsVerifier

    leeway_seconds = _leeway_seconds(leeway)
    raw = _read_token(token, data_source_id is not None)
    if data_source_id is not None:
        raw = _apply_data_source(app, data_source_id, raw, expected)
    text = _strip_scheme(raw or "")
    verifier = JwsVerifier(environment=app.environment, jwks_url=jwks_url, leeway=leeway_seconds)
    try:
        claims = verifier.verify(text, **expected)
    except InvalidJws as exc:
        if exc.check == "format":
            raise InputError(f"not a JWS: {exc.reason}") from None
        _report_invalid(exc, as_json)
        sys.exit(1)
    _report_valid(text, claims, verifier.jwks_url_for(claims.get("iss")), expected, as_json)


def _apply_data_source(
    app: AppContext, data_source_id: str, token: str | None, expected: dict[str, str | None]
) -> str | None:
    """Fill the expectations not given from the data source; its token when none was given."""
    from ..validation import validate_data_source_id

    data_source = app.client().get(validate_data_source_id(data_source_id))
    values = {
        "url": data_source.url,
        "audience": data_source.audience,
        "subject": data_source.subject,
        "schema_id": data_source.schema_id,
        "org_id": data_source.org_id,
    }
    for name, value in values.items():
        if expected.get(name) is None:
            expected[name] = value
    if token is None:
        if not data_source.jws_token:
            raise InputError(f"data source {data_source_id} has no jwsToken to verify")
        return data_source.jws_token
    return token


def _report_invalid(exc: InvalidJws, as_json: bool) -> None:
    if as_json:
        print_json({"valid": False, "check": exc.check, "reason": exc.reason})
    click.echo(f"Invalid JWS: {exc}", err=True)


def _report_valid(
    token: str,
    claims: dict[str, Any],
    jwks_url: str,
    expected: dict[str, str | None],
    as_json: bool,
) -> None:
    from ..jws import decode_jws, describe_claim, epoch_to_datetime
    from .render import table

    header = decode_jws(token).header
    checked = [name.replace("_", "-") for name in _EXPECTATION_NAMES if expected.get(name)]
    if as_json:
        print_json(
            {
                "valid": True,
                "jwksUrl": jwks_url,
                "checked": checked,
                "header": header,
                "claims": claims,
            }
        )
        return
    expires = epoch_to_datetime(claims.get("exp"))
    click.echo(f"Valid JWS: RS256 signature by key {header.get('kid')!r} from {jwks_url}.")
    click.echo("Checked: signature, exp, iat" + "".join(f", {name}" for name in checked) + ".")
    if expires is not None:
        click.echo(f"Expires: {describe_claim('exp', claims['exp'])}")
    click.echo("")
    click.echo(table(((k, describe_claim(k, v)) for k, v in claims.items()), ("CLAIM", "VALUE")))


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(jws_group)
