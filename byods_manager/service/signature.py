"""Webex webhook signatures: ``X-Spark-Signature`` is the HMAC-SHA1 (hex) of the raw body,
keyed with the secret given when the webhook was created."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

SIGNATURE_HEADER = "X-Spark-Signature"


def sign(secret: str, raw_body: bytes) -> str:
    """The header value Webex sends for ``raw_body``."""
    return hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha1).hexdigest()


def verify_signature(secret: str, raw_body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``raw_body`` with ``secret``.

    Compared in constant time; an empty secret or a missing header never verifies.
    """
    if not secret or not header:
        return False
    expected = sign(secret, raw_body)
    given = header.strip().lower()
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))


def verify_any(secrets: Iterable[str], raw_body: bytes, header: str | None) -> bool:
    """True when any of ``secrets`` verifies (a rotation keeps the old secret a while).

    Every secret is tried, so the time taken does not tell which one matched.
    """
    results = [verify_signature(secret, raw_body, header) for secret in secrets]
    return any(results)
