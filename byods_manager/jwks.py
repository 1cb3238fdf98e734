"""Webex's published signing keys (a JWKS), fetched rarely and kept ready for verifying.

:class:`KeyCache` keeps one key set per JWKS URL as ready-to-use RSA public key objects,
so a verification with a known ``kid`` costs no I/O and no key parsing. An unknown ``kid``
causes at most one fetch per cooldown period, so a stream of forged ``kid`` values cannot
make the verifier hammer Webex; and a failed fetch (429, network) leaves the cached keys in
use. ``cryptography`` is imported by the caller (:mod:`byods_manager.verify`) only.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ByodsError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    from .http import HttpClient

# Smaller RSA keys are not trusted even if a key set offers them.
MIN_RSA_BITS = 2048

JwksFetcher = Callable[[str], Any]
"""Takes a JWKS URL and returns the parsed JSON document (raise on any failure)."""


class JwksFetchError(ByodsError):
    """The key set could not be fetched or is not a usable JWKS."""


class HttpJwksFetcher:
    """GETs a JWKS through the project's HTTP layer: no credentials, no retries, short timeouts.

    No retries because a verifier must answer quickly; the cache's cooldown decides when
    to try again. Redirects are not followed.
    """

    def __init__(self, timeout: float | tuple[float, float] = (3.0, 5.0)) -> None:
        self.timeout = timeout
        self._http: HttpClient | None = None

    def __call__(self, url: str) -> Any:
        if self._http is None:
            from .http import HttpClient, RetryPolicy

            self._http = HttpClient("", None, timeout=self.timeout, retry=RetryPolicy(0))
        return self._http.request("GET", url, authenticated=False).data

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def _b64url_int(value: Any) -> int:
    if not isinstance(value, str) or not value:
        raise ValueError("missing")
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return int.from_bytes(raw, "big")


def _public_key(jwk: Mapping[str, Any]) -> RSAPublicKey | None:
    """The RSA key of one JWK usable for RS256 signatures, else None (skipped)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
        return None
    if jwk.get("alg", "RS256") != "RS256":
        return None
    try:
        numbers = rsa.RSAPublicNumbers(_b64url_int(jwk.get("e")), _b64url_int(jwk.get("n")))
        key = numbers.public_key()
    except (ValueError, binascii.Error):
        return None
    return key if key.key_size >= MIN_RSA_BITS else None


def parse_jwks(document: Any) -> dict[str, RSAPublicKey]:
    """``kid`` -> public key for every usable RS256 key in a JWKS document."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise JwksFetchError("the response is not a JWKS (no 'keys' list)")
    keys: dict[str, RSAPublicKey] = {}
    for jwk in entries:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
            continue
        key = _public_key(jwk)
        if key is not None:
            keys[jwk["kid"]] = key
    if not keys:
        raise JwksFetchError("the JWKS holds no usable RS256 key")
    return keys


@dataclass(frozen=True)
class _KeySet:
    keys: Mapping[str, RSAPublicKey]
    fetched_at: float


class KeyCache:
    """Thread-safe key sets by JWKS URL, with a TTL and a re-fetch cooldown.

    Reads of a fresh, known ``kid`` take no lock. Everything that may fetch happens under
    one lock, so concurrent misses cause one fetch, not one per thread.
    """

    def __init__(
        self,
        fetcher: JwksFetcher,
        *,
        ttl: float = 3600.0,
        cooldown: float = 30.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetcher = fetcher
        self.ttl = ttl
        self.cooldown = cooldown
        self._timer = timer
        self._sets: dict[str, _KeySet] = {}
        self._last_attempt: dict[str, float] = {}
        self._last_error: dict[str, str] = {}
        self._lock = threading.Lock()
        self.fetch_count = 0

    def key(self, url: str, kid: str) -> RSAPublicKey | None:
        """The key named ``kid`` at ``url``, or None when the key set does not have it.

        Raises :class:`JwksFetchError` when no key set for ``url`` could ever be fetched.
        """
        entry = self._sets.get(url)
        if entry is not None and self._timer() - entry.fetched_at < self.ttl:
            found = entry.keys.get(kid)
            if found is not None:
                return found
        with self._lock:
            entry = self._refresh(url, kid)
        return entry.keys.get(kid)

    def _refresh(self, url: str, kid: str) -> _KeySet:
        entry = self._sets.get(url)
        now = self._timer()
        if entry is not None and now - entry.fetched_at < self.ttl and kid in entry.keys:
            return entry  # another thread fetched it while we waited for the lock
        last = self._last_attempt.get(url)
        if last is None or now - last >= self.cooldown:
            self._last_attempt[url] = now
            self.fetch_count += 1
            try:
                entry = _KeySet(parse_jwks(self._fetcher(url)), now)
            except Exception as exc:  # any failure: keep serving what we have
                self._last_error[url] = _describe(exc)
            else:
                self._sets[url] = entry
                self._last_error.pop(url, None)
        if entry is None:
            reason = self._last_error.get(url, "not fetched yet")
            raise JwksFetchError(f"no signing keys available from {url}: {reason}")
        return entry

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()
            self._last_attempt.clear()
            self._last_error.clear()


def _describe(exc: Exception) -> str:
    if isinstance(exc, ByodsError):
        return str(exc)
    return type(exc).__name__
