"""The token-provider interface the HTTP layer authenticates with.

A provider answers two questions: "give me a valid token" and "this token was
rejected; is a different one worth trying?". The token manager implements the
same interface; the simplest provider wraps a fixed token from the environment.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

from .errors import AuthRequiredError
from .secrets import remember_secret

ENV_ACCESS_TOKEN = "WEBEX_SERVICE_APP_ACCESS_TOKEN"


@runtime_checkable
class TokenProvider(Protocol):
    def get_token(self) -> str:
        """Return a token believed valid, refreshing if needed (may raise AuthRequiredError)."""
        ...

    def invalidate(self, token: str) -> bool:
        """Record that the server rejected ``token``.

        Return True when calling :meth:`get_token` again may yield a different
        token, so a single retry is worthwhile.
        """
        ...


class StaticTokenProvider:
    """A fixed token, e.g. from ``WEBEX_SERVICE_APP_ACCESS_TOKEN``. It cannot refresh."""

    def __init__(self, token: str, source: str = ENV_ACCESS_TOKEN) -> None:
        if not token.strip():
            raise AuthRequiredError(f"{source} is set but empty.")
        self._token = token.strip()
        remember_secret(self._token)
        self.source = source

    def get_token(self) -> str:
        return self._token

    def invalidate(self, token: str) -> bool:
        raise AuthRequiredError(
            f"Webex rejected the access token from {self.source} (HTTP 401). "
            "Set a fresh service-app token, or unset it and configure the token manager "
            "(run `byods auth setup`)."
        )


def environment_token() -> str | None:
    """``$WEBEX_SERVICE_APP_ACCESS_TOKEN``; set but empty (or blank) counts as unset."""
    token = os.environ.get(ENV_ACCESS_TOKEN, "").strip()
    return token or None


def provider_from_environment() -> StaticTokenProvider | None:
    token = environment_token()
    if token is None:
        return None
    return StaticTokenProvider(token)
