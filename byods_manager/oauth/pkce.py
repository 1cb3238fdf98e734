"""PKCE (RFC 7636) with S256: a one-time verifier and the challenge derived from it, so an
authorization code caught by another local process cannot be redeemed without the verifier."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field

METHOD = "S256"


def challenge_for(verifier: str) -> str:
    """``BASE64URL(SHA256(verifier))`` without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class Pkce:
    verifier: str = field(repr=False)

    @classmethod
    def new(cls) -> Pkce:
        """64 random bytes as base64url: 86 characters, inside RFC 7636's 43..128."""
        return cls(secrets.token_urlsafe(64))

    @property
    def challenge(self) -> str:
        return challenge_for(self.verifier)
