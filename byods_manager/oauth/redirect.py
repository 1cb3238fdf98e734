"""The redirect URI and what comes back on it: one set of rules for the loopback callback
and for a URL (or code) the user pastes."""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import ByodsError, InputError

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class MalformedRedirect(InputError):
    """The redirect does not answer the authorization in progress (the flow keeps waiting)."""


class StateMismatch(MalformedRedirect):
    """The ``state`` is missing or not the one this run generated."""


class AuthorizationDenied(ByodsError):
    """The authorization server answered with ``error=...`` (e.g. the user clicked Deny)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = error
        self.description = description
        text = f"authorization was not granted ({error})"
        if description:
            text += f": {description}"
        if error == "access_denied":
            text += ". Run the setup again and choose Accept on the Webex consent page."
        super().__init__(text)


class AuthorizationTimeout(ByodsError):
    """Nobody completed the browser sign-in in time."""


@dataclass(frozen=True)
class RedirectTarget:
    """A parsed redirect URI; ``listenable`` when the wizard can serve it on loopback."""

    uri: str
    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, uri: str) -> RedirectTarget:
        parts = urllib.parse.urlsplit(uri.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"--redirect-uri must be an absolute http(s) URL, got {uri!r}")
        try:
            port = parts.port
        except ValueError:
            raise InputError(f"--redirect-uri has an invalid port: {uri!r}") from None
        if port is None:
            port = 443 if parts.scheme == "https" else 80
        return cls(
            uri=uri.strip(),
            scheme=parts.scheme,
            host=parts.hostname.lower(),
            port=port,
            path=parts.path or "/",
        )

    @property
    def listenable(self) -> bool:
        """Plain http on a loopback host: the only kind the wizard serves itself."""
        return self.scheme == "http" and self.host in LOOPBACK_HOSTS


def _first(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    return values[0]


def code_from_query(params: Mapping[str, Sequence[str]], expected_state: str) -> str:
    """The authorization code from redirect query parameters, after checking ``state``.

    Raises :class:`StateMismatch` for a missing or foreign state (checked before anything
    else, so a forged ``error=`` cannot end the flow), :class:`AuthorizationDenied` for an
    error answer, :class:`MalformedRedirect` when neither a code nor an error is present.
    """
    state = _first(params, "state")
    if state is None or not secrets.compare_digest(
        state.encode("utf-8"), expected_state.encode("utf-8")
    ):
        raise StateMismatch(
            "the redirect's state does not match this setup run "
            "(an old or foreign authorization response)"
        )
    error = _first(params, "error")
    if error:
        raise AuthorizationDenied(error, _first(params, "error_description"))
    code = _first(params, "code")
    if not code:
        raise MalformedRedirect("the redirect carries neither a code nor an error")
    return code


def code_from_pasted(text: str, expected_state: str) -> str:
    """The code from what the user pasted: the full redirected URL, its query, or the code.

    A URL or query string must carry the matching ``state``; a bare code has none to check.
    """
    pasted = text.strip().strip("'\"").strip()
    if not pasted:
        raise MalformedRedirect("nothing was pasted")
    if "?" in pasted or "=" in pasted:
        query = urllib.parse.urlsplit(pasted).query if "?" in pasted else pasted
        params = urllib.parse.parse_qs(query, keep_blank_values=False)
        return code_from_query(params, expected_state)
    if any(ch.isspace() for ch in pasted) or "/" in pasted:
        raise MalformedRedirect(
            "paste the full URL from the browser's address bar, or just the code"
        )
    return pasted
