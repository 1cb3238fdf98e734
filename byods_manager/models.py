"""Typed views of the API's data sources and schemas.

The list endpoint returns thin items (id, jwsToken, orgId, ...) without audience,
subject, schema or URL; those live in the JWS claims, so :meth:`DataSource.from_api`
falls back to the claims for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from .jws import CLAIM_ORG, CLAIM_SCHEMA, CLAIM_URL, DecodedJws, JwsDecodeError, decode_jws
from .secrets import remember_secret

_SERVICE_FOLDER = re.compile(r"/Services/([^/]+)/")
# Attribute name -> API field name, in the order people read them.
_DATA_SOURCE_FIELDS = (
    ("id", "id"),
    ("status", "status"),
    ("audience", "audience"),
    ("subject", "subject"),
    ("schema_id", "schemaId"),
    ("url", "url"),
    ("nonce", "nonce"),
    ("token_lifetime_minutes", "tokenLifetimeMinutes"),
    ("error_message", "errorMessage"),
    ("org_id", "orgId"),
    ("application_id", "applicationId"),
    ("created_at", "createdAt"),
    ("created_by", "createdBy"),
)
_ATTRIBUTES = {api_name: attribute for attribute, api_name in _DATA_SOURCE_FIELDS}
# API field -> the JWS claim that carries the same value.
CLAIM_FALLBACKS = {
    "audience": "aud",
    "subject": "sub",
    "schemaId": CLAIM_SCHEMA,
    "url": CLAIM_URL,
    "nonce": "jti",
    "orgId": CLAIM_ORG,
}


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _minutes(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


@dataclass
class DataSource:
    id: str
    status: str | None = None
    audience: str | None = None
    subject: str | None = None
    schema_id: str | None = None
    url: str | None = None
    nonce: str | None = None
    token_lifetime_minutes: int | None = None
    error_message: str | None = None
    jws_token: str | None = field(default=None, repr=False)
    org_id: str | None = None
    application_id: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> DataSource:
        """Build from an API object, taking missing values from the JWS claims."""
        token = _text(data.get("jwsToken"))
        remember_secret(token)
        decoded = _decode(token)
        claims = decoded.claims if decoded else {}

        def pick(api_name: str) -> str | None:
            value = _text(data.get(api_name))
            if value is None and api_name in CLAIM_FALLBACKS:
                value = _text(claims.get(CLAIM_FALLBACKS[api_name]))
            return value

        data_source = cls(
            id=str(data.get("id") or ""),
            status=pick("status"),
            audience=pick("audience"),
            subject=pick("subject"),
            schema_id=pick("schemaId"),
            url=pick("url"),
            nonce=pick("nonce"),
            token_lifetime_minutes=_minutes(data.get("tokenLifetimeMinutes")),
            error_message=pick("errorMessage"),
            jws_token=token,
            org_id=pick("orgId"),
            application_id=pick("applicationId"),
            created_at=pick("createdAt"),
            created_by=pick("createdBy"),
            raw=dict(data),
        )
        # Seed the cached property: the token was just decoded, once.
        data_source.__dict__["decoded_jws"] = decoded
        return data_source

    def to_dict(self, include_token: bool = False) -> dict[str, Any]:
        """API field names; ``jwsToken`` only when asked for. Unknown API fields are kept."""
        result: dict[str, Any] = {}
        for attribute, api_name in _DATA_SOURCE_FIELDS:
            value = getattr(self, attribute)
            if value is not None:
                result[api_name] = value
        for key, value in self.raw.items():
            if key not in result and key != "jwsToken" and value not in (None, ""):
                result[key] = value
        if include_token and self.jws_token:
            result["jwsToken"] = self.jws_token
        return result

    @cached_property
    def decoded_jws(self) -> DecodedJws | None:
        """The JWS header and claims, or None when there is no decodable token.

        Decoded once per object (``jws_token`` is not meant to change afterwards).
        """
        return _decode(self.jws_token)

    @property
    def claims(self) -> dict[str, Any] | None:
        decoded = self.decoded_jws
        return decoded.claims if decoded else None

    @property
    def expires_at(self) -> datetime | None:
        decoded = self.decoded_jws
        return decoded.expires_at if decoded else None

    def value_or_claim(self, api_name: str) -> str | None:
        """The value of API field ``api_name``, else the JWS claim that carries it."""
        value = _text(getattr(self, _ATTRIBUTES[api_name]))
        if value is None and api_name in CLAIM_FALLBACKS:
            value = _text((self.claims or {}).get(CLAIM_FALLBACKS[api_name]))
        return value

    @property
    def is_disabled(self) -> bool:
        return (self.status or "").lower() == "disabled"


def _decode(token: str | None) -> DecodedJws | None:
    if not token:
        return None
    try:
        return decode_jws(token)
    except JwsDecodeError:
        return None


@dataclass
class Schema:
    id: str
    service_type: str | None = None
    protocol: str | None = None
    app_type: str | None = None
    url: str | None = None
    created_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Schema:
        return cls(
            id=str(data.get("id") or ""),
            service_type=_text(data.get("serviceType")),
            protocol=_text(data.get("protocol")),
            app_type=_text(data.get("appType")),
            url=_text(data.get("url")),
            created_at=_text(data.get("createdAt")),
            raw=dict(data),
        )

    def to_dict(self) -> dict[str, Any]:
        result = dict(self.raw)
        for api_name, value in (
            ("id", self.id),
            ("serviceType", self.service_type),
            ("protocol", self.protocol),
            ("appType", self.app_type),
            ("url", self.url),
            ("createdAt", self.created_at),
        ):
            if value is not None:
                result[api_name] = value
        return result

    @property
    def name(self) -> str | None:
        """The schema's folder name in Webex's schema repository (``.../Services/NAME/...``).

        Several schemas share a service type and protocol; this tells them apart.
        """
        match = _SERVICE_FOLDER.search(self.url or "")
        return match.group(1) if match else None

    @property
    def label(self) -> str:
        """``voiceVirtualAgent (gRPC)``, or ``contactCenter/AudioForking (gRPC)`` when the
        schema URL names it; the id when the schema has no service type."""
        kind = self.service_type or self.id
        if self.name:
            kind = f"{kind}/{self.name}"
        return f"{kind} ({self.protocol})" if self.protocol else kind
