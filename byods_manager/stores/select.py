"""Which store to use: ``--store`` / ``$BYODS_STORE`` / ``$BYODS_TOKEN_STORE`` (the older
name) / the config's ``tokenStore`` / the file in the user state dir, first found wins.

A ``postgresql://`` (or ``postgres://``) location opens the shared PostgreSQL store; any
other URL-looking location (:func:`.urls.looks_like_url`: ``postgresql+psycopg://``,
``pgsql://``, ``postgresql:/`` ...) is refused with a ConfigError; the rest is a file path.
A store that cannot be reached, or a URL that is slightly off, is an error, never a reason to
fall back to a local file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .urls import UnsupportedStoreUrlError, check_location, is_postgres_url, looks_like_url

if TYPE_CHECKING:
    from ..deadline import Deadline
    from ..tokens.config import ProfileConfig
    from .base import StateStore

ENV_STORE = "BYODS_STORE"
ENV_STORE_ALIAS = "BYODS_TOKEN_STORE"


def store_location(option: str | None = None, configured: Path | str | None = None) -> str:
    """The store's location as given: a URL or a path (``~`` expanded)."""
    for candidate in (option, os.environ.get(ENV_STORE), os.environ.get(ENV_STORE_ALIAS)):
        if candidate and candidate.strip():
            return _normalize(candidate.strip())
    if configured is not None:
        return _normalize(str(configured))
    from ..tokens.store import default_store_path

    return str(default_store_path())


def _normalize(text: str) -> str:
    """A URL as given (``Path`` would fold its ``//``), a path with ``~`` expanded (and made
    absolute if dropping its ``./`` would make it look like a URL: ``./name:/x``)."""
    if looks_like_url(text):
        return text
    path = Path(text).expanduser()
    return str(path.absolute() if looks_like_url(str(path)) else path)


def open_store(
    location: str, warn: Callable[[str], None] | None = None, deadline: Deadline | None = None
) -> StateStore:
    """The store at ``location`` (nothing is connected or read yet); ``warn`` receives
    notes such as a save being retried. With ``deadline`` (the command's ``--timeout``)
    a store waits for its lock no longer than the deadline allows.

    A URL-looking location that is not a supported PostgreSQL URL raises ConfigError."""
    try:
        check_location(location)
    except UnsupportedStoreUrlError as exc:
        raise ConfigError(str(exc)) from None
    if is_postgres_url(location):
        from .postgres import PostgresStore

        return PostgresStore(location, warn=warn, deadline=deadline)
    from .file_store import FileStore

    return FileStore(Path(location), warn=warn, deadline=deadline)


def open_config_store(
    config: ProfileConfig,
    option: str | None = None,
    warn: Callable[[str], None] | None = None,
    deadline: Deadline | None = None,
) -> StateStore:
    """The store for ``config``: ``option`` (``--store``), else the environment, else the
    config's ``tokenStore``, else the default file."""
    return open_store(store_location(option, config.store_setting), warn=warn, deadline=deadline)


def configured_store(
    config_path: Path, profile: str | None = None, warn: Callable[[str], None] | None = None
) -> str | Path | None:
    """The config's ``tokenStore`` when no option or environment variable decides and the
    config file exists (the config is not needed to look at a store)."""
    if any(os.environ.get(name) for name in (ENV_STORE, ENV_STORE_ALIAS)):
        return None
    if not config_path.exists():
        return None
    from ..tokens.config import load_config

    return load_config(config_path, profile, warn=warn).store_setting
