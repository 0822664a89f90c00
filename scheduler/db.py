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
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if may_write.get() else "BEGIN")
