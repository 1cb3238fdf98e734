"""The token store: the only code that reads or writes the token file.

Layout (``"version": 1``)::

    {"version": 1,
     "serviceApps": {"<appId>@<orgId>": {"appId", "targetOrgId", "accessToken", "expiresAt",
                     "refreshToken", "refreshExpiresAt", "source", "updatedAt", "known",
                     "configKnown"}},
     "integrations": {"<oauthClientId>": {"accessToken", "expiresAt", "refreshToken",
                      "refreshExpiresAt", "updatedAt", "known", "configKnown"}},
     "webhookSecrets": {"<targetUrl>": {"secret", "webhookIds", "updatedAt"}}}

``webhookSecrets`` belongs to :mod:`.webhook_secrets`; like any other top-level key this
module does not know, it is kept in :attr:`StoreData.extra` and written back unchanged.

Integration tokens are keyed by the integration's client id rather than per service app,
because one integration often serves several profiles: each keeping its own copy of a
rotating refresh token would lose it the moment another profile rotated it.

``known`` lists fingerprints (see :func:`config.fingerprint`) of the last tokens an entry has
held (at most ``KNOWN_LIMIT``); ``configKnown`` lists those of every config value it was
derived from, never trimmed, because the config keeps an old value for as long as nobody
edits it (stores written before ``configKnown`` existed have no such key). A config value
found in neither was put there by a person after the store last looked, so it wins over
the store.

Reads without the lock are safe (writes are atomic renames); anything that decides and
writes goes through :meth:`TokenStore.locked`, which re-reads after taking the lock.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import paths
from ..errors import ByodsError, ConfigError
from ..fileio import (
    SECRET_FILE_MODE,
    atomic_write_text,
    ensure_private_dir,
    file_lock,
    fsync_directory,
    read_json,
)
from ..secrets import remember_secret
from .config import fingerprint

if TYPE_CHECKING:
    from ..deadline import Deadline
    from .endpoints import TokenResponse

STORE_VERSION = 1
ENV_TOKEN_STORE = "BYODS_TOKEN_STORE"
STORE_FILENAME = "tokens.json"
KNOWN_LIMIT = 16
LOCK_TIMEOUT_SECONDS = 120.0
# Room set aside before a refresh token is spent: the current store plus this much.
RESERVE_EXTRA_BYTES = 16 * 1024
# A save that fails after Webex rotated a token is retried for a while (a disk can be
# freed meanwhile): the new refresh token exists only in this process until it is saved.
SAVE_ATTEMPTS = 6
SAVE_RETRY_SECONDS = 5.0


def default_store_path(configured: Path | None = None) -> Path:
    """$BYODS_TOKEN_STORE, else the config's ``tokenStore``, else the user state dir."""
    from_env = os.environ.get(ENV_TOKEN_STORE)
    if from_env:
        return Path(from_env).expanduser()
    if configured is not None:
        return configured
    return paths.state_dir() / STORE_FILENAME


class TokenEntry:
    """One access/refresh pair with absolute expiry times (epoch seconds, None = unknown).

    Plain classes rather than dataclasses (here and :class:`StoreData`): every command
    that reads a token imports this module at start-up, where a dataclass costs about half
    a millisecond to define. Two entries are equal when their JSON forms are; the repr
    leaves the tokens out.
    """

    def __init__(
        self,
        *,
        access_token: str | None = None,
        expires_at: float | None = None,
        refresh_token: str | None = None,
        refresh_expires_at: float | None = None,
        source: str | None = None,
        updated_at: float | None = None,
        known: list[str] | None = None,
        config_known: list[str] | None = None,
        base_url: str | None = None,
    ) -> None:
        self.access_token = access_token
        self.expires_at = expires_at
        self.refresh_token = refresh_token
        self.refresh_expires_at = refresh_expires_at
        self.source = source
        self.updated_at = updated_at
        self.known: list[str] = known if known is not None else []
        self.config_known: list[str] = config_known if config_known is not None else []
        # The API base URL the tokens came from (None: from the config, or an older store).
        self.base_url = base_url

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenEntry) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def __repr__(self) -> str:
        return (
            f"TokenEntry(expires_at={self.expires_at!r}, "
            f"refresh_expires_at={self.refresh_expires_at!r}, source={self.source!r}, "
            f"updated_at={self.updated_at!r}, base_url={self.base_url!r})"
        )

    def bound_elsewhere(self, base_url: str) -> bool:
        """True when these tokens were issued by another API base URL: never send them."""
        return self.base_url is not None and self.base_url != base_url.rstrip("/")

    def remember(self, *values: str | None) -> None:
        """Record fingerprints of tokens this entry has held (only the latest are kept)."""
        _add_fingerprints(self.known, values)
        del self.known[:-KNOWN_LIMIT]

    def remember_config(self, *values: str | None) -> None:
        """Record fingerprints of config values this entry has taken in (all are kept)."""
        _add_fingerprints(self.config_known, values)

    def copy(self) -> TokenEntry:
        """An independent copy: the fingerprint lists are not shared (the rest is immutable)."""
        twin = TokenEntry.__new__(TokenEntry)
        twin.__dict__.update(self.__dict__)  # every field (copy.copy is 3x slower)
        twin.known = list(self.known)
        twin.config_known = list(self.config_known)
        return twin

    def knows(self, value: str | None) -> bool:
        digest = fingerprint(value)
        return digest is None or digest in self.known or digest in self.config_known

    def access_valid(self, threshold: float, now: float | None = None) -> bool:
        """True when the access token is usable for at least ``threshold`` more seconds.

        A token of unknown expiry (a seed from the config) counts as valid until Webex
        rejects it.
        """
        if not self.access_token:
            return False
        if self.expires_at is None:
            return True
        current = time.time() if now is None else now
        return self.expires_at - threshold > current

    def refresh_usable(self, now: float | None = None) -> bool:
        if not self.refresh_token:
            return False
        current = time.time() if now is None else now
        return self.refresh_expires_at is None or self.refresh_expires_at > current

    def set_pair(
        self,
        access_token: str,
        expires_at: float,
        refresh_token: str | None,
        refresh_expires_at: float | None,
        source: str,
    ) -> None:
        """Store a new grant; a grant without a refresh token keeps the current one."""
        self.access_token = access_token
        self.expires_at = expires_at
        if refresh_token and refresh_token != self.refresh_token:
            self.refresh_token = refresh_token
            self.refresh_expires_at = refresh_expires_at
        elif refresh_token and refresh_expires_at is not None:
            self.refresh_expires_at = refresh_expires_at
        self.source = source
        self.updated_at = time.time()
        self.remember(access_token, refresh_token)

    def adopt_refresh(self, refresh_token: str) -> None:
        """Take a refresh token a person put into the config: it replaces the stored pair
        (the access token is dropped, so the next use refreshes with it)."""
        self.refresh_token, self.refresh_expires_at = refresh_token, None
        self.access_token, self.expires_at = None, None
        self.source = "config"
        self.base_url = None

    def set_grant(self, grant: TokenResponse, source: str) -> None:
        """:meth:`set_pair` with a token endpoint's response."""
        self.set_pair(
            grant.access_token,
            grant.expires_at,
            grant.refresh_token,
            grant.refresh_expires_at,
            source,
        )
        if grant.base_url:
            self.base_url = grant.base_url.rstrip("/")

    def set_integration_grant(
        self, grant: TokenResponse, source: str, personal_token: str | None
    ) -> None:
        """:meth:`set_grant` for an integration entry. The personal token configured next
        to the integration counts as seen from now on, so a valid integration token is
        preferred to it (see :func:`tiers.token_manager_bearer`)."""
        self.set_grant(grant, source)
        self.remember(personal_token)

    def to_json(self) -> dict[str, Any]:
        return {
            "accessToken": self.access_token,
            "expiresAt": self.expires_at,
            "refreshToken": self.refresh_token,
            "refreshExpiresAt": self.refresh_expires_at,
            "source": self.source,
            "updatedAt": self.updated_at,
            "known": list(self.known),
            "configKnown": list(self.config_known),
            **({"baseUrl": self.base_url} if self.base_url else {}),
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> TokenEntry:
        if not isinstance(data, dict):
            raise ValueError(f"{where} is not an object")
        remember_secret(data.get("accessToken"), data.get("refreshToken"))
        return cls(
            access_token=_opt_str(data.get("accessToken"), f"{where}.accessToken"),
            expires_at=_opt_num(data.get("expiresAt"), f"{where}.expiresAt"),
            refresh_token=_opt_str(data.get("refreshToken"), f"{where}.refreshToken"),
            refresh_expires_at=_opt_num(data.get("refreshExpiresAt"), f"{where}.refreshExpiresAt"),
            source=_opt_str(data.get("source"), f"{where}.source"),
            updated_at=_opt_num(data.get("updatedAt"), f"{where}.updatedAt"),
            known=_fingerprints(data.get("known")),
            config_known=_fingerprints(data.get("configKnown")),
            base_url=_opt_str(data.get("baseUrl"), f"{where}.baseUrl"),
        )


def _add_fingerprints(target: list[str], values: tuple[str | None, ...]) -> None:
    for value in values:
        digest = fingerprint(value)
        if digest and digest not in target:
            target.append(digest)


def _fingerprints(value: Any) -> list[str]:
    return [k for k in value if isinstance(k, str)] if isinstance(value, list) else []


def _opt_str(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise ValueError(f"{where} must be a string")


def _opt_num(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} must be a number")
    return float(value)


class StoreData:
    """The token document in memory; keys this module does not know are kept in ``extra``."""

    def __init__(
        self,
        *,
        service_apps: dict[str, TokenEntry] | None = None,
        integrations: dict[str, TokenEntry] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.service_apps: dict[str, TokenEntry] = service_apps if service_apps is not None else {}
        self.integrations: dict[str, TokenEntry] = integrations if integrations is not None else {}
        self.extra: dict[str, Any] = extra if extra is not None else {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreData) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def __repr__(self) -> str:
        return (
            f"StoreData(service_apps={self.service_apps!r}, "
            f"integrations={self.integrations!r}, extra keys={sorted(self.extra)!r})"
        )

    def service_app(self, key: str) -> TokenEntry:
        return self.service_apps.setdefault(key, TokenEntry())

    def integration(self, client_id: str) -> TokenEntry:
        return self.integrations.setdefault(client_id, TokenEntry())

    def copy(self) -> StoreData:
        """An independent copy, so callers may mutate what they loaded (nested ``extra``
        values too). Written out rather than ``copy.deepcopy``, which cost most of a
        cached :meth:`TokenStore.load` (done before every authenticated request)."""
        return StoreData(
            service_apps={key: entry.copy() for key, entry in self.service_apps.items()},
            integrations={key: entry.copy() for key, entry in self.integrations.items()},
            extra=_copy_json(self.extra),
        )

    def credentials(self, service_app_key: str, integration_key: str | None) -> StoreData:
        """A copy of just these two entries (when present), for the hot path of
        :meth:`~byods_manager.tokens.manager.TokenManager.get_token`: its cost does not
        grow with the number of orgs in the store."""
        part = StoreData()
        entry = self.service_apps.get(service_app_key)
        if entry is not None:
            part.service_apps[service_app_key] = entry.copy()
        integration = self.integrations.get(integration_key) if integration_key else None
        if integration is not None and integration_key:
            part.integrations[integration_key] = integration.copy()
        return part

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "version": STORE_VERSION,
            "serviceApps": {k: v.to_json() for k, v in sorted(self.service_apps.items())},
            "integrations": {k: v.to_json() for k, v in sorted(self.integrations.items())},
        }

    @classmethod
    def from_json(cls, data: Any) -> StoreData:
        if not isinstance(data, dict):
            raise ValueError("the top level is not an object")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("it has no format version")
        if version > STORE_VERSION:
            raise ValueError(
                f"it was written by a newer byods-manager (format {version}, "
                f"this version reads up to {STORE_VERSION}); upgrade byods-manager"
            )
        result = cls(
            extra={
                k: v for k, v in data.items() if k not in ("version", "serviceApps", "integrations")
            }
        )
        for section, target in (
            ("serviceApps", result.service_apps),
            ("integrations", result.integrations),
        ):
            entries = data.get(section) or {}
            if not isinstance(entries, dict):
                raise ValueError(f"{section} is not an object")
            for key, value in entries.items():
                target[str(key)] = TokenEntry.from_json(value, f"{section}[{key!r}]")
        return result


class TokenStore:
    """The token file at ``path``: lock-guarded, atomically written, versioned."""

    def __init__(
        self,
        path: Path | str,
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
        *,
        sleep: Callable[[float], None] = time.sleep,
        warn: Callable[[str], None] | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        # The command's --timeout: waiting for the lock ends with it (saving does not).
        self.deadline = deadline
        self._cache: tuple[tuple[int, int, int], StoreData] | None = None
        self._reserved: tuple[int, str] | None = None
        self._sleep = sleep
        self.warn = warn or (lambda message: None)
        self._held = threading.local()  # this thread's lock depth (see :meth:`locked`)

    def load(self) -> StoreData:
        """The current content (empty when the file does not exist yet), a private copy."""
        return self._current().copy()

    def load_credentials(self, service_app_key: str, integration_key: str | None) -> StoreData:
        """Like :meth:`load`, but only the two entries a token manager reads."""
        return self._current().credentials(service_app_key, integration_key)

    def _current(self) -> StoreData:
        """The parsed content, shared with the cache: never hand it out uncopied."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return StoreData()
        except OSError as exc:
            raise ConfigError(f"cannot read the token store {self.path}: {exc.strerror}") from None
        signature = (info.st_mtime_ns, info.st_size, info.st_ino)
        cache = self._cache  # once: another thread may reset it meanwhile
        if cache is not None and cache[0] == signature:
            return cache[1]
        raw = read_json(self.path, what="token store")
        try:
            data = StoreData.from_json(raw)
        except ValueError as exc:
            raise ConfigError(
                f"the token store {self.path} is not usable: {exc}. It was left untouched; "
                "move it aside and run `byods token refresh` to start a new one."
            ) from None
        self._cache = (signature, data)
        return data

    def save(self, data: StoreData) -> None:
        """Replace the file atomically (0600). Call only while holding :meth:`locked`.

        Writes into the space :meth:`reserve` set aside when there is one. A failing save
        is retried for a while; if it still fails, the error names the file.

        The retries deliberately outlive the command's deadline (``--timeout``): what is
        being saved may be a refresh token Webex just rotated, which exists nowhere else,
        so the command overruns its deadline by at most ``SAVE_ATTEMPTS - 1`` waits of
        ``SAVE_RETRY_SECONDS`` rather than lose it (the warning says so).
        """
        text = json.dumps(data.to_json(), indent=2, sort_keys=False) + "\n"
        problem = ""
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                if self._reserved is not None:
                    self._save_into_reservation(text.encode("utf-8"))
                else:
                    atomic_write_text(self.path, text)
                self._cache = None
                return
            except OSError as exc:
                problem = exc.strerror or str(exc)
            if attempt < SAVE_ATTEMPTS:
                overrun = ""
                if self.deadline is not None and self.deadline.remaining() <= 0:
                    overrun = f", past the command's deadline ({self.deadline.label})"
                self.warn(
                    f"could not save the token store {self.path} ({problem}); "
                    f"retrying in {SAVE_RETRY_SECONDS:.0f}s (attempt {attempt}/{SAVE_ATTEMPTS})"
                    f"{overrun}"
                )
                self._sleep(SAVE_RETRY_SECONDS)
        raise ByodsError(
            f"could not save the token store {self.path} after {SAVE_ATTEMPTS} attempts "
            f"({problem}). Tokens Webex just issued could not be kept; if a refresh token "
            "was rotated, run `byods token refresh` once the disk problem is fixed "
            "(or `byods auth setup` if it reports that every tier failed)."
        )

    def reserve(self) -> None:
        """Before a refresh token is spent, prove that the new store can be written.

        A temporary file as large as the current store plus :data:`RESERVE_EXTRA_BYTES` is
        written and fsynced next to the store; the next :meth:`save` overwrites it in
        place (no new space needed) and renames it over the store. Raises ByodsError,
        before anything was sent, when the room cannot be had (a full disk, a file size
        limit, a read-only directory).
        """
        self.release_reservation()
        try:
            ensure_private_dir(self.path.parent)
            size = self.path.stat().st_size if self.path.exists() else 0
            import tempfile  # lazily: only a refresh needs it, and it costs start-up

            fd, name = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
        except OSError as exc:
            raise self._no_room(exc) from None
        try:
            os.fchmod(fd, SECRET_FILE_MODE)
            _write_fully(fd, b"\0" * (size + RESERVE_EXTRA_BYTES))
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise self._no_room(exc) from None
        self._reserved = (fd, name)

    def release_reservation(self) -> None:
        if self._reserved is None:
            return
        fd, name = self._reserved
        self._reserved = None
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name)

    def _no_room(self, exc: OSError) -> ByodsError:
        return ByodsError(
            f"cannot write next to the token store {self.path} "
            f"({exc.strerror or exc}); nothing was refreshed and the stored refresh token "
            "was not spent. Free some space (or choose another store with "
            f"{ENV_TOKEN_STORE}) and try again."
        )

    def _save_into_reservation(self, content: bytes) -> None:
        assert self._reserved is not None
        fd, name = self._reserved
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            _write_fully(fd, content)
            os.ftruncate(fd, len(content))
            os.fsync(fd)
            os.replace(name, self.path)
        except OSError:
            self.release_reservation()  # the next attempt writes a fresh file
            raise
        self._reserved = None
        os.close(fd)
        fsync_directory(self.path.parent)
        with contextlib.suppress(ByodsError):
            self.reserve()  # room for a second save in the same refresh (tier 3)

    @contextlib.contextmanager
    def locked(self, scope: str | None = None) -> Iterator[StoreData]:
        """Hold the cross-process lock and yield freshly re-read content.

        The wait for the lock is :attr:`lock_timeout`, or what is left of the command's
        deadline when that is less (then the error names the deadline and the lock file).

        Changes are written only by explicit :meth:`save` calls inside the block, so a
        rotated refresh token can be persisted before anything else happens. ``scope`` is
        accepted for the store interface and ignored: one file lock covers every entry.
        Re-entrant within a thread: an inner block re-reads under the outer lock.
        """
        if getattr(self._held, "depth", 0):
            self._held.depth += 1
            try:
                self._cache = None
                yield self.load()
            finally:
                self._held.depth -= 1
            return
        wait, deadline_label = self.lock_timeout, None
        if self.deadline is not None and self.deadline.remaining() < wait:
            wait, deadline_label = self.deadline.remaining(), self.deadline.label
        with file_lock(self.path, timeout=wait, deadline_label=deadline_label):
            self._held.depth = 1
            self._cache = None
            self._remove_stale_temp_files()
            try:
                yield self.load()
            finally:
                self._held.depth = 0
                self.release_reservation()

    def _remove_stale_temp_files(self) -> None:
        """Temp files left by a writer that died mid-save (we hold the lock, so no live
        writer owns one). The store itself was never affected: the rename did not happen."""
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _write_fully(fd: int, content: bytes) -> None:
    view = memoryview(content)
    while view:
        written = os.write(fd, view)
        view = view[written:]


_IMMUTABLE_JSON = (str, int, float, bool, type(None))


def _copy_json(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars); anything else that a caller
    put there goes through ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {key: _copy_json(item) for key, item in value.items()}
    if kind is list:
        return [_copy_json(item) for item in value]
    if isinstance(value, _IMMUTABLE_JSON):
        return value
    return copy.deepcopy(value)
