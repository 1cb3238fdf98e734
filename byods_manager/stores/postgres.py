"""The PostgreSQL backend: state shared by every host that points at the same database.

One refresh per expiry across hosts: :meth:`PostgresStore.locked` takes a session-level
advisory lock (``pg_advisory_lock``) on a dedicated connection and re-reads the token
document under it; each :meth:`PostgresStore.save` inside the block commits at once
(autocommit), so a rotated token is durable before it is used while the lock is still
held. If the process dies, its connection closes and the server releases the lock.

The lock covers the whole token document (every org and integration), like the file
lock does today: refreshes of different orgs are serialised, which keeps the shared
integration's rotating refresh token safe as well.

psycopg 3 is imported only when a PostgreSQL store is opened (extra ``postgres``).
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ByodsError, ConfigError
from ..tokens.store import LOCK_TIMEOUT_SECONDS, StoreData
from . import sql
from .base import StoreUnavailableError, summarize
from .leases import Lease
from .urls import redact_url, url_password

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")
CONNECT_TIMEOUT_SECONDS = 10
INSTALL_HINT = "pip install 'byods-manager[postgres]'"


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            f"a PostgreSQL store needs the psycopg driver; install it with: {INSTALL_HINT}"
        ) from None
    return psycopg


class PostgresStore:
    """The store interface on a PostgreSQL database given by a libpq URL."""

    def __init__(
        self,
        url: str,
        *,
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self._url = url
        self.warn = warn or (lambda message: None)
        self.lock_timeout = lock_timeout
        self.connect_timeout = connect_timeout
        self._guard = threading.RLock()
        self._shared: psycopg.Connection[Any] | None = None
        self._holder = threading.local()
        self._cache: tuple[int, StoreData] | None = None
        self._schema_checked = False

    @property
    def location(self) -> str:
        return redact_url(self._url)

    @property
    def backend(self) -> str:
        return "postgres"

    # -- connections -------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        pg = _driver()
        try:
            conn = pg.connect(
                self._url,
                autocommit=True,
                connect_timeout=max(1, round(self.connect_timeout)),
                application_name="byods-manager",
            )
        except pg.ProgrammingError as exc:
            raise ConfigError(
                f"the PostgreSQL store URL {self.location} is not usable: {self._reason(exc)}"
            ) from None
        except pg.Error as exc:
            raise self._unavailable(exc) from None
        try:
            self._ensure_schema(conn)
        except pg.Error as exc:
            conn.close()
            raise self._unavailable(exc) from None
        except BaseException:
            conn.close()
            raise
        result: psycopg.Connection[Any] = conn
        return result

    def _reason(self, exc: BaseException) -> str:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        text = lines[0].removeprefix("connection failed: ") if lines else type(exc).__name__
        password = url_password(self._url)
        return text.replace(password, "***") if password else text

    def _unavailable(self, exc: BaseException) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"cannot use the PostgreSQL store {self.location}: {self._reason(exc)}"
        )

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run ``work`` on this thread's lock connection, else on the shared one (connected
        on first use, reconnected once if the server dropped it)."""
        held: psycopg.Connection[Any] | None = getattr(self._holder, "conn", None)
        pg = _driver()
        if held is not None:
            try:
                return work(held)
            except pg.Error as exc:
                raise self._unavailable(exc) from None
        with self._guard:
            for attempt in (1, 2):
                if self._shared is None or self._shared.closed:
                    self._shared = self._connect()
                try:
                    return work(self._shared)
                except pg.OperationalError as exc:
                    broken = self._shared.broken
                    self._shared.close()
                    self._shared = None
                    if attempt == 2 or not broken:
                        raise self._unavailable(exc) from None
                except pg.Error as exc:  # refused by the server: report it, no traceback
                    raise self._unavailable(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._guard:
            if self._shared is not None:
                self._shared.close()
                self._shared = None

    # -- schema ------------------------------------------------------------------------

    def _ensure_schema(self, conn: psycopg.Connection[Any]) -> None:
        """Migrate on first use; refuse a schema newer than this version knows."""
        if self._schema_checked:
            return
        version = _current_version(conn)
        if version < sql.LATEST_VERSION:
            _migrate(conn)
        elif version > sql.LATEST_VERSION:
            raise ConfigError(
                f"the PostgreSQL store {self.location} has schema version {version}, newer "
                f"than this byods-manager knows ({sql.LATEST_VERSION}); upgrade byods-manager"
            )
        self._schema_checked = True

    def migrate(self) -> tuple[int, int]:
        def work(conn: psycopg.Connection[Any]) -> tuple[int, int]:
            return _current_version(conn), _migrate(conn)

        conn = self._connect_unchecked()
        try:
            before, after = work(conn)
        except _driver().Error as exc:
            raise self._unavailable(exc) from None
        finally:
            conn.close()
        self._schema_checked = after >= sql.LATEST_VERSION
        return before, after

    def _connect_unchecked(self) -> psycopg.Connection[Any]:
        checked, self._schema_checked = self._schema_checked, True
        try:
            return self._connect()
        finally:
            self._schema_checked = checked

    # -- the token document ------------------------------------------------------------

    def load(self) -> StoreData:
        return self._run(self._load_with)

    def _load_with(self, conn: psycopg.Connection[Any]) -> StoreData:
        cache = self._cache  # once: other threads replace or reset it meanwhile
        known = cache[0] if cache is not None else -1
        row = conn.execute(sql.LOAD_DOCUMENT, (known, sql.TOKENS_DOCUMENT)).fetchone()
        if row is None:
            return StoreData()
        revision, body = row
        if body is None and cache is not None:
            return _copy(cache[1])
        try:
            data = StoreData.from_json(body)
        except ValueError as exc:
            raise ConfigError(
                f"the token document in {self.location} is not usable: {exc}. It was left "
                "untouched."
            ) from None
        self._cache = (int(revision), data)
        return _copy(data)

    def save(self, data: StoreData) -> None:
        """Commit the document now (durable before this returns).

        If the lock's connection broke (the server restarted, the network dropped) the
        save is tried once more on a new connection: tokens Webex just issued are worth
        keeping even though the lock is gone (another host then sees a newer pair).
        """
        body = _jsonb(data.to_json())

        def write(conn: psycopg.Connection[Any]) -> None:
            conn.execute(sql.SAVE_DOCUMENT, (sql.TOKENS_DOCUMENT, body))

        try:
            self._run(write)
        except StoreUnavailableError as exc:
            if getattr(self._holder, "conn", None) is None:
                raise
            self.warn(f"{exc}; saving the new tokens on a new connection")
            conn = self._connect()
            try:
                write(conn)
            except _driver().Error as again:
                raise self._unavailable(again) from None
            finally:
                conn.close()
        self._cache = None

    def reserve(self) -> None:
        """Before a refresh token is spent: the lock's connection is alive and may write
        (a read-only standby is refused here, before anything is sent)."""
        row = self._run(lambda conn: conn.execute(sql.READ_ONLY).fetchone())
        if row is not None and row[0] == "on":
            raise StoreUnavailableError(
                f"the PostgreSQL store {self.location} is read-only (a standby?); nothing was "
                "refreshed and the stored refresh token was not spent"
            )

    def release_reservation(self) -> None:
        """Nothing is set aside on the server."""

    @contextlib.contextmanager
    def locked(self) -> Iterator[StoreData]:
        """Hold the token lock (every host honours it) and yield freshly read content.

        Re-entrant within a thread: an inner block re-reads and shares the outer lock.
        """
        if getattr(self._holder, "conn", None) is not None:
            self._cache = None
            yield self.load()
            return
        pg = _driver()
        conn = self._connect()
        try:
            try:
                conn.execute(sql.PREPARE_LOCK_SESSION, (f"{int(self.lock_timeout * 1000)}ms",))
                conn.execute(sql.LOCK_TOKENS, (sql.TOKENS_LOCK_KEY,))
            except pg.errors.LockNotAvailable:
                raise ByodsError(
                    f"Timed out after {self.lock_timeout:.0f}s waiting for the token lock in "
                    f"{self.location} (another byods process holds it)."
                ) from None
            except pg.Error as exc:
                raise self._unavailable(exc) from None
            self._holder.conn = conn
            try:
                self._cache = None
                yield self.load()
            finally:
                self._holder.conn = None
                with contextlib.suppress(pg.Error):
                    conn.execute(sql.UNLOCK_TOKENS, (sql.TOKENS_LOCK_KEY,))
        finally:
            conn.close()

    # -- sections ----------------------------------------------------------------------

    def read_section(self, name: str) -> dict[str, Any]:
        row = self._run(lambda conn: conn.execute(sql.READ_SECTION, (name,)).fetchone())
        body = row[0] if row is not None else None
        return copy.deepcopy(body) if isinstance(body, dict) else {}

    @contextlib.contextmanager
    def update_section(self, name: str) -> Iterator[dict[str, Any]]:
        """A transaction holding the section's row lock for the whole block."""
        pg = _driver()
        conn = self._connect()
        try:
            with conn.transaction():
                conn.execute(sql.ENSURE_SECTION, (name,))
                row = conn.execute(sql.LOCK_SECTION, (name,)).fetchone()
                body = row[0] if row is not None else None
                section: dict[str, Any] = body if isinstance(body, dict) else {}
                yield section
                conn.execute(sql.SAVE_SECTION, (_jsonb(section), name))
        except pg.Error as exc:
            raise self._unavailable(exc) from None
        finally:
            conn.close()

    # -- leases ------------------------------------------------------------------------

    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        params = {"name": name, "owner": owner, "ttl": float(ttl_seconds)}
        row = self._run(lambda conn: conn.execute(sql.ACQUIRE_LEASE, params).fetchone())
        return row is not None

    def renew_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        params = {"name": name, "owner": owner, "ttl": float(ttl_seconds)}
        row = self._run(lambda conn: conn.execute(sql.RENEW_LEASE, params).fetchone())
        return row is not None

    def release_lease(self, name: str, owner: str) -> bool:
        row = self._run(lambda conn: conn.execute(sql.RELEASE_LEASE, (name, owner)).fetchone())
        return row is not None

    def leases(self) -> list[Lease]:
        """Expiry times converted to this host's clock (the server's clock decides)."""
        rows = self._run(lambda conn: conn.execute(sql.LIST_LEASES).fetchall())
        now = time.time()
        return [
            Lease(str(name), str(owner), now + float(expires_in), now + float(acquired_ago))
            for name, owner, expires_in, acquired_ago in rows
        ]

    # -- administration ----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        data = self.load()
        version = self._run(_current_version)
        sections = self._run(lambda conn: conn.execute(sql.ALL_SECTIONS).fetchall())
        now = time.time()
        return {
            "backend": self.backend,
            "location": self.location,
            "exists": True,
            "schemaVersion": version,
            **summarize(data),
            "sections": {
                str(name): len(body) if isinstance(body, dict) else 0 for name, body in sections
            },
            "leases": [lease.to_dict(now) for lease in self.leases()],
        }

    def export_state(self) -> dict[str, Any]:
        rows = self._run(lambda conn: conn.execute(sql.ALL_SECTIONS).fetchall())
        return {
            "tokens": self.load().to_json(),
            "sections": {str(name): body for name, body in rows if isinstance(body, dict)},
        }

    def import_state(self, state: dict[str, Any]) -> None:
        document = StoreData.from_json(state["tokens"]).to_json()
        sections = dict(state.get("sections") or {})

        def replace(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute(sql.SAVE_DOCUMENT, (sql.TOKENS_DOCUMENT, _jsonb(document)))
                conn.execute(sql.DELETE_SECTIONS)
                for name, body in sorted(sections.items()):
                    conn.execute(sql.INSERT_SECTION, (name, _jsonb(body)))

        with self.locked():
            self._run(replace)
            self._cache = None


def _jsonb(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def _current_version(conn: psycopg.Connection[Any]) -> int:
    exists = conn.execute(sql.VERSION_TABLE_EXISTS).fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute(sql.CURRENT_VERSION).fetchone()
    return int(row[0]) if row is not None else 0


def _migrate(conn: psycopg.Connection[Any]) -> int:
    """Apply the missing migrations in one transaction (concurrent migrators wait)."""
    with conn.transaction():
        conn.execute(sql.LOCK_MIGRATION, (sql.MIGRATION_LOCK_KEY,))
        conn.execute(sql.CREATE_VERSION_TABLE)
        current = _current_version(conn)
        for version, description, statements in sql.MIGRATIONS:
            if version <= current:
                continue
            for statement in statements:
                conn.execute(statement)
            conn.execute(sql.RECORD_VERSION, (version, description))
            current = version
    return current


def _copy(data: StoreData) -> StoreData:
    return copy.deepcopy(data)
