"""Request-body rules taken from the official OpenAPI documents (``../shared/specs``).

Each table maps a request property to its OpenAPI type. Bodies are checked the strict
way: a property the spec does not list is rejected (400) rather than silently ignored,
so a client that drifts from the spec fails against the sandbox first.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from .webex import MAX_LIFETIME_MINUTES, MIN_LIFETIME_MINUTES, STATUSES, URL_SCHEMES

REGISTER_PROPERTIES: dict[str, str] = {
    "audience": "string",
    "nonce": "string",
    "schemaId": "string",
    "subject": "string",
    "tokenLifetimeMinutes": "number",
    "url": "string",
}
# The spec marks nothing required for registration; Webex needs every field to build
# the JWS, so the sandbox requires them all.
REGISTER_REQUIRED = tuple(REGISTER_PROPERTIES)

UPDATE_PROPERTIES: dict[str, str] = {
    **REGISTER_PROPERTIES,
    "errorMessage": "string",
    "status": "string",
}

APPLICATION_TOKEN_PROPERTIES: dict[str, str] = {
    "clientId": "string",
    "clientSecret": "string",
    "targetOrgId": "string",
}
APPLICATION_TOKEN_REQUIRED = ("clientId", "clientSecret", "targetOrgId")

# A PUT replaces the data source: every one of these must be sent (Webex answers 400).
REPLACE_REQUIRED = ("schemaId", "url", "audience", "subject", "nonce", "tokenLifetimeMinutes")

__all__ = ["STATUSES"]


def _type_ok(value: Any, expected: str) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def body_problems(
    body: Any, properties: dict[str, str], required: tuple[str, ...] = ()
) -> list[str]:
    """Every way ``body`` breaks the spec's request properties (empty list: it is fine)."""
    if not isinstance(body, dict):
        return ["The request body must be a JSON object."]
    problems = [f"Unrecognized field '{name}'." for name in body if name not in properties]
    for name in required:
        if body.get(name) in (None, ""):
            problems.append(f"'{name}' is required.")
    for name, expected in properties.items():
        if name in body and body[name] is not None and not _type_ok(body[name], expected):
            problems.append(f"'{name}' must be a {expected}.")
    return problems


def lifetime_problem(value: Any) -> str | None:
    """``tokenLifetimeMinutes`` is a whole number of minutes, 1..1440."""
    if isinstance(value, float) and not value.is_integer():
        return "'tokenLifetimeMinutes' must be a whole number of minutes."
    if not MIN_LIFETIME_MINUTES <= value <= MAX_LIFETIME_MINUTES:
        return (
            f"'tokenLifetimeMinutes' must be between {MIN_LIFETIME_MINUTES} and "
            f"{MAX_LIFETIME_MINUTES}."
        )
    return None


def url_problem(value: str) -> str | None:
    """Webex sends data to ``https://`` or ``wss://`` endpoints with a host."""
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in URL_SCHEMES or not host:
        return "'url' must be an https:// or wss:// URL with a host."
    return None
