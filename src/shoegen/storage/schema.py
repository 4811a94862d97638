"""The database schema, brought up to date with Alembic whenever a gallery opens (`upgrade_database`).

Revisions live in `migrations/versions/`, one per change, numbered; a fresh database gets them all, an existing
one the ones it lacks. Databases made by releases before migrations (tables from `create_all`, no version table)
are recognised by their tables and stamped with the revision that matches them, then upgraded: nothing is
rebuilt, no row is touched.

Several processes may open a fresh database at the same moment (replicas starting together). Each runs the
whole check-and-upgrade in one transaction that first takes a lock the others wait on, so one migrates and the
others then find the schema at head and do nothing:
- PostgreSQL: `pg_advisory_xact_lock` on a fixed key. A transaction-level advisory lock, rather than the
  session-level `pg_advisory_lock`, is released by the very commit that publishes the new schema (or by the
  rollback of a failed one, or by the server when the process dies), so there is no unlock to forget and no
  window where the lock is free but the schema not yet visible. PostgreSQL's DDL is transactional, so a failed
  upgrade leaves the previous schema.
- SQLite: `BEGIN IMMEDIATE` (see `database.create_migration_engine`), SQLite's own write lock, rather than a
  lock file beside the database: nothing extra to create, clean up or get wrong on shared folders, the same
  lock that already guards every write, waited on with the gallery's busy timeout, and the DDL runs inside it.
Other databases get the transaction without a lock.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection, make_url

from shoegen.errors import ShoegenError
from shoegen.storage.database import create_migration_engine

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "shoegen_alembic_version"
"""Alembic's version table, named for the project so that it never meets another application's in a shared
database."""
MIGRATION_LOCK_KEY = int.from_bytes(b"shoegen", "big")
"""The PostgreSQL advisory lock key every shoegen process migrating this database takes."""
LEGACY_SCHEMAS: tuple[tuple[str, frozenset[str]], ...] = (
    ("0002_scores", frozenset({"images", "image_scores", "image_presets"})),
    ("0001_images", frozenset({"images"})),
)
"""What releases before migrations left, newest first: the revision a database with those tables is at."""


def alembic_config(database_url: str | URL | None = None, connection: Connection | None = None) -> Config:
    """Alembic's configuration for the shoegen database, without an ini file. To write a new revision:
    `alembic.command.revision(alembic_config("sqlite:///scratch.db"), "what changes", autogenerate=True,
    rev_id="0003_...")` against a database at head, then check the generated file."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url is not None:
        url = make_url(database_url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolates "%"
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision an up-to-date database is at."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, f"no revisions in {MIGRATIONS_DIR}"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in the database; None before any migration ran."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def _legacy_revision(connection: Connection) -> str | None:
    tables = set(inspect(connection).get_table_names())
    return next((revision for revision, needed in LEGACY_SCHEMAS if needed <= tables), None)


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    # SQLite: the transaction began with BEGIN IMMEDIATE, which is the lock.


def upgrade_database(database_url: str | URL) -> None:
    """Bring the database at `database_url` to the newest schema, safely alongside other processes doing the same."""
    from alembic import command
    from alembic.script import ScriptDirectory

    engine = create_migration_engine(database_url)
    try:
        with engine.begin() as connection:
            _lock(connection)
            config = alembic_config(connection=connection)
            known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
            current = current_revision(connection)
            if current is not None and current not in known:
                raise ShoegenError(
                    f"The gallery database ({engine.url.render_as_string(hide_password=True)}) is at schema revision "
                    f"{current!r}, which this version of shoegen does not know: a newer release upgraded it. "
                    "Run that release (or newer) against it.")
            if current is None and (legacy := _legacy_revision(connection)) is not None:
                logger.info("Gallery database made before migrations, with the tables of revision %s: stamping it.",
                            legacy)
                command.stamp(config, legacy)
                current = legacy
            command.upgrade(config, "head")
            if current != (head := current_revision(connection)):
                logger.info("Gallery database schema upgraded from %s to %s.", current or "empty", head)
    finally:
        engine.dispose()
