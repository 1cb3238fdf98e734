"""Input checks that run before anything is sent. Each failure is one clear InputError line."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .errors import InputError

MIN_LIFETIME_MINUTES = 1
MAX_LIFETIME_MINUTES = 1440
ALLOWED_URL_SCHEMES = ("https", "wss")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Webex's other id style: base64 of "ciscospark://...", which always starts like this.
_WEBEX_B64_PREFIX = "Y2lzY29zcGFyazovL"
_WEBEX_B64 = re.compile(r"[A-Za-z0-9_=-]+")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def validate_url(url: str | None) -> str:
    """An ``https://`` or ``wss://`` URL with a host: where Webex will send the data."""
    text = (url or "").strip()
    if not text:
        raise InputError("the URL is empty: give an https:// or wss:// URL")
    if any(ch.isspace() for ch in text) or _CONTROL_CHARS.search(text):
        raise InputError(f"the URL {_show(url)} contains spaces or control characters")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise InputError(f"the URL {_show(url)} is malformed") from None
    if parts.scheme.lower() not in ALLOWED_URL_SCHEMES:
        raise InputError(f"the URL must start with https:// or wss:// (got {_show(url)})")
    if not host:
        raise InputError(f"the URL {_show(url)} has no host name")
    return text


def validate_lifetime(minutes: object) -> int:
    """Token lifetime in whole minutes, 1..1440 (Webex's limit is 24 hours)."""
    if isinstance(minutes, bool):
        raise InputError("the token lifetime must be a whole number of minutes")
    if isinstance(minutes, str):
        try:
            minutes = int(minutes.strip())
        except ValueError:
            raise InputError(
                f"the token lifetime must be a whole number of minutes (got {_show(minutes)})"
            ) from None
    if not isinstance(minutes, int):
        raise InputError("the token lifetime must be a whole number of minutes")
    if not MIN_LIFETIME_MINUTES <= minutes <= MAX_LIFETIME_MINUTES:
        raise InputError(
            f"the token lifetime must be between {MIN_LIFETIME_MINUTES} and "
            f"{MAX_LIFETIME_MINUTES} minutes (got {minutes})"
        )
    return minutes


def validate_schema_id(schema_id: str | None) -> str:
    """Schema ids are UUIDs (see `byods schemas list`), returned in the lower-case canonical
    form Webex uses, so an id typed in upper case still names the same schema."""
    text = (schema_id or "").strip()
    if not _UUID.fullmatch(text):
        raise InputError(
            f"the schema id must be a UUID like 78efc775-dccb-45ca-9acf-989a4a59f788 "
            f"(got {_show(schema_id)}); see `byods schemas list`"
        )
    return text.lower()


def validate_data_source_id(data_source_id: str | None) -> str:
    """A data-source id: a UUID, or a Webex base64 id (``Y2lzY29zcGFyazovL...``)."""
    text = data_source_id or ""
    if not text.strip():
        raise InputError("the data source ID is empty")
    if text != text.strip() or any(ch.isspace() for ch in text):
        raise InputError(f"the data source ID {_show(text)} contains whitespace")
    if "/" in text or "\\" in text or "?" in text or "#" in text:
        raise InputError(f"the data source ID {_show(text)} contains '/', '\\', '?' or '#'")
    if _UUID.fullmatch(text):
        return text
    if text.startswith(_WEBEX_B64_PREFIX) and _WEBEX_B64.fullmatch(text):
        return text
    raise InputError(
        f"{_show(text)} is not a data source ID: expected a UUID like "
        "f29bb291-5db0-411b-834a-e64f8dee0658 (see `byods list`)"
    )


def validate_text(what: str, value: str | None, empty_message: str | None = None) -> str:
    """A required single-line text value such as the audience or subject."""
    text = (value or "").strip()
    if not text:
        raise InputError(empty_message or f"the {what} is empty")
    if _CONTROL_CHARS.search(text):
        raise InputError(f"the {what} contains control characters or line breaks")
    return text


def validate_audience(value: str | None) -> str:
    return validate_text("audience", value)


def validate_subject(value: str | None) -> str:
    return validate_text("subject", value)


def validate_nonce(value: str | None) -> str:
    return validate_text("nonce", value)


def validate_reason(value: str | None) -> str:
    """The reason for disabling: shown to the customer's admin in Control Hub."""
    return validate_text(
        "reason", value, empty_message="the reason is empty: say why the data source is disabled"
    )
