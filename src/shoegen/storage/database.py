"""The gallery's SQLAlchemy engine: SQLite in WAL mode for one machine, any other URL for shared deployments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url

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


def create_gallery_engine(database_url: str | URL) -> Engine:
    """An engine safe to share between threads; SQLite files get WAL mode and a busy timeout."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        # pool_pre_ping: a replica whose PostgreSQL connection was dropped reconnects instead of failing a request.
        return create_engine(url, pool_pre_ping=True)
    if url.database in (None, "", ":memory:"):
        # An in-memory database is private to one connection, so threads would each see an empty gallery.
        raise ValueError("The gallery needs a SQLite file (sqlite:///path/gallery.db), not an in-memory database.")
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _configure_sqlite)
    return engine
