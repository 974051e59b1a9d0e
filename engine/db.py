"""Database engine, session factory and the declarative base shared by models and Alembic."""
from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event, orm

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(orm.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone, so we restore it)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; times are stored in UTC and must carry a zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def dialect_insert(session: orm.Session):
    """The INSERT construct of the session's database, which has ON CONFLICT DO NOTHING on both we support."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def make_engine(url: str, **kwargs) -> sa.Engine:
    """An Engine; SQLite gets WAL, foreign keys, a busy timeout and write transactions that lock at BEGIN."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip on every checkout of every request. Connections are recycled
    # hourly instead, and one dropped by a server restart fails a single request, then leaves the pool.
    kwargs.setdefault("pool_recycle", 3600)
    engine = sa.create_engine(url, **kwargs)
    _tune_postgresql(engine)
    return engine


def _tune_postgresql(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # No JIT: compiling a statement whose estimate passes jit_above_cost took up to 240 ms here, and ours
        # never run long enough to win it back (a unit's yearly scorecard at 10⁶ findings: 418 ms with it, 176
        # without). A SET, not a startup option, which poolers such as PgBouncer refuse; behind a pooler that
        # shares server connections per transaction, use ALTER DATABASE … SET jit = off (README, Production).
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET jit = off")
        finally:
            cursor.close()
        dbapi_connection.commit()  # any driver: the SET outlives the transaction it opened


def _tune_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so writes can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A read-then-write transaction in SQLite's default DEFERRED mode fails with SQLITE_BUSY when
        # another writer got in between; writers therefore lock at BEGIN and wait their turn instead.
        if conn.get_execution_options().get("xuncha_write"):
            _begin_immediate(conn.connection.driver_connection)
        else:
            conn.exec_driver_sql("BEGIN")


BUSY_TIMEOUT = 30.0  # seconds a writer waits for another's write lock before it fails "database is locked"
BUSY_POLL = 0.001


def _begin_immediate(connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, trying again every millisecond while another connection writes.

    SQLite's own busy handler sleeps 1, 2, 5, 10 … then 100 ms between tries, so with two server processes
    writing steadily one of them can sleep through many of the other's transactions: at 16 clients on two
    workers a transition POST's p99 was 148 ms, against 28 ms on one worker where no one waits."""
    try:
        connection.execute("PRAGMA busy_timeout = 0")
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    # as SQLAlchemy would have raised it, had it run the statement
                    raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, exc) from exc
                time.sleep(BUSY_POLL)
    finally:
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")  # as set on connecting
        except sqlite3.Error:  # the connection is broken: the error above is the one to report
            pass


def session_factory(engine: sa.Engine, info: dict | None = None) -> orm.sessionmaker:
    return orm.sessionmaker(engine, expire_on_commit=False, info=info)
