"""The PostgreSQL backend: state shared by every host that points at the same database.

One refresh per expiry across hosts, per credential: ``locked(scope)`` takes session-level
advisory locks on a dedicated connection and re-reads the token document under them; each
:meth:`PostgresStore.save` inside the block commits at once, so a rotated token is durable
before it is used while the lock is still held. If the process dies, its connection closes
and the server releases its locks.

Locks (all on the same connection, nested within a thread):

- ``locked("serviceApps/<appId>@<orgId>")`` (or ``integrations/<clientId>``) holds that
  credential's own advisory lock plus a *shared* lock on the document key, so refreshes of
  different orgs run side by side on any number of hosts;
- ``locked()`` (no scope) holds the document key *exclusively*: it waits for every
  credential lock to end and excludes new ones (store copy, org registry, webhook secrets);
  versions before per-credential locks took only this lock, so they stay excluded too;
- a nested ``locked(other)`` adds that lock to the connection (service app before
  integration, never the other way round, so two hosts cannot deadlock).

Under credential locks, :meth:`PostgresStore.save` does not write back the caller's whole
copy (other hosts may have refreshed other orgs since it was read): in one transaction it
locks the document row (``SELECT ... FOR UPDATE``) and applies only what the caller changed
since its lock was taken (:mod:`.document_merge`).

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
from .document_merge import merge_changes
from .leases import Lease, stale_after_seconds
from .urls import canonical_postgres_url, redact_url, scrub

if TYPE_CHECKING:
    import psycopg

    from ..deadline import Deadline

T = TypeVar("T")
CONNECT_TIMEOUT_SECONDS = 10
INSTALL_HINT = "pip install 'byods-manager[postgres]'"
_NEWER_SCHEMA_NOTE = "newer than this byods-manager knows ({known}); upgrade byods-manager"


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
        deadline: Deadline | None = None,
    ) -> None:
        self._url = canonical_postgres_url(url)
        self.deadline = deadline
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
        except (pg.ProgrammingError, ValueError) as exc:  # ValueError: bytes not UTF-8
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
        return scrub(text, self._url)

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
            raise self._newer_schema(version)
        self._schema_checked = True

    def _newer_schema(self, version: int) -> ConfigError:
        return ConfigError(
            f"the PostgreSQL store {self.location} has schema version {version}, "
            f"{_NEWER_SCHEMA_NOTE.format(known=sql.LATEST_VERSION)}"
        )

    def migrate(self) -> tuple[int, int]:
        """Apply the missing migrations; a schema newer than this version knows is an error
        (nothing is changed), not "up to date"."""

        def work(conn: psycopg.Connection[Any]) -> tuple[int, int]:
            return _current_version(conn), _migrate(conn)

        before, after = self._unchecked(work)
        if after > sql.LATEST_VERSION:
            raise self._newer_schema(after)
        self._schema_checked = after >= sql.LATEST_VERSION
        return before, after

    def schema_version(self) -> int:
        """The schema version in the database, read without migrating or refusing it."""
        return self._unchecked(_current_version)

    def _unchecked(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run ``work`` on a connection of its own that skips the schema check."""
        return self._on_new_connection(self._connect_unchecked, work)

    def _on_new_connection(
        self,
        connect: Callable[[], psycopg.Connection[Any]],
        work: Callable[[psycopg.Connection[Any]], T],
    ) -> T:
        """Run ``work`` on a connection opened for it by ``connect`` and closed after."""
        conn = connect()
        try:
            return work(conn)
        except _driver().Error as exc:
            raise self._unavailable(exc) from None
        finally:
            conn.close()

    def _connect_unchecked(self) -> psycopg.Connection[Any]:
        checked, self._schema_checked = self._schema_checked, True
        try:
            return self._connect()
        finally:
            self._schema_checked = checked

    # -- the token document ------------------------------------------------------------

    def load(self) -> StoreData:
        return self._run(self._load_with).copy()

    def load_credentials(self, service_app_key: str, integration_key: str | None) -> StoreData:
        return self._run(self._load_with).credentials(service_app_key, integration_key)

    def _load_with(self, conn: psycopg.Connection[Any]) -> StoreData:
        cache = self._cache  # once: other threads replace or reset it meanwhile
        known = cache[0] if cache is not None else -1
        row = conn.execute(sql.LOAD_DOCUMENT, (known, sql.TOKENS_DOCUMENT)).fetchone()
        if row is None:
            return StoreData()
        revision, body = row
        if body is None and cache is not None:
            return cache[1]
        try:
            data = StoreData.from_json(body)
        except ValueError as exc:
            raise ConfigError(
                f"the token document in {self.location} is not usable: {exc}. It was left "
                "untouched."
            ) from None
        self._cache = (int(revision), data)
        return data  # shared with the cache: callers copy it

    def save(self, data: StoreData) -> None:
        """Commit ``data`` now (durable before this returns).

        Outside a lock, or under the whole-document lock, the document is replaced. Under
        credential locks only the caller's changes since it read ``data`` are merged into
        the stored document, in one transaction holding its row lock.

        If the lock's connection broke (the server restarted, the network dropped) the
        save is tried once more on a new connection: tokens Webex just issued are worth
        keeping even though the lock is gone (another host then sees a newer pair).
        """
        scopes: list[str | None] = getattr(self._holder, "scopes", [])
        ours = data.to_json()
        if not scopes or None in scopes:
            body = _jsonb(ours)

            def write(conn: psycopg.Connection[Any]) -> list[str]:
                conn.execute(sql.SAVE_DOCUMENT, (sql.TOKENS_DOCUMENT, body))
                return []

        else:
            base = self._base_of(data)
            held = {scope for scope in scopes if scope is not None}

            def write(conn: psycopg.Connection[Any]) -> list[str]:
                return _merge_into_stored(conn, base, ours, held)

        skipped = self._write(write)
        self._cache = None
        if scopes:
            self._remember_view(data, ours)
        for name in skipped:
            self.warn(
                f"the token store entry {name} was changed by another process meanwhile; "
                "its version was kept and this process's change to it dropped"
            )

    def _write(self, write: Callable[[psycopg.Connection[Any]], list[str]]) -> list[str]:
        try:
            return self._run(write)
        except StoreUnavailableError as exc:
            if getattr(self._holder, "conn", None) is None:
                raise
            self.warn(f"{exc}; saving the new tokens on a new connection")
            return self._on_new_connection(self._connect, write)

    def _base_of(self, data: StoreData) -> dict[str, Any]:
        """What ``data`` held when this thread's lock yielded it (or it was last saved)."""
        views: list[tuple[StoreData, dict[str, Any]]] = self._holder.views
        found = [base for view, base in views if view is data]
        newest: dict[str, Any] = (found or [views[-1][1]])[-1]  # another object: the newest read
        return newest

    def _remember_view(self, data: StoreData, content: dict[str, Any]) -> None:
        views: list[tuple[StoreData, dict[str, Any]]] = self._holder.views
        views[:] = [(view, base) for view, base in views if view is not data]
        views.append((data, copy.deepcopy(content)))

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
    def locked(self, scope: str | None = None) -> Iterator[StoreData]:
        """Hold the lock of ``scope`` (one credential; None: the whole document), which
        every host honours, and yield freshly read content.

        Nested blocks in one thread add their lock to the same connection and re-read; a
        lock the thread already holds (or one the whole-document lock covers) is not taken
        twice.
        """
        if getattr(self._holder, "conn", None) is not None:
            with self._also_locked(scope):
                yield self._fresh_view()
            return
        conn = self._connect()
        try:
            self._configure_lock_session(conn)
            if scope is None:
                self._acquire(conn, sql.LOCK_TOKENS, sql.TOKENS_LOCK_KEY)
            else:
                self._acquire(conn, sql.LOCK_TOKENS_SHARED, sql.TOKENS_LOCK_KEY)
                self._acquire(conn, sql.LOCK_TOKENS, sql.scope_lock_key(scope))
            self._holder.conn, self._holder.scopes, self._holder.views = conn, [scope], []
            try:
                yield self._fresh_view()
            finally:
                self._holder.conn, self._holder.scopes, self._holder.views = None, [], []
        finally:
            conn.close()  # ends the session: the server releases every lock it held

    @contextlib.contextmanager
    def _also_locked(self, scope: str | None) -> Iterator[None]:
        scopes: list[str | None] = self._holder.scopes
        if None in scopes or scope in scopes:
            yield
            return
        conn: psycopg.Connection[Any] = self._holder.conn
        # None inside a credential lock: the shared document lock becomes exclusive too.
        key = sql.TOKENS_LOCK_KEY if scope is None else sql.scope_lock_key(scope)
        self._acquire(conn, sql.LOCK_TOKENS, key)
        scopes.append(scope)
        try:
            yield
        finally:
            scopes.remove(scope)
            with contextlib.suppress(_driver().Error):
                conn.execute(sql.UNLOCK_TOKENS, (key,))

    def _lock_wait(self) -> tuple[float, str | None]:
        """How long to wait for a lock: the lock timeout, or what is left of the command's
        deadline when that is less (with the deadline's label, for the error)."""
        if self.deadline is not None and self.deadline.remaining() < self.lock_timeout:
            return max(0.001, self.deadline.remaining()), self.deadline.label
        return self.lock_timeout, None

    def _configure_lock_session(self, conn: psycopg.Connection[Any]) -> None:
        wait, self._holder.deadline_label = self._lock_wait()
        try:
            conn.execute(sql.PREPARE_LOCK_SESSION, (f"{max(1, int(wait * 1000))}ms",))
        except _driver().Error as exc:
            raise self._unavailable(exc) from None

    def _acquire(self, conn: psycopg.Connection[Any], statement: str, key: int) -> None:
        pg = _driver()
        try:
            conn.execute(statement, (key,))
        except pg.errors.LockNotAvailable:
            deadline_label = getattr(self._holder, "deadline_label", None)
            if deadline_label:
                raise ByodsError(
                    f"Gave up waiting for the token lock in {self.location}: the command's "
                    f"deadline ({deadline_label}) ended the wait (another byods process holds "
                    "the lock). Try again, or allow more time with --timeout."
                ) from None
            raise ByodsError(
                f"Timed out after {self.lock_timeout:.0f}s waiting for the token lock in "
                f"{self.location} (another byods process holds it)."
            ) from None
        except pg.Error as exc:
            raise self._unavailable(exc) from None

    def _fresh_view(self) -> StoreData:
        """Re-read under the lock; remember what was read, to merge later saves against."""
        self._cache = None
        data = self.load()
        self._holder.views.append((data, copy.deepcopy(data.to_json())))
        return data

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
        """Take ``name`` if free, expired or ours; first clear stale leases (see
        :mod:`.leases`)."""
        params = {"name": name, "owner": owner, "ttl": float(ttl_seconds)}
        stale = {"stale": stale_after_seconds(ttl_seconds)}

        def work(conn: psycopg.Connection[Any]) -> Any:
            conn.execute(sql.PURGE_STALE_LEASES, stale)
            return conn.execute(sql.ACQUIRE_LEASE, params).fetchone()

        return self._run(work) is not None

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
        """What the store holds; for a schema newer than this version knows, only the
        version and a note (its tables may mean something else now)."""
        version = self.schema_version()
        head = {
            "backend": self.backend,
            "location": self.location,
            "exists": True,
            "schemaVersion": version,
            "supportedSchemaVersion": sql.LATEST_VERSION,
        }
        if version > sql.LATEST_VERSION:
            return {**head, "note": _NEWER_SCHEMA_NOTE.format(known=sql.LATEST_VERSION)}
        data = self.load()  # migrates an older schema first: it is the latest now
        head["schemaVersion"] = sql.LATEST_VERSION
        sections = self._run(lambda conn: conn.execute(sql.ALL_SECTIONS).fetchall())
        now = time.time()
        return {
            **head,
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


def _merge_into_stored(
    conn: psycopg.Connection[Any],
    base: dict[str, Any],
    ours: dict[str, Any],
    scopes: set[str],
) -> list[str]:
    """One transaction: lock the document row, apply the caller's changes, write it back
    (only when something changed). Returns the changes skipped as conflicting."""
    with conn.transaction():
        conn.execute(sql.ENSURE_DOCUMENT, (sql.TOKENS_DOCUMENT,))
        row = conn.execute(sql.LOCK_DOCUMENT, (sql.TOKENS_DOCUMENT,)).fetchone()
        current = row[0] if row is not None and isinstance(row[0], dict) else {}
        merged, skipped = merge_changes(current, base, ours, scopes)
        if merged != current:
            conn.execute(sql.SAVE_DOCUMENT, (sql.TOKENS_DOCUMENT, _jsonb(merged)))
    return skipped


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
