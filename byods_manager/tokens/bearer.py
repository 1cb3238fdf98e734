"""The token-manager token (personal access token or integration token) as a bearer for
the APIs that need a person's or an integration's token: the Applications API and the
Webhooks API.

The choice is the refresh chain's (:func:`.tiers.token_manager_bearer`); when none is
usable, or Webex rejects the chosen one with a 401, the integration's refresh token is
used once (saved under the store lock by the token manager) and the call is repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from ..errors import ApiError, AuthRequiredError
from .tiers import SETUP_HINT, reconcile, token_manager_bearer

if TYPE_CHECKING:
    from .manager import TokenManager

T = TypeVar("T")

NO_BEARER = (
    "No usable token-manager token (tokenManager.personalAccessToken, or an integration with "
    "a refresh token). " + SETUP_HINT
)


class TokenManagerBearer:
    """Hands out the token-manager token and repairs it once after a 401."""

    def __init__(self, manager: TokenManager) -> None:
        self.manager = manager

    def current(self) -> str:
        snapshot = self.manager.store.load()
        reconcile(snapshot, self.manager.config)
        found = token_manager_bearer(self.manager.config, snapshot, self.manager.threshold)
        if found is not None:
            return found[0]
        return self._from_integration()

    def call(self, send: Callable[[str], T]) -> T:
        """``send(bearer)``; after a 401, once more with a refreshed integration token."""
        try:
            return send(self.current())
        except ApiError as exc:
            if exc.status != 401:
                raise
            rejected = exc
        try:
            token = self._from_integration()
        except AuthRequiredError:
            raise AuthRequiredError(
                f"Webex rejected the token-manager token ({rejected.describe()}). " + SETUP_HINT
            ) from None
        return send(token)

    def _from_integration(self) -> str:
        try:
            response = self.manager.refresh_integration()
        except ApiError as exc:
            raise AuthRequiredError(
                f"The integration's refresh token was refused ({exc.describe()}). " + SETUP_HINT
            ) from None
        if response is None:
            raise AuthRequiredError(NO_BEARER)
        return response.access_token
