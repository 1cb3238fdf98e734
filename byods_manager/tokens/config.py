"""Read and validate ``token-config.json`` (the file people edit).

Validation is a jsonschema document built in code. Every problem is reported at once, each
with its JSON path and a hint, as one :class:`ConfigError` (exit 2). Unknown keys and a file
readable by group or others only produce warnings. The tool never writes this file during
routine refreshes; rotated tokens live in the token store.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ConfigError
from ..fileio import parse_json, read_bytes
from ..secrets import remember_secret
from ..stores.urls import looks_like_url
from . import config_keys

Warn = Callable[[str], None]
# What config_keys.lookup returns: where a value was found and the value, or None.
Found = tuple[config_keys.KeyPath, Any] | None

_STRING = {"type": "string", "minLength": 1}
_OPTIONAL_STRING = {"type": ["string", "null"]}

_SERVICE_APP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["clientId", "clientSecret", "targetOrgId"],
    "properties": {
        "appId": _STRING,
        "clientId": _STRING,
        "clientSecret": _STRING,
        "targetOrgId": _STRING,
        "accessToken": _OPTIONAL_STRING,
        "refreshToken": _OPTIONAL_STRING,
        "name": _OPTIONAL_STRING,
        "description": _OPTIONAL_STRING,
    },
    "additionalProperties": False,
}

_INTEGRATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "clientId": _OPTIONAL_STRING,
        "clientSecret": _OPTIONAL_STRING,
        "refreshToken": _OPTIONAL_STRING,
        "accessToken": _OPTIONAL_STRING,
        "redirectUri": _OPTIONAL_STRING,
        "scope": _OPTIONAL_STRING,
    },
    "additionalProperties": False,
}

_TOKEN_MANAGER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "personalAccessToken": _OPTIONAL_STRING,
        "oauthClientId": _OPTIONAL_STRING,
        "oauthClientSecret": _OPTIONAL_STRING,
        "oauthRefreshToken": _OPTIONAL_STRING,
        "oauthRedirectUri": _OPTIONAL_STRING,
        "clientId": _OPTIONAL_STRING,
        "clientSecret": _OPTIONAL_STRING,
        "refreshToken": _OPTIONAL_STRING,
        "redirectUri": _OPTIONAL_STRING,
        "integration": _INTEGRATION_SCHEMA,
    },
    "additionalProperties": False,
}

PROFILE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["serviceApp"],
    "properties": {
        "serviceApp": _SERVICE_APP_SCHEMA,
        "tokenManager": _TOKEN_MANAGER_SCHEMA,
        "tokenStore": _STRING,
        "refreshThresholdMinutes": {"type": "number", "minimum": 0, "maximum": 1440},
        "sandbox": {"type": "object"},  # written by `byods sandbox`: its admin token and URLs
        "$schema": {"type": "string"},
        "_comment": {},
    },
    "additionalProperties": False,
}

FILE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "defaultProfile": _STRING,
        "profiles": {"type": "object", "minProperties": 1},
        "tokenStore": _STRING,
        "$schema": {"type": "string"},
        "_comment": {},
    },
    "additionalProperties": False,
}

# What to tell the user when a key is missing or wrong, by the key's name.
_HINTS = {
    "serviceApp": "add a serviceApp object with clientId, clientSecret, targetOrgId",
    "appId": (
        "the service app's ID from developer.webex.com > My Webex Apps "
        "(optional: derived from clientId when omitted)"
    ),
    "clientId": "the client ID shown with the app on developer.webex.com",
    "clientSecret": "the client secret shown once when the app was created (regenerate if lost)",
    "targetOrgId": "the ID of the customer org whose full admin authorized the service app",
    "tokenStore": "a file path for the token store (e.g. ~/.local/state/byods-manager/tokens.json) "
    "or a postgresql:// URL for a store shared by several hosts",
    "refreshThresholdMinutes": "minutes before expiry at which a token is refreshed (default 5)",
    "profiles": "an object mapping profile names to single-profile configs",
    "defaultProfile": "the name of one entry under profiles",
}
_GENERIC_HINT = "see TOKEN_MANAGEMENT.md for the config format"


def fingerprint(value: str | None) -> str | None:
    """A short one-way digest of a config value, so the store can tell when it changed."""
    if not value:
        return None
    digest = hashlib.sha256(b"byods-config-fingerprint\0" + value.encode("utf-8"))
    return digest.hexdigest()[:24]


# The config's records are NamedTuples (immutable, like the frozen dataclasses they were):
# every command builds them on its start-up path, where defining dataclasses costs more.
# Their repr leaves every secret out.


class ServiceAppCredentials(NamedTuple):
    """The service app whose tokens are kept, and the org it acts for."""

    app_id: str
    client_id: str
    client_secret: str
    target_org_id: str
    seed_access_token: str | None = None
    seed_refresh_token: str | None = None

    @property
    def store_key(self) -> str:
        """Tokens in the store are keyed by app id and org id."""
        return f"{self.app_id}@{self.target_org_id}"

    def __repr__(self) -> str:
        return (
            f"ServiceAppCredentials(app_id={self.app_id!r}, client_id={self.client_id!r}, "
            f"target_org_id={self.target_org_id!r})"
        )


class TokenManagerCredentials(NamedTuple):
    """What authorizes the Applications API (tier 2) and refreshes it (tier 3)."""

    personal_access_token: str | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    oauth_refresh_token: str | None = None

    @property
    def has_integration(self) -> bool:
        """Client id and secret are set (the refresh token may come from the store)."""
        return bool(self.oauth_client_id and self.oauth_client_secret)

    def __repr__(self) -> str:
        return f"TokenManagerCredentials(oauth_client_id={self.oauth_client_id!r})"


class ProfileConfig(NamedTuple):
    """One profile of the config: the credentials and where their tokens are stored."""

    path: Path
    profile: str | None
    service_app: ServiceAppCredentials
    token_manager: TokenManagerCredentials
    token_store: Path | None = None
    token_store_url: str | None = None  # a URL tokenStore (then token_store is None)
    refresh_threshold_seconds: float | None = None

    @property
    def store_setting(self) -> Path | str | None:
        """The config's ``tokenStore``: a path, a ``postgresql://`` URL, or None."""
        return self.token_store_url or self.token_store


def _json_path(parts: Iterable[Any]) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _schema_problems(
    instance: Any, schema: dict[str, Any], prefix: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """(problems, unknown-key warnings) from validating ``instance`` against ``schema``."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    problems: dict[str, str] = {}
    unknown: list[str] = []
    for error in validator.iter_errors(instance):
        where = (*prefix, *(str(p) for p in error.absolute_path))
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for key in sorted(k for k in error.instance if k not in allowed):
                unknown.append(f"unknown key {_json_path((*where, key))} (ignored)")
            continue
        if error.validator == "required" and isinstance(error.instance, dict):
            for key in error.validator_value:
                if key not in error.instance:
                    path = _json_path((*where, key))
                    hint = _HINTS.get(key, _GENERIC_HINT)
                    problems[path] = f"{path}: required key is missing; hint: {hint}"
            continue
        path = _json_path(where)
        key = where[-1] if where else ""
        hint = _HINTS.get(key, _GENERIC_HINT)
        problems.setdefault(path, f"{path}: {_describe(error)}; hint: {hint}")
    return list(problems.values()), unknown


def _describe(error: Any) -> str:
    kind = error.validator
    if kind == "type":
        wanted = error.validator_value
        if isinstance(wanted, list):
            wanted = " or ".join(str(w) for w in wanted)
        return f"must be of type {wanted} (found {type(error.instance).__name__})"
    if kind == "minLength":
        return "must not be empty"
    if kind in ("minimum", "maximum"):
        return f"must be {'at least' if kind == 'minimum' else 'at most'} {error.validator_value}"
    if kind == "minProperties":
        return "must not be empty"
    return str(error.message)


def _integration_problems(manager: dict[str, Found], prefix: tuple[str, ...]) -> list[str]:
    """Client id and secret of the integration only make sense together."""
    client_id, secret, refresh = (
        manager[name] is not None
        for name in ("oauthClientId", "oauthClientSecret", "oauthRefreshToken")
    )
    if not (client_id or secret or refresh) or (client_id and secret):
        return []
    missing = "oauthClientSecret" if client_id else "oauthClientId"
    path = _json_path((*prefix, "tokenManager", missing))
    return [
        f"{path}: the integration needs oauthClientId and oauthClientSecret together; "
        "hint: copy both from the integration on developer.webex.com, or run `byods auth setup`"
    ]


def string_value(found: Found) -> str | None:
    """The stripped text of a value :func:`config_keys.lookup` found; None when it is
    missing, not a string or blank."""
    if found is None:
        return None
    value = found[1]
    return value.strip() if isinstance(value, str) and value.strip() else None


def _warn_if_exposed(path: Path, warn: Warn) -> None:
    if os.name != "posix":
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warn(
            f"{path} holds secrets but is accessible by group or others "
            f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
        )


def parse_config(
    raw: Any, path: Path, profile: str | None = None, warn: Warn | None = None
) -> ProfileConfig:
    """Validate an already-loaded config document and pick out one profile."""
    config, warnings = _parse(raw, path, profile, None)
    for message in warnings:
        (warn or (lambda message: None))(message)
    return config


def _parse(
    raw: Any, path: Path, profile: str | None, known_warnings: list[str] | None
) -> tuple[ProfileConfig, list[str]]:
    """The profile and the warnings to show; ``known_warnings`` (from the validation
    cache) means this exact document already validated, so jsonschema is skipped."""
    if not isinstance(raw, dict):
        raise ConfigError(f"config {path}: $: must be a JSON object; hint: {_GENERIC_HINT}")
    problems: list[str] = []
    unknown: list[str] = []
    validate = known_warnings is None
    if validate and config_keys.is_multi_profile(raw):
        problems, unknown = _schema_problems(raw, FILE_SCHEMA, ())
        if problems:
            _raise(path, problems)
    selected, prefix = config_keys.select_profile(raw, profile)
    manager_found = {
        name: config_keys.lookup(selected, paths)
        for name, paths in config_keys.TOKEN_MANAGER_FIELDS.items()
    }
    if validate:
        more_problems, more_unknown = _schema_problems(selected, PROFILE_SCHEMA, prefix)
        problems += more_problems + _integration_problems(manager_found, prefix)
        unknown += more_unknown
        if problems:
            _raise(path, problems)
    warnings = [f"{path}: {message}" for message in unknown] if validate else known_warnings

    service = selected["serviceApp"]
    fields = config_keys.SERVICE_APP_FIELDS
    service_app = ServiceAppCredentials(
        app_id=_app_id(service),
        client_id=service["clientId"].strip(),
        client_secret=service["clientSecret"].strip(),
        target_org_id=service["targetOrgId"].strip(),
        seed_access_token=string_value(config_keys.lookup(selected, fields["accessToken"])),
        seed_refresh_token=string_value(config_keys.lookup(selected, fields["refreshToken"])),
    )
    manager = {name: string_value(found) for name, found in manager_found.items()}
    token_manager = TokenManagerCredentials(
        personal_access_token=manager["personalAccessToken"],
        oauth_client_id=manager["oauthClientId"],
        oauth_client_secret=manager["oauthClientSecret"],
        oauth_refresh_token=manager["oauthRefreshToken"],
    )
    remember_secret(  # so that no output or log shows them, whatever their source
        service_app.client_secret,
        service_app.seed_access_token,
        service_app.seed_refresh_token,
        token_manager.personal_access_token,
        token_manager.oauth_client_secret,
        token_manager.oauth_refresh_token,
    )
    store_text = selected.get("tokenStore") or raw.get("tokenStore")
    token_store, token_store_url = None, None
    # Any URL (even an unsupported one, refused when the store is opened) is kept as a URL,
    # never turned into a file name.
    if isinstance(store_text, str) and looks_like_url(store_text):
        token_store_url = store_text.strip()
    elif isinstance(store_text, str):
        token_store = Path(store_text).expanduser()
        if not token_store.is_absolute():
            token_store = path.parent / token_store
    threshold = selected.get("refreshThresholdMinutes")
    config = ProfileConfig(
        path=path,
        profile=prefix[1] if prefix else None,
        service_app=service_app,
        token_manager=token_manager,
        token_store=token_store,
        token_store_url=token_store_url,
        refresh_threshold_seconds=float(threshold) * 60 if threshold is not None else None,
    )
    return config, list(warnings or [])


def _app_id(service: dict[str, Any]) -> str:
    """The configured appId, else the one Webex derives from the client id."""
    configured = service.get("appId")
    if isinstance(configured, str) and configured.strip():
        return configured.strip()
    from ..webex_ids import app_id_for_client

    return app_id_for_client(service["clientId"])


def _raise(path: Path, problems: list[str]) -> None:
    count = len(problems)
    heading = f"config {path} has {count} problem{'s' if count != 1 else ''}:"
    raise ConfigError(heading + "".join(f"\n  - {p}" for p in problems))


def load_config(
    path: Path | str, profile: str | None = None, warn: Warn | None = None
) -> ProfileConfig:
    """Load, validate and select a profile from ``token-config.json``."""
    target = Path(path)
    if not target.exists():
        raise ConfigError(
            f"config not found: {target}. Create it (see TOKEN_MANAGEMENT.md), run "
            "`byods auth setup`, or set WEBEX_SERVICE_APP_ACCESS_TOKEN."
        )
    from . import config_cache

    warn = warn or (lambda message: None)
    content = read_bytes(target, what="config")
    raw = parse_json(content, target, what="config")
    _warn_if_exposed(target, warn)
    rules = json.dumps([PROFILE_SCHEMA, FILE_SCHEMA, _HINTS], sort_keys=True)
    key = config_cache.cache_key(target, profile, content, rules)
    known = config_cache.known_warnings(key)
    config, warnings = _parse(raw, target, profile, known)
    if known is None:
        config_cache.remember(key, warnings)
    for message in warnings:
        warn(message)
    return config
