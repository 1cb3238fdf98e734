"""Every SQL statement the PostgreSQL backend sends, and the versioned schema.

Tables (all prefixed ``byods_``, so the store can share a database with other software):

- ``byods_schema_version``: one row per applied migration;
- ``byods_documents``: the token document as JSONB (row ``tokens``), with a revision that
  lets readers skip re-parsing an unchanged document;
- ``byods_sections``: named JSON objects (the org registry, ...), locked per row;
- ``byods_leases``: keepalive leases; expiry is judged by the server's clock, so hosts
  with skewed clocks still agree on who owns what.
"""

from __future__ import annotations

import hashlib


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock``, derived from a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def scope_lock_key(scope: str) -> int:
    """The advisory key of one credential's lock (a scope of the token document)."""
    return advisory_key(f"byods-manager:tokens:{scope}")


TOKENS_DOCUMENT = "tokens"
# Held exclusively for the whole document, shared by every per-credential lock.
TOKENS_LOCK_KEY = advisory_key("byods-manager:tokens")
MIGRATION_LOCK_KEY = advisory_key("byods-manager:migrate")

MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "token document, sections and leases",
        (
            """CREATE TABLE byods_documents (
                name text PRIMARY KEY,
                body jsonb NOT NULL,
                revision bigint NOT NULL DEFAULT 1,
                updated_at timestamptz NOT NULL DEFAULT now())""",
            """CREATE TABLE byods_sections (
                name text PRIMARY KEY,
                body jsonb NOT NULL DEFAULT '{}'::jsonb,
                revision bigint NOT NULL DEFAULT 1,
                updated_at timestamptz NOT NULL DEFAULT now())""",
            """CREATE TABLE byods_leases (
                name text PRIMARY KEY,
                owner text NOT NULL,
                expires_at timestamptz NOT NULL,
                acquired_at timestamptz NOT NULL DEFAULT now(),
                renewed_at timestamptz NOT NULL DEFAULT now())""",
        ),
    ),
)
LATEST_VERSION = MIGRATIONS[-1][0]

# -- schema versions -------------------------------------------------------------------
VERSION_TABLE_EXISTS = "SELECT to_regclass('byods_schema_version') IS NOT NULL"
CREATE_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS byods_schema_version (
    version integer PRIMARY KEY,
    description text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())"""
CURRENT_VERSION = "SELECT coalesce(max(version), 0) FROM byods_schema_version"
RECORD_VERSION = "INSERT INTO byods_schema_version (version, description) VALUES (%s, %s)"
LOCK_MIGRATION = "SELECT pg_advisory_xact_lock(%s)"

# -- the token document ----------------------------------------------------------------
# On the connection that holds the token lock: give up waiting after the lock timeout, and
# let the server notice a vanished host within about a minute (TCP keepalives; ignored on
# Unix sockets), so a dead host's lock does not block every other host for hours.
PREPARE_LOCK_SESSION = """SELECT set_config('lock_timeout', %s, false),
    set_config('tcp_keepalives_idle', '30', false),
    set_config('tcp_keepalives_interval', '10', false),
    set_config('tcp_keepalives_count', '3', false)"""
LOCK_TOKENS = "SELECT pg_advisory_lock(%s)"
LOCK_TOKENS_SHARED = "SELECT pg_advisory_lock_shared(%s)"
READ_ONLY = "SELECT current_setting('transaction_read_only')"
UNLOCK_TOKENS = "SELECT pg_advisory_unlock(%s)"
# The body only when the revision differs from the one the caller has parsed already.
LOAD_DOCUMENT = """SELECT revision, CASE WHEN revision = %s THEN NULL ELSE body END
    FROM byods_documents WHERE name = %s"""
# A writer holding only some credentials' locks merges into the stored document: make sure
# the row exists (so FOR UPDATE has a row to lock), then lock and read it.
ENSURE_DOCUMENT = """INSERT INTO byods_documents (name, body)
    VALUES (%s, '{"version": 1, "serviceApps": {}, "integrations": {}}'::jsonb)
    ON CONFLICT (name) DO NOTHING"""
LOCK_DOCUMENT = "SELECT body FROM byods_documents WHERE name = %s FOR UPDATE"
SAVE_DOCUMENT = """INSERT INTO byods_documents (name, body) VALUES (%s, %s)
    ON CONFLICT (name) DO UPDATE
    SET body = EXCLUDED.body, revision = byods_documents.revision + 1, updated_at = now()"""

# -- sections --------------------------------------------------------------------------
READ_SECTION = "SELECT body FROM byods_sections WHERE name = %s"
ENSURE_SECTION = "INSERT INTO byods_sections (name) VALUES (%s) ON CONFLICT (name) DO NOTHING"
LOCK_SECTION = "SELECT body FROM byods_sections WHERE name = %s FOR UPDATE"
SAVE_SECTION = """UPDATE byods_sections SET body = %s, revision = revision + 1, updated_at = now()
    WHERE name = %s"""
ALL_SECTIONS = "SELECT name, body FROM byods_sections ORDER BY name"
DELETE_SECTIONS = "DELETE FROM byods_sections"
INSERT_SECTION = "INSERT INTO byods_sections (name, body) VALUES (%s, %s)"

# -- leases ----------------------------------------------------------------------------
ACQUIRE_LEASE = """INSERT INTO byods_leases AS l (name, owner, expires_at)
    VALUES (%(name)s, %(owner)s, now() + make_interval(secs => %(ttl)s))
    ON CONFLICT (name) DO UPDATE
    SET owner = EXCLUDED.owner,
        expires_at = EXCLUDED.expires_at,
        acquired_at = CASE WHEN l.owner = EXCLUDED.owner THEN l.acquired_at ELSE now() END,
        renewed_at = now()
    WHERE l.owner = EXCLUDED.owner OR l.expires_at <= now()
    RETURNING owner"""
# Before an acquire: leases expired for longer than %(stale)s seconds (leases.STALE_AFTER_PERIODS).
PURGE_STALE_LEASES = """DELETE FROM byods_leases
    WHERE expires_at < now() - make_interval(secs => %(stale)s)"""
RENEW_LEASE = """UPDATE byods_leases
    SET expires_at = now() + make_interval(secs => %(ttl)s), renewed_at = now()
    WHERE name = %(name)s AND owner = %(owner)s
    RETURNING owner"""
RELEASE_LEASE = "DELETE FROM byods_leases WHERE name = %s AND owner = %s RETURNING owner"
LIST_LEASES = """SELECT name, owner,
        extract(epoch FROM expires_at - now())::float8,
        extract(epoch FROM acquired_at - now())::float8
    FROM byods_leases ORDER BY name"""
