"""Where the tool keeps its files (platformdirs), and the config path lookup."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "byods-manager"
CONFIG_FILENAME = "token-config.json"
DEFAULT_BASE_URL = "https://webexapis.com/v1"


def state_dir() -> Path:
    """Audit log and token store live here."""
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME))


def cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


def config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def default_audit_log() -> Path:
    return state_dir() / "audit.jsonl"


def resolve_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config, else $BYODS_CONFIG, else ./token-config.json, else the user config dir."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get("BYODS_CONFIG")
    if from_env:
        return Path(from_env)
    local = Path.cwd() / CONFIG_FILENAME
    if local.exists():
        return local
    return config_dir() / CONFIG_FILENAME


def resolve_base_url(explicit: str | None = None, default: str | None = None) -> str:
    """--base-url, else $WEBEX_API_BASE_URL, else ``default`` (the --env's), else public Webex."""
    url = explicit or os.environ.get("WEBEX_API_BASE_URL") or default or DEFAULT_BASE_URL
    from .base_url import check_base_url

    return check_base_url(url.strip())
