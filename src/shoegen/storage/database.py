"""The gallery's SQLAlchemy engine: SQLite in WAL mode for one machine, any other URL for shared deployments.

PostgreSQL URLs without a driver (postgresql://...) go through psycopg 3, the one driver the project installs:
it ships binary wheels (no libpq headers or compiler), is the maintained successor of psycopg2, and its
notifications (LISTEN/NOTIFY) and server-side cursors are what a queue in the database needs. A URL that names
its driver (postgresql+psycopg2://...) is taken as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from shoegen.errors import ShoegenError

# Writers wait this long for the SQLite write lock instead of failing at once with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets readers (gallery pages) run while a writer adds an image; synchronous=NORMAL is the
    # setting SQLite recommends with WAL (durable across application crashes, fewer fsyncs).
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # SQLite ignores foreign keys unless asked per connection: deleting an image must delete its scores.
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()
    # SQLite's own lower() folds A-Z only, so a search for "élégant" missed "ÉLÉGANT" (PostgreSQL's ILIKE folds
    # every letter); case-insensitive matches (ILIKE as SQLAlchemy writes it for SQLite) go through lower().
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def parse_database_url(given: str | URL) -> URL:
    """The URL parsed, with psycopg 3 for a driverless PostgreSQL URL; a URL SQLAlchemy cannot read, or whose
    database it has no driver for, is an error naming it (password hidden) and the forms that work."""
    forms = "sqlite:///path/gallery.db or postgresql://user:password@host/database"
    try:
        url = make_url(given)
    except ArgumentError:
        raise ShoegenError(f"The database URL {str(given)!r} is not a URL SQLAlchemy can read; use {forms}.") \
            from None
    url = url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url
    try:
        url.get_dialect()
    except NoSuchModuleError:
        shown = url.render_as_string(hide_password=True)
        raise ShoegenError(f"The database URL {shown!r} names a database or driver ({url.drivername}) this "
                           f"installation cannot use; use {forms}.") from None
    return url


def create_gallery_engine(given: str | URL) -> Engine:
    """An engine safe to share between threads; SQLite files get WAL mode and a busy timeout."""
    url = parse_database_url(given)
    if url.get_backend_name() != "sqlite":
        # pool_pre_ping: a replica whose PostgreSQL connection was dropped reconnects instead of failing a request.
        return create_engine(url, pool_pre_ping=True)
    if url.database in (None, "", ":memory:"):
        # An in-memory database is private to one connection, so threads would each see an empty gallery.
        raise ShoegenError("The gallery needs a SQLite file (sqlite:///path/gallery.db), not an in-memory database.")
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _configure_sqlite)
    return engine


def _sqlite_driver_autocommit(dbapi_connection: Any, connection_record: Any) -> None:
    # The sqlite3 module otherwise opens (deferred) transactions itself, and only before DML: it must leave
    # BEGIN to us, and let DDL inside the transaction.
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_migration_engine(given: str | URL) -> Engine:
    """A one-connection-at-a-time engine for schema migrations. On SQLite every transaction starts with
    BEGIN IMMEDIATE: it takes the database's write lock at once, so a second process migrating waits for the
    first to commit (up to the busy timeout) and then reads the schema it left, and DDL runs inside that
    transaction, so a failed migration leaves the previous schema whole."""
    url = parse_database_url(given)
    engine = create_engine(url, poolclass=NullPool)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "connect", _sqlite_driver_autocommit)
        event.listen(engine, "begin", _begin_immediate)
    return engine
