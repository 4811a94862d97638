"""Options the service sets at run time, as rows of the gallery's database (`service_options`): one value for
every replica sharing it, kept across restarts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects import postgresql, sqlite

from shoegen.storage.records import ServiceOptionRecord

if TYPE_CHECKING:
    from shoegen.storage.gallery import Gallery


class OptionStore:
    def __init__(self, gallery: Gallery) -> None:
        self._sessions = gallery._sessions
        self._dialect = gallery._engine.dialect.name

    def get(self, name: str) -> Any | None:
        with self._sessions() as session:
            return session.scalar(select(ServiceOptionRecord.value).where(ServiceOptionRecord.name == name))

    def set(self, name: str, value: Any | None) -> None:
        """Store `value` under `name` (None removes it); an upsert, so replicas setting it together do not clash."""
        with self._sessions.begin() as session:
            if value is None:
                session.execute(delete(ServiceOptionRecord).where(ServiceOptionRecord.name == name))
                return
            dialect = postgresql if self._dialect == "postgresql" else sqlite
            statement = dialect.insert(ServiceOptionRecord).values(name=name, value=value)
            session.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"value": value}))

    def clear_if(self, name: str, expected: Any) -> bool:
        """Remove `name` if it still holds `expected` (not a value another replica has set since); True if removed."""
        with self._sessions.begin() as session:
            # What is read stays true until the delete: SQLite's write lock taken first, PostgreSQL's row lock.
            if self._dialect == "sqlite":
                session.execute(text("BEGIN IMMEDIATE"))
            value = session.scalar(select(ServiceOptionRecord.value).where(ServiceOptionRecord.name == name)
                                   .with_for_update())
            if value is None or value != expected:
                return False
            session.execute(delete(ServiceOptionRecord).where(ServiceOptionRecord.name == name))
            return True

    def with_prefix(self, prefix: str) -> dict[str, Any]:
        """Every option whose name starts with `prefix`, by name."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._sessions() as session:
            rows = session.execute(select(ServiceOptionRecord.name, ServiceOptionRecord.value)
                                   .where(ServiceOptionRecord.name.like(escaped + "%", escape="\\")))
            return dict(rows.all())
