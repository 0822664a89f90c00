"""The declarative base, and a datetime type that is always UTC-aware in Python."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """timestamptz on PostgreSQL; naive UTC text on SQLite. Python always sees aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: store aware times (UTC)")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# Whether the work in progress may write. A read-only unit (a GET request) begins a plain, deferred
# transaction on SQLite, which takes no lock: with WAL, readers never wait for writers nor block them.
may_write: ContextVar[bool] = ContextVar("may_write", default=True)

# How long a SQLite writer waits for the one write lock before giving up ("database is locked").
BUSY_TIMEOUT_MS = 5000


def owner_only(path: str) -> None:
    """The database file (and its WAL and shared-memory files: they hold recent writes) readable by its
    owner only: customers' names and phones are in it."""
    import os

    for name in (path, f"{path}-wal", f"{path}-shm"):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except (FileNotFoundError, PermissionError):
            pass  # not made yet, or not ours to change (a shared read-only copy)


def harden_sqlite(engine, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    """Serialize SQLite writers: a writing transaction starts IMMEDIATE and waits its turn.

    pysqlite's own transaction handling is switched off (SQLAlchemy's documented recipe),
    so that a booking's check and insert happen under the write lock, and a second
    writer waits (busy timeout) instead of failing with "database is locked". Reads
    (`may_write` false) begin deferred and take no lock.
    """
    from sqlalchemy import event

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            owner_only(engine.url.database)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if may_write.get() else "BEGIN")


def append_only(table) -> None:
    """Make the database itself refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) on this table.

    An audit trail that can be rewritten is not one: corrections are new rows.
    """
    from sqlalchemy import DDL, event

    for statement in append_only_pg(table.name):  # DDL formats its text with %: a literal one is doubled
        event.listen(table, "after_create", DDL(statement.replace("%", "%%")).execute_if(dialect="postgresql"))
    for statement in append_only_sqlite(table.name):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))


REFUSE_REWRITE_PG = """
CREATE OR REPLACE FUNCTION refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'append_only: % rows are never changed or deleted; add a correcting row instead', TG_TABLE_NAME;
END $$"""


def append_only_pg(name: str) -> list[str]:
    return [REFUSE_REWRITE_PG,
            f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_rewrite()",
            f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite()"]


def final_once_answered(table, column: str = "status", waiting: str = "open") -> None:
    """A row may change while it waits for its answer (`column` = `waiting`); once answered, never; no row
    is ever deleted (nor, on PostgreSQL, truncated). A direct-line answer stands as given."""
    from sqlalchemy import DDL, event

    for statement in final_once_answered_pg(table.name, column, waiting):
        event.listen(table, "after_create", DDL(statement.replace("%", "%%")).execute_if(dialect="postgresql"))
    for statement in final_once_answered_sqlite(table.name, column, waiting):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))


def final_once_answered_pg(name: str, column: str = "status", waiting: str = "open") -> list[str]:
    return [REFUSE_REWRITE_PG,
            f"""CREATE OR REPLACE FUNCTION {name}_refuse_changed_answer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.{column} <> '{waiting}' THEN
        RAISE EXCEPTION 'append_only: an answered {name} row is never changed; add a new row instead';
    END IF;
    RETURN NEW;
END $$""",
            f"CREATE TRIGGER {name}_answer_final BEFORE UPDATE ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}_refuse_changed_answer()",
            f"CREATE TRIGGER {name}_no_delete BEFORE DELETE ON {name} FOR EACH ROW EXECUTE FUNCTION refuse_rewrite()",
            f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite()"]


def final_once_answered_sqlite(name: str, column: str = "status", waiting: str = "open") -> list[str]:
    return [f"CREATE TRIGGER {name}_answer_final BEFORE UPDATE ON {name} WHEN OLD.{column} <> '{waiting}' "
            f"BEGIN SELECT RAISE(ABORT, 'append_only: an answered {name} row is never changed'); END",
            f"CREATE TRIGGER {name}_no_delete BEFORE DELETE ON {name} "
            f"BEGIN SELECT RAISE(ABORT, 'append_only: {name} rows are never deleted'); END"]


def append_only_sqlite(name: str) -> list[str]:
    return [f"CREATE TRIGGER {name}_no_{op.lower()} BEFORE {op} ON {name} "
            f"BEGIN SELECT RAISE(ABORT, 'append_only: {name} rows are never changed or deleted'); END"
            for op in ("UPDATE", "DELETE")]
