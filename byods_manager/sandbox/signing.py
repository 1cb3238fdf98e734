"""RS256 signing for data-source ``jwsToken`` values, the JWKS that verifies them, rotation.

``cryptography`` comes with the optional ``sandbox`` extra, so it is imported lazily.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ..errors import ConfigError
from ..jws import b64url_encode

MISSING_EXTRA = "byods sandbox needs the 'sandbox' extra: pip install 'byods-manager[sandbox]'"


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError:
        raise ConfigError(MISSING_EXTRA) from None
    return hashes, serialization, padding, rsa


class Signer:
    """One RSA key (kept in PEM form so the state file can carry it across restarts)."""

    def __init__(self, private_pem: str | None = None, kid: str | None = None) -> None:
        hashes, serialization, padding, rsa = _crypto()
        self._hashes, self._padding = hashes, padding
        if private_pem is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
        self._key = key
        self.kid = kid or str(uuid.uuid4())
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def jwk(self) -> dict[str, str]:
        numbers = self._key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": b64url_encode(_int_bytes(numbers.n)),
            "e": b64url_encode(_int_bytes(numbers.e)),
        }

    def sign(self, claims: dict[str, Any]) -> str:
        """A compact JWS with the header layout Webex uses (kid, typ, alg)."""
        header = {"kid": self.kid, "typ": "JWT", "alg": "RS256"}
        signing_input = (
            b64url_encode(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = self._key.sign(
            signing_input.encode("ascii"), self._padding.PKCS1v15(), self._hashes.SHA256()
        )
        return signing_input + "." + b64url_encode(signature)


class KeyRing:
    """The signing keys: the newest signs; published ones are in the JWKS.

    ``records`` is the state's list of ``{"pem", "kid", "published"}`` (newest last); the
    ring keeps it up to date so a state file carries the keys across restarts.
    """

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        if not records:
            self._add()
        self._signers = {r["kid"]: Signer(r["pem"], r["kid"]) for r in records}

    def _add(self) -> Signer:
        signer = Signer()
        self.records.append({"pem": signer.private_pem, "kid": signer.kid, "published": True})
        return signer

    @property
    def current(self) -> Signer:
        return self._signers[self.records[-1]["kid"]]

    def rotate(self, keep_old: bool = True) -> str:
        """A new current key; the old ones stay published only with ``keep_old``."""
        if not keep_old:
            for record in self.records:
                record["published"] = False
        signer = self._add()
        self._signers[signer.kid] = signer
        return signer.kid

    def sign(self, claims: dict[str, Any]) -> str:
        return self.current.sign(claims)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Published keys, newest first."""
        published = [r["kid"] for r in reversed(self.records) if r.get("published", True)]
        return {"keys": [self._signers[kid].jwk() for kid in published]}
