"""Webex public ids: base64url (no padding) of ``ciscospark://us/KIND/raw``."""

from __future__ import annotations

import base64
import binascii

from .jws import b64url_encode

APPLICATION = "APPLICATION"
ORGANIZATION = "ORGANIZATION"


def spark_id(kind: str, raw: str) -> str:
    """The public id Webex shows for the object ``raw`` of ``kind`` (e.g. APPLICATION)."""
    return b64url_encode(f"ciscospark://us/{kind}/{raw}".encode())


def app_id_for_client(client_id: str) -> str:
    """A service app's ``appId`` as derived from its OAuth client id."""
    return spark_id(APPLICATION, client_id.strip())


def raw_id(public_id: str, kind: str) -> str | None:
    """The raw id inside a public id of ``kind`` (an org's UUID), or None if it is not one."""
    text = public_id.strip()
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, ValueError):
        return None
    prefix, _, raw = decoded.rpartition("/")
    if not raw or not prefix.startswith("ciscospark://") or not prefix.endswith("/" + kind):
        return None
    return raw
