"""Webex public ids: base64url (no padding) of ``ciscospark://us/KIND/raw``."""

from __future__ import annotations

from .jws import b64url_encode

APPLICATION = "APPLICATION"


def spark_id(kind: str, raw: str) -> str:
    """The public id Webex shows for the object ``raw`` of ``kind`` (e.g. APPLICATION)."""
    return b64url_encode(f"ciscospark://us/{kind}/{raw}".encode())


def app_id_for_client(client_id: str) -> str:
    """A service app's ``appId`` as derived from its OAuth client id."""
    return spark_id(APPLICATION, client_id.strip())
