"""Store backends for the tests: a real PostgreSQL server started once per session from the
``pgserver`` wheel (as root it runs the server as an unprivileged ``pgserver`` user it
creates), a fresh database per test, and ``store_backend`` to run a test module on both
backends::

    pytestmark = pytest.mark.parametrize("store_backend", BACKENDS, indirect=True)
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from byods_manager.stores.base import StateStore

BACKENDS = ["file", "postgres"]


@dataclass(frozen=True)
class PgStoreRef:
    """A PostgreSQL store selected for a test (what ``tokens_store`` gives on postgres)."""

    url: str

    def __str__(self) -> str:
        return self.url


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The admin URL of a PostgreSQL server private to this test session."""
    import pgserver

    pgdata = Path(tempfile.mkdtemp(prefix="byods-pg-"))
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        yield server.get_uri("postgres")
    finally:
        server.cleanup()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """The URL of a new, empty database on the session's server."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.replace("/postgres?", f"/{name}?", 1)
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def state_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """An open store of each backend in turn (a test using it runs twice)."""
    from byods_manager.stores.select import open_store

    if request.param == "postgres":
        location = request.getfixturevalue("pg_url")
    else:
        location = str(tmp_path / "state" / "tokens.json")
    store = open_store(location)
    yield store
    store.close()


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    """``file`` unless a test module parametrizes it (indirectly) with :data:`BACKENDS`."""
    backend: str = getattr(request, "param", "file")
    return backend
