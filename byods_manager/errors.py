"""Error types. Each carries the process exit code the CLI uses for it.

Exit codes (the contract in the README): 0 success, 1 the operation failed,
2 bad usage/input/config (nothing was sent), 3 authentication needs a person.
"""

from __future__ import annotations

from collections.abc import Sequence


class ByodsError(Exception):
    """Base class for every error the tool reports as a one-line message."""

    exit_code = 1


class InputError(ByodsError):
    """Bad user input; nothing was sent."""

    exit_code = 2


class ConfigError(ByodsError):
    """The configuration file is missing, unreadable or invalid."""

    exit_code = 2


class TransportError(ByodsError):
    """The request could not be completed (connection refused, timeout, reset)."""


class AmbiguousRequestError(TransportError):
    """A non-idempotent request may or may not have reached the server."""


class ApiError(ByodsError):
    """Webex answered with an HTTP error status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        tracking_id: str | None = None,
        details: Sequence[str] = (),
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.message = message
        self.tracking_id = tracking_id
        self.details = list(details)
        self.method = method
        self.path = path
        super().__init__(self.describe())

    def describe(self) -> str:
        text = f"HTTP {self.status}: {self.message}"
        extra = [d for d in self.details if d and d != self.message]
        if extra:
            text += " (" + "; ".join(extra) + ")"
        if self.tracking_id:
            text += f" [trackingId: {self.tracking_id}]"
        return text


class NotFoundError(ApiError):
    """HTTP 404."""


class AuthRequiredError(ByodsError):
    """No valid token can be obtained without a person's help."""

    exit_code = 3

    def __init__(self, message: str, attempts: Sequence[str] = ()) -> None:
        self.attempts = list(attempts)
        text = message
        if self.attempts:
            text += "\n" + "\n".join(f"  - {a}" for a in self.attempts)
        super().__init__(text)
