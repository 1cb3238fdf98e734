"""Where each credential lives in ``token-config.json``, including the older spellings.

Readers (the token manager) and writers (the setup wizard) share this table so that a
value is always found where the user put it, and written back under the same spelling.

Single-profile file::

    {"serviceApp": {"appId", "clientId", "clientSecret", "targetOrgId"},
     "tokenManager": {"personalAccessToken", "oauthClientId", "oauthClientSecret",
                      "oauthRefreshToken"}}

Multi-profile file: ``{"defaultProfile": "prod", "profiles": {"prod": {...as above...}}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError

KeyPath = tuple[str, ...]

SERVICE_APP_FIELDS: dict[str, tuple[KeyPath, ...]] = {
    "appId": (("serviceApp", "appId"),),
    "clientId": (("serviceApp", "clientId"),),
    "clientSecret": (("serviceApp", "clientSecret"),),
    "targetOrgId": (("serviceApp", "targetOrgId"),),
    # Optional seeds from older setups; the token store takes over once it has tokens.
    "accessToken": (("serviceApp", "accessToken"),),
    "refreshToken": (("serviceApp", "refreshToken"),),
}

# Each token-manager field under its spellings: "current" (preferred for new files),
# "legacy" (older flat keys) and "nested" (an ``integration`` object).
SPELLINGS = ("current", "legacy", "nested")
TOKEN_MANAGER_SPELLINGS: dict[str, dict[str, KeyPath]] = {
    "personalAccessToken": {
        "current": ("tokenManager", "personalAccessToken"),
        "legacy": ("tokenManager", "personalAccessToken"),
        "nested": ("tokenManager", "integration", "accessToken"),
    },
    "oauthClientId": {
        "current": ("tokenManager", "oauthClientId"),
        "legacy": ("tokenManager", "clientId"),
        "nested": ("tokenManager", "integration", "clientId"),
    },
    "oauthClientSecret": {
        "current": ("tokenManager", "oauthClientSecret"),
        "legacy": ("tokenManager", "clientSecret"),
        "nested": ("tokenManager", "integration", "clientSecret"),
    },
    "oauthRefreshToken": {
        "current": ("tokenManager", "oauthRefreshToken"),
        "legacy": ("tokenManager", "refreshToken"),
        "nested": ("tokenManager", "integration", "refreshToken"),
    },
}

# Read order: the current spelling wins when a file mixes several.
TOKEN_MANAGER_FIELDS: dict[str, tuple[KeyPath, ...]] = {
    field: tuple(dict.fromkeys(spellings[name] for name in SPELLINGS))
    for field, spellings in TOKEN_MANAGER_SPELLINGS.items()
}

SECRET_FIELDS = frozenset(
    {
        "clientSecret",
        "accessToken",
        "refreshToken",
        "personalAccessToken",
        "oauthClientSecret",
        "oauthRefreshToken",
    }
)


def is_multi_profile(raw: Mapping[str, Any]) -> bool:
    return "profiles" in raw


def select_profile(raw: Mapping[str, Any], profile: str | None) -> tuple[dict[str, Any], KeyPath]:
    """Return the profile's mapping and its path inside the file.

    A single-profile file is its own (only) profile; naming one with ``--profile`` is an
    error there unless the name is ``default``.
    """
    if not isinstance(raw, dict):
        raise ConfigError("the config file must hold a JSON object")
    if not is_multi_profile(raw):
        if profile not in (None, "default"):
            raise ConfigError(
                f"profile {profile!r} requested, but the config has no 'profiles' section"
            )
        return raw, ()
    profiles = raw.get("profiles")
    if not isinstance(profiles, dict) or not profiles:
        raise ConfigError("'profiles' must be a non-empty object of named profiles")
    name = profile or raw.get("defaultProfile")
    if name is None:
        if len(profiles) == 1:
            name = next(iter(profiles))
        else:
            names = ", ".join(sorted(profiles))
            raise ConfigError(f"several profiles ({names}); choose one with --profile NAME")
    if name not in profiles or not isinstance(profiles[name], dict):
        names = ", ".join(sorted(profiles))
        raise ConfigError(f"profile {name!r} not found in the config (profiles: {names})")
    return profiles[name], ("profiles", str(name))


def lookup(profile: Mapping[str, Any], paths: tuple[KeyPath, ...]) -> tuple[KeyPath, Any] | None:
    """The first present, non-empty value among ``paths``, with the path it was found at."""
    for path in paths:
        node: Any = profile
        for key in path:
            if not isinstance(node, dict) or key not in node:
                break
            node = node[key]
        else:
            if node not in (None, ""):
                return path, node
    return None


def spelling_in_use(profile: Mapping[str, Any]) -> str:
    """Which spelling the user's ``tokenManager`` section already uses (else "current")."""
    for name in ("nested", "legacy", "current"):
        for field, spellings in TOKEN_MANAGER_SPELLINGS.items():
            if field == "personalAccessToken" and name == "legacy":
                continue
            if lookup(profile, (spellings[name],)) is not None:
                return name
    manager = profile.get("tokenManager")
    if isinstance(manager, dict) and isinstance(manager.get("integration"), dict):
        return "nested"
    return "current"


def write_location(profile: Mapping[str, Any], field: str) -> KeyPath:
    """Where to write a token-manager field: where the user keeps it already, else under
    the spelling the rest of their ``tokenManager`` section uses."""
    found = lookup(profile, TOKEN_MANAGER_FIELDS[field])
    if found is not None:
        return found[0]
    return TOKEN_MANAGER_SPELLINGS[field][spelling_in_use(profile)]
