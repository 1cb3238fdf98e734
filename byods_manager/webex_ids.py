"""Webex public ids: base64url (no padding) of ``ciscospark://us/KIND/raw``."""

from __future__ import annotations

import base64
import binascii
import re

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


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def org_key(org_id: str) -> str:
    """What identifies an org whichever form its id is given in: the UUID (lower case) for
    both the plain UUID Control Hub shows and the base64 ``ciscospark://<region>/
    ORGANIZATION/<uuid>`` id the APIs use; any other text as it is."""
    text = org_id.strip()
    raw = raw_id(text, ORGANIZATION) or text
    return raw.lower() if _UUID.fullmatch(raw) else raw


def same_org(first: str, second: str) -> bool:
    """True when both ids name the same org (see :func:`org_key`)."""
    return org_key(first) == org_key(second)


def public_org_id(org_id: str) -> str:
    """The form the Applications API takes as ``targetOrgId``: a plain UUID becomes its
    base64 Webex id; any other id is kept as given."""
    text = org_id.strip()
    return spark_id(ORGANIZATION, text.lower()) if _UUID.fullmatch(text) else text
