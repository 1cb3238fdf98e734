"""Compatibility entry point for scripts written against the older sample.

    from token_manager import TokenManager
    manager = TokenManager(config_path="token-config.json")
    token = manager.get_service_app_token()
    result = manager.extend_data_source_token(data_source_id, token_lifetime_minutes=1440)

A thin adapter over :class:`byods_manager.tokens.manager.TokenManager` (the real token
manager, with the three refresh tiers and the rotation-safe store). ``python
token_manager.py [--config PATH] [--profile NAME]`` prints the token status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from byods_manager.errors import ByodsError
from byods_manager.paths import resolve_base_url, resolve_config_path
from byods_manager.tokens.manager import TokenManager as _ServiceAppTokens
from byods_manager.validation import MAX_LIFETIME_MINUTES, MIN_LIFETIME_MINUTES


class TokenManager:
    """The older sample's interface: get, check and refresh the service-app token, and
    extend a data source's JWS. Errors from the token manager propagate as
    :class:`byods_manager.errors.ByodsError` subclasses, except in
    :meth:`extend_data_source_token`, which reports them in its result dict."""

    def __init__(
        self,
        config_path: str | Path | None = None,
        *,
        profile: str | None = None,
        base_url: str | None = None,
    ) -> None:
        self.config_path = resolve_config_path(config_path)
        self.base_url = resolve_base_url(base_url)
        self.manager = _ServiceAppTokens.from_config(
            self.config_path, profile=profile, base_url=self.base_url
        )

    def get_service_app_token(self) -> str:
        """A valid service-app access token, refreshed through the tiers if needed."""
        return self.manager.get_token()

    def is_token_valid(self) -> bool:
        """True when the stored token is valid beyond the refresh threshold (no network)."""
        return self.manager.is_token_valid()

    def refresh_token(self) -> str:
        """Refresh now, even if the stored token is still valid; return the new token."""
        return self.manager.refresh(force=True).token

    def extend_data_source_token(
        self, data_source_id: str, token_lifetime_minutes: int = MAX_LIFETIME_MINUTES
    ) -> dict[str, Any]:
        """Renew a data source's JWS with a fresh nonce (same values otherwise).

        Returns ``{"success", "data", "nonce_updated", "token_expiry", "error"}``; it
        never raises for API or input errors.
        """
        result: dict[str, Any] = {
            "success": False,
            "data": None,
            "nonce_updated": None,
            "token_expiry": None,
            "error": None,
        }
        if not MIN_LIFETIME_MINUTES <= token_lifetime_minutes <= MAX_LIFETIME_MINUTES:
            result["error"] = (
                f"token_lifetime_minutes must be between {MIN_LIFETIME_MINUTES} and "
                f"{MAX_LIFETIME_MINUTES} (got {token_lifetime_minutes})"
            )
            return result
        from byods_manager.client import DataSourceClient
        from byods_manager.http import HttpClient

        http = HttpClient(self.base_url, self.manager)
        try:
            data_source = DataSourceClient(http).extend(data_source_id, token_lifetime_minutes)
        except ByodsError as exc:
            result["error"] = str(exc)
            return result
        finally:
            http.close()
        expires = data_source.expires_at
        result.update(
            success=True,
            data=data_source.to_dict(),
            nonce_updated=data_source.nonce,
            token_expiry=expires.isoformat() if expires else None,
        )
        return result


def main(argv: list[str] | None = None) -> None:
    """Print the token status (the same as `byods token status`)."""
    from byods_manager.cli.scripts import run_as_script

    run_as_script("token_manager.py", "token", "status", argv=argv)


if __name__ == "__main__":
    main()
