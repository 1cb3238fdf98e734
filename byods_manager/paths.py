"""Where the tool keeps its files (platformdirs), and the config path lookup."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "byods-manager"
CONFIG_FILENAME = "token-config.json"
DEFAULT_BASE_URL = "https://webexapis.com/v1"


def _xdg_dir(variable: str, default: str) -> Path | None:
    """On Linux, the XDG base directory rule itself (what platformdirs applies there):
    ``$XDG_..._HOME`` when it is an absolute path, else ``~/<default>``. Importing
    platformdirs costs a no-network command (`byods token status`) several percent of
    its start-up, as it pulls in tempfile and shutil; elsewhere it is used (None)."""
    if not sys.platform.startswith("linux"):
        return None
    value = os.environ.get(variable, "").strip()
    base = Path(value) if value and os.path.isabs(value) else Path.home() / default
    return base / APP_NAME


def state_dir() -> Path:
    """Audit log and token store live here."""
    fast = _xdg_dir("XDG_STATE_HOME", ".local/state")
    if fast is not None:
        return fast
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME))


def cache_dir() -> Path:
    fast = _xdg_dir("XDG_CACHE_HOME", ".cache")
    if fast is not None:
        return fast
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


def config_dir() -> Path:
    fast = _xdg_dir("XDG_CONFIG_HOME", ".config")
    if fast is not None:
        return fast
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def default_audit_log() -> Path:
    return state_dir() / "audit.jsonl"


def resolve_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config, else $BYODS_CONFIG, else ./token-config.json, else the user config dir."""
    return locate_config(explicit)[0]


def locate_config(explicit: str | os.PathLike[str] | None = None) -> tuple[Path, str]:
    """The config path and where it came from (for ``-v``).

    ``./token-config.json`` is used only when it is safe: owned by this user and not
    writable by group or others (a shared directory must not choose the user's config).
    """
    if explicit:
        return Path(explicit), "--config"
    from_env = os.environ.get("BYODS_CONFIG")
    if from_env:
        return Path(from_env), "$BYODS_CONFIG"
    local = Path.cwd() / CONFIG_FILENAME
    if local.exists():
        _check_local_config_is_trusted(local)
        return local, "the current directory"
    return config_dir() / CONFIG_FILENAME, "the user config dir"


def _check_local_config_is_trusted(path: Path) -> None:
    from .errors import ConfigError

    if os.name != "posix":
        return
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    hint = "pass --config PATH or set BYODS_CONFIG to use it anyway"
    if info.st_uid != os.geteuid():
        raise ConfigError(
            f"refusing {path}: it belongs to another user (uid {info.st_uid}); {hint}"
        )
    if info.st_mode & 0o022:
        raise ConfigError(
            f"refusing {path}: it is writable by group or others "
            f"(mode {info.st_mode & 0o777:04o}); run: chmod go-w {path}, or {hint}"
        )


def resolve_base_url(explicit: str | None = None, default: str | None = None) -> str:
    """--base-url, else $WEBEX_API_BASE_URL, else ``default`` (the --env's), else public Webex."""
    url = explicit or os.environ.get("WEBEX_API_BASE_URL") or default or DEFAULT_BASE_URL
    from .base_url import check_base_url

    return check_base_url(url.strip())
