"""The store's database connection: engines for SQLite and PostgreSQL, write transactions that
serialise where they must, and what counts as "the database is unavailable".

SQLite: pysqlite's own transaction handling is switched off and every transaction is begun
explicitly; write transactions begin IMMEDIATE (they take the write lock first, so two writers
never deadlock upgrading a read lock, and a read-then-write sequence sees no interleaved
commit). PostgreSQL: READ COMMITTED, with explicit row or advisory locks where an operation
must not interleave (corrections of one prediction, exports, routing changes).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

WRITE = "lexflow_write"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)
# A locked SQLite database waits this long for the lock before failing (an export holds it for
# the milliseconds of one UPDATE; a burst of group commits queues behind it).
SQLITE_BUSY_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 5  # PostgreSQL down: fail a request in seconds, not at the TCP timeout
# Connections per process: as many as the gateway's worker threads (anyio's 40) can hold at once,
# so a burst of concurrent writes queues in the database, not for a connection (whose wait ends in a
# pool timeout). Two replicas stay under PostgreSQL's default max_connections of 100.
POOL = {"pool_size": 5, "max_overflow": 35, "pool_timeout": 30}


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or refuses work right now (a 503 for the client)."""


def is_unavailable(exc: BaseException) -> bool:
    """A connection-level failure (server down, network, locked file), not a bad statement."""
    if isinstance(exc, StoreUnavailable | OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _json_serializer(value: Any) -> str:
    # The JSON columns (prediction scores) are encoded once per logged row: orjson, not json.
    return orjson.dumps(value).decode()


def dialect(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql" if url.startswith("postgresql") else "other"


def create(url: str) -> Engine:
    if dialect(url) == "sqlite":
        return _sqlite(url)
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if dialect(url) == "postgresql" else {}
    return create_engine(url, pool_pre_ping=True, json_serializer=_json_serializer, connect_args=connect_args, **POOL)


def _sqlite(url: str) -> Engine:
    options = POOL if url not in ("sqlite://", "sqlite:///:memory:") else {}  # memory: one shared connection
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
        json_serializer=_json_serializer,
        **options,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we begin transactions ourselves (below)
        cursor = dbapi_connection.cursor()
        # WAL lets readers run during writes; synchronous=FULL fsyncs every commit, so an
        # acknowledged write survives a crash (kill -9, power loss).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same pool, for transactions that write."""
    return engine.execution_options(**{WRITE: True})
