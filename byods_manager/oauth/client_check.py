"""Check the integration's client ID and secret before the browser opens, so a typo is
reported at once instead of after a sign-in.

The token endpoint authenticates the client before it looks at the grant (RFC 6749
section 5.2): redeeming a code that cannot exist answers ``invalid_client`` (401) for a
wrong ID or secret and ``invalid_grant`` (400) for right ones. Any other answer proves
nothing, and the flow goes on.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from ..errors import ApiError, InputError

if TYPE_CHECKING:
    from ..http import HttpClient


def check_client_credentials(
    http: HttpClient, *, client_id: str, client_secret: str, redirect_uri: str
) -> None:
    """Raise :class:`InputError` when Webex says the client ID or secret is wrong."""
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "code": "byods-credential-check-" + secrets.token_urlsafe(16),
        "redirect_uri": redirect_uri,
    }
    try:
        http.request("POST", "/access_token", form=form, authenticated=False)
    except ApiError as exc:
        if exc.status == 401 or "invalid_client" in exc.message:
            raise InputError(
                "Webex does not accept the integration's client ID and secret "
                f"(HTTP {exc.status}); copy both again from the integration on "
                "developer.webex.com (regenerate the secret if it was lost)"
            ) from None
