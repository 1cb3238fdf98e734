"""Read a JWS (compact serialization) without verifying it.

Webex signs each data source's ``jwsToken``; the DAP verifies it when Webex presents
it. This tool only needs to *read* it (expiry, audience, nonce, ...), so the signature
is deliberately not checked here.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .durations import describe_moment

# Claim names Webex puts in a data-source JWS, with what they mean to a person.
CLAIM_URL = "com.cisco.datasource.url"
CLAIM_SCHEMA = "com.cisco.datasource.schema.uuid"
CLAIM_ORG = "com.cisco.org.uuid"
TIME_CLAIMS = ("iat", "exp", "nbf")


class JwsDecodeError(ValueError):
    """The text is not a decodable compact JWS."""


@dataclass(frozen=True)
class DecodedJws:
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def expires_at(self) -> datetime | None:
        return epoch_to_datetime(self.claims.get("exp"))

    @property
    def issued_at(self) -> datetime | None:
        return epoch_to_datetime(self.claims.get("iat"))


def b64url_encode(data: bytes) -> str:
    """Base64url without padding, as JWS segments (and Webex ids) use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_json(segment: str, part: str) -> dict[str, Any]:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeError, ValueError):
        raise JwsDecodeError(f"the JWS {part} is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise JwsDecodeError(f"the JWS {part} is not a JSON object")
    return value


def decode_jws(token: str) -> DecodedJws:
    """Split a compact JWS and decode its header and claims (no signature check)."""
    if not isinstance(token, str) or not token.strip():
        raise JwsDecodeError("the JWS is empty")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise JwsDecodeError(f"a compact JWS has 3 dot-separated parts, this one has {len(parts)}")
    return DecodedJws(_b64url_json(parts[0], "header"), _b64url_json(parts[1], "claims"))


def epoch_to_datetime(value: Any) -> datetime | None:
    """A NumericDate claim (seconds since the epoch) as an aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def describe_claim(name: str, value: Any, now: datetime | None = None) -> str:
    """Render one claim; NumericDate claims get a human time next to the number."""
    if name in TIME_CLAIMS:
        moment = epoch_to_datetime(value)
        if moment is not None:
            return f"{value} = {describe_moment(moment, now)}"
    if isinstance(value, str):
        return value
    return json.dumps(value)
