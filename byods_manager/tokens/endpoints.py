"""The Webex token endpoints, as plain functions over the one HTTP layer.

Used by the token manager's refresh tiers and by the OAuth setup wizard.
"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ByodsError
from ..secrets import remember_secret

if TYPE_CHECKING:
    from ..http import HttpClient

APPLICATIONS_TOKEN_SCOPE = "spark:applications_token"


@dataclass(frozen=True)
class TokenResponse:
    """A token grant with absolute expiry times (epoch seconds) computed at receipt."""

    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: float | None = None
    token_type: str = "Bearer"
    # The API base URL that issued the grant: stored tokens are only ever sent back there.
    base_url: str | None = None

    @classmethod
    def from_payload(
        cls, payload: Any, received_at: float | None = None, base_url: str | None = None
    ) -> TokenResponse:
        if not isinstance(payload, dict):
            raise ByodsError("the token endpoint answered without a JSON object")
        access = payload.get("access_token")
        if not isinstance(access, str) or not access:
            raise ByodsError("the token endpoint answered without an access_token")
        remember_secret(access, payload.get("refresh_token"))
        now = time.time() if received_at is None else received_at
        expires_in = _seconds(payload.get("expires_in"), "expires_in")
        refresh = payload.get("refresh_token")
        refresh_expires_in = payload.get("refresh_token_expires_in")
        return cls(
            access_token=access,
            expires_at=now + expires_in,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            refresh_expires_at=(
                now + _seconds(refresh_expires_in, "refresh_token_expires_in")
                if refresh_expires_in is not None
                else None
            ),
            token_type=str(payload.get("token_type") or "Bearer"),
            base_url=base_url,
        )


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ByodsError(f"the token endpoint answered with a missing or invalid {name}")
    try:
        return float(value)
    except ValueError:
        raise ByodsError(f"the token endpoint answered with an invalid {name}") from None


def _access_token_grant(http: HttpClient, form: dict[str, str]) -> TokenResponse:
    """``POST {base}/access_token``, form-encoded, with no Authorization header."""
    response = http.request("POST", "/access_token", form=form, authenticated=False)
    return TokenResponse.from_payload(response.data, base_url=http.base_url)


def refresh_grant(
    http: HttpClient, *, client_id: str, client_secret: str, refresh_token: str
) -> TokenResponse:
    """``grant_type=refresh_token`` (service app or integration)."""
    return _access_token_grant(
        http,
        {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
        },
    )


def authorization_code_grant(
    http: HttpClient,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str | None = None,
) -> TokenResponse:
    """``grant_type=authorization_code`` (with the PKCE ``code_verifier`` when given)."""
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "code": code,
        "redirect_uri": redirect_uri,
    }
    if code_verifier is not None:
        form["code_verifier"] = code_verifier
    return _access_token_grant(http, form)


def mint_service_app_token(
    http: HttpClient,
    *,
    app_id: str,
    client_id: str,
    client_secret: str,
    target_org_id: str,
    bearer: str,
) -> TokenResponse:
    """``POST {base}/applications/{appId}/token`` authenticated with a token-manager token."""
    response = http.request(
        "POST",
        f"/applications/{urllib.parse.quote(app_id, safe='')}/token",
        json={"clientId": client_id, "clientSecret": client_secret, "targetOrgId": target_org_id},
        bearer=bearer,
    )
    return TokenResponse.from_payload(response.data, base_url=http.base_url)


def authorize_url(
    base_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    scope: str = APPLICATIONS_TOKEN_SCOPE,
    code_challenge: str | None = None,
) -> str:
    """The browser URL that starts the authorization-code flow (``{base}/authorize``);
    ``code_challenge`` is a PKCE S256 challenge."""
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
    }
    if code_challenge is not None:
        params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    return f"{base_url.rstrip('/')}/authorize?{query}"
