"""Update ``token-config.json`` in place, keeping every unrelated key and the user's spelling.

The write happens under the config file's cross-process lock (the same one the token
manager takes), after re-reading the file, atomically and with mode 0600.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..fileio import atomic_write_json, file_lock, read_json
from ..tokens.config_keys import (
    SERVICE_APP_FIELDS,
    KeyPath,
    select_profile,
    write_location,
)


def _set(node: dict[str, Any], path: KeyPath, value: str) -> None:
    for key in path[:-1]:
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        elif not isinstance(child, dict):
            raise ConfigError(f"cannot store {'.'.join(path)}: {key!r} is not an object")
        node = child
    node[path[-1]] = value


def _empty_document(profile: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new file: single-profile, or multi-profile when a named profile is asked for."""
    if profile in (None, "default"):
        document: dict[str, Any] = {}
        return document, document
    section: dict[str, Any] = {}
    return {"defaultProfile": profile, "profiles": {profile: section}}, section


def update_token_config(
    config_path: Path,
    *,
    profile: str | None = None,
    service_app: Mapping[str, str] | None = None,
    token_manager: Mapping[str, str] | None = None,
) -> None:
    """Write the given fields into the profile, creating the file if it is missing.

    ``service_app`` keys are the ``serviceApp`` field names (``appId``, ``clientId``, ...);
    ``token_manager`` keys are the canonical token-manager names (``personalAccessToken``,
    ``oauthClientId``, ``oauthClientSecret``, ``oauthRefreshToken``), each written where
    :func:`write_location` says the user keeps it.
    """
    service_app = service_app or {}
    token_manager = token_manager or {}
    with file_lock(config_path):
        if config_path.exists():
            document = read_json(config_path, what="config file")
            section, _ = select_profile(document, profile)
        else:
            document, section = _empty_document(profile)
        for field, value in service_app.items():
            _set(section, SERVICE_APP_FIELDS[field][0], value)
        for field, value in token_manager.items():
            _set(section, write_location(section, field), value)
        atomic_write_json(config_path, document)
