"""Verify the data-source JWS that Webex presents to a DAP's endpoint.

>>> verifier = JwsVerifier(environment="production")          # doctest: +SKIP
>>> claims = verifier.verify(token, url="wss://dap.example.com/va",
...                          audience="MyDap", org_id=MY_CUSTOMER_ORG)

One instance serves a whole server (it is thread-safe and keeps the keys ready). Checks,
in order: compact form; ``alg`` is RS256 (nothing else, never ``none``); the issuer is an
allow-listed Webex identity broker (before anything is fetched) unless an explicit
``jwks_url`` is configured; the key named by ``kid``; the signature; ``exp``/``iat``/``nbf``
with a leeway; every expectation given. Each failure raises :class:`InvalidJws` naming the
check; messages never contain the token.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .base_url import is_loopback_host
from .environments import ALL_WEBEX, JWKS_PATH, Environment, get_environment
from .errors import ByodsError, ConfigError
from .jwks import HttpJwksFetcher, JwksFetcher, JwksFetchError, KeyCache
from .jws import CLAIM_ORG, CLAIM_SCHEMA, CLAIM_URL

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.hashes import SHA256

__all__ = ["InvalidJws", "JwksUnavailable", "JwsVerifier"]

MISSING_EXTRA = "JWS verification needs the 'verify' extra: pip install 'byods-manager[verify]'"
ALGORITHM = "RS256"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_HYDRA_ORG = re.compile(r"ciscospark://[a-z0-9-]+/ORGANIZATION/([0-9a-fA-F-]{36})")

# (keyword, claim, label). UUID-valued claims compare case-insensitively.
_EXPECTATIONS = (
    ("url", CLAIM_URL, "url"),
    ("audience", "aud", "audience"),
    ("subject", "sub", "subject"),
    ("schema_id", CLAIM_SCHEMA, "schema id"),
    ("org_id", CLAIM_ORG, "org id"),
    ("nonce", "jti", "nonce"),
)
_UUID_KEYWORDS = frozenset({"schema_id", "org_id"})
# Values people may want to see in an error; the nonce is left out.
_SHOWN_KEYWORDS = frozenset({"url", "audience", "subject", "schema_id", "org_id"})


class InvalidJws(ByodsError):
    """The JWS failed a check. ``check`` names it (``signature``, ``exp``, ``audience``...)."""

    def __init__(self, check: str, reason: str) -> None:
        self.check = check
        self.reason = reason
        super().__init__(f"{check}: {reason}")


class JwksUnavailable(InvalidJws):
    """No signing keys could be had (fetch failed and nothing cached): not the token's fault.

    A server may answer "try again later" instead of "unauthenticated" for this one.
    """


def _show(value: Any, limit: int = 60) -> str:
    """An attacker-controlled value, shortened, for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _segment(text: str, part: str) -> bytes:
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise InvalidJws("format", f"the {part} is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidJws("format", f"the {part} is not base64url") from None


def _json_object(text: str, part: str) -> dict[str, Any]:
    try:
        value = json.loads(_segment(text, part))
    except (UnicodeError, ValueError):
        raise InvalidJws("format", f"the {part} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidJws("format", f"the {part} is not a JSON object")
    return value


@functools.lru_cache(maxsize=256)
def _header(text: str) -> dict[str, Any]:
    """The decoded header; Webex reuses one header per key, so it is parsed once (read-only)."""
    return _json_object(text, "header")


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidJws(name, f"the {name} claim is not a number")
    return float(value)


@functools.lru_cache(maxsize=256)
def org_uuid(org_id: str) -> str:
    """An org id as the JWS carries it (a UUID); accepts the base64 ``ciscospark://`` form."""
    text = org_id.strip()
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return text
    match = _HYDRA_ORG.fullmatch(decoded)
    return match.group(1) if match else text


def _check_jwks_url(url: str) -> None:
    """https://, or http:// on a loopback host only (a sandbox, a test server)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        if is_loopback_host(host):
            return
        raise ConfigError(f"refusing a plain http:// JWKS URL for a non-loopback host ({host})")
    raise ConfigError(f"the JWKS URL must be an https:// URL, not {_show(url)}")


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class JwsVerifier:
    """Verifies data-source JWS tokens against Webex's published keys.

    ``environment`` (``"production"`` or ``"integration"``) narrows the trusted identity
    brokers to that environment's; by default every Webex broker is trusted. A production
    DAP should pass ``environment="production"`` (anyone can get an integration token
    for any URL) and ``org_id`` to :meth:`verify` (anyone can register any URL in their own
    org). ``jwks_url`` fixes the key set and skips the issuer allow-list (a test broker,
    the sandbox); ``trusted_issuers`` adds exact issuers whose
    ``{iss}/oauth2/v2/keys/verificationjwk`` may be fetched.
    """

    def __init__(
        self,
        *,
        environment: str | Environment | None = None,
        jwks_url: str | None = None,
        trusted_issuers: Iterable[str] = (),
        leeway: float | timedelta = 60.0,
        cache_ttl: float | timedelta = 3600.0,
        refetch_cooldown: float | timedelta = 30.0,
        fetcher: JwksFetcher | None = None,
        clock: Callable[[], float] = time.time,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._padding, self._hash, self._invalid_signature = _crypto()
        if isinstance(environment, str):
            environment = get_environment(environment)
        self.environment = environment or ALL_WEBEX
        if jwks_url is not None:
            _check_jwks_url(jwks_url)
        self.jwks_url = jwks_url
        self.trusted_issuers = frozenset(issuer.rstrip("/") for issuer in trusted_issuers)
        self.leeway = _seconds(leeway)
        if self.leeway < 0:
            raise ConfigError("the leeway must not be negative")
        self._clock = clock
        self.keys = KeyCache(
            fetcher or HttpJwksFetcher(),
            ttl=_seconds(cache_ttl),
            cooldown=_seconds(refetch_cooldown),
            timer=timer,
        )

    def jwks_url_for(self, issuer: Any) -> str:
        """Where the keys for ``issuer`` are; refuses an issuer that is not trusted."""
        if self.jwks_url is not None:
            return self.jwks_url
        if not isinstance(issuer, str) or not issuer:
            raise InvalidJws("issuer", "the token has no iss claim")
        if issuer in self.trusted_issuers or self.environment.trusts_issuer(issuer):
            return issuer + JWKS_PATH
        scope = (
            "a Webex identity broker"
            if self.environment is ALL_WEBEX
            else f"a Webex {self.environment.name} identity broker"
        )
        raise InvalidJws("issuer", f"{_show(issuer)} is not {scope}")

    def verify(
        self,
        token: str,
        *,
        url: str | None = None,
        audience: str | None = None,
        subject: str | None = None,
        schema_id: str | None = None,
        org_id: str | None = None,
        nonce: str | None = None,
    ) -> dict[str, Any]:
        """The token's claims when every check passes; else :class:`InvalidJws`."""
        if not isinstance(token, str) or not token.strip():
            raise InvalidJws("format", "the token is empty")
        parts = token.strip().split(".")
        if len(parts) != 3:
            raise InvalidJws("format", f"a compact JWS has 3 parts, this one has {len(parts)}")
        header = _header(parts[0])
        alg = header.get("alg")
        if alg != ALGORITHM:
            raise InvalidJws("alg", f"only {ALGORITHM} is accepted, the token says {_show(alg)}")
        if "crit" in header:
            raise InvalidJws("crit", "the header lists critical extensions this verifier lacks")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidJws("kid", "the header names no key (kid)")
        claims = _json_object(parts[1], "payload")
        jwks_url = self.jwks_url_for(claims.get("iss"))
        signature = _segment(parts[2], "signature")
        try:
            key = self.keys.key(jwks_url, kid)
        except JwksFetchError as exc:
            raise JwksUnavailable("keys", str(exc)) from None
        if key is None:
            raise InvalidJws("kid", f"no key {_show(kid)} in the issuer's key set")
        signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
        try:
            key.verify(signature, signing_input, self._padding, self._hash)
        except self._invalid_signature:
            raise InvalidJws(
                "signature", f"the signature does not verify with key {kid!r}"
            ) from None
        self._check_times(claims)
        self._check_expectations(
            claims,
            url=url,
            audience=audience,
            subject=subject,
            schema_id=schema_id,
            org_id=org_id,
            nonce=nonce,
        )
        return claims

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self._clock()
        expires = _number(claims, "exp")
        if expires is None:
            raise InvalidJws("exp", "the token has no exp claim")
        if now > expires + self.leeway:
            raise InvalidJws("exp", f"the token expired {int(now - expires)}s ago")
        issued = _number(claims, "iat")
        if issued is None:
            raise InvalidJws("iat", "the token has no iat claim")
        if issued > now + self.leeway:
            raise InvalidJws("iat", f"the token is issued {int(issued - now)}s in the future")
        not_before = _number(claims, "nbf")
        if not_before is not None and not_before > now + self.leeway:
            raise InvalidJws("nbf", f"the token is not valid for another {int(not_before - now)}s")

    def _check_expectations(self, claims: dict[str, Any], **expected: str | None) -> None:
        for keyword, claim, label in _EXPECTATIONS:
            want = expected[keyword]
            if want is None:
                continue
            have = claims.get(claim)
            if keyword == "org_id":
                want = org_uuid(want)
            if _matches(keyword, have, want):
                continue
            check = keyword.replace("_", "-")
            if have is None:
                raise InvalidJws(check, f"the token has no {claim} claim")
            if keyword in _SHOWN_KEYWORDS:
                raise InvalidJws(
                    check, f"the token is for {label} {_show(have)}, expected {_show(want)}"
                )
            raise InvalidJws(check, f"the token's {claim} does not match the expected {label}")


def _matches(keyword: str, have: Any, want: str) -> bool:
    if keyword == "audience" and isinstance(have, list):
        return want in have
    if not isinstance(have, str):
        return False
    if keyword in _UUID_KEYWORDS:
        return have.lower() == want.strip().lower()
    return have == want


def _crypto() -> tuple[PKCS1v15, SHA256, type[Exception]]:
    """Padding, hash and the bad-signature error, made once per verifier (install hint if
    ``cryptography`` is missing)."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
    except ImportError:
        raise ConfigError(MISSING_EXTRA) from None
    return padding.PKCS1v15(), hashes.SHA256(), InvalidSignature
