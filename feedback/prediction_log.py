"""The prediction log's writes: new ids, and one DBAPI `executemany` per group commit.

Every answered `/v1/classify` request ends here, so this is the gateway's hottest write. Two
things make it cheap without touching its durability (each group is one committed transaction,
fsync'd on SQLite with `synchronous=FULL`, before any of its callers is answered):

- **Ids are time-ordered UUIDs** (RFC 9562 version 7: 48 bits of milliseconds, then 74 random
  bits). Random (version 4) ids land on a random leaf of the primary-key index, so a group of
  N rows dirtied ~N index pages, and each dirty page is a 4 KiB WAL frame written, checksummed
  and fsync'd; ordered ids append to one or two pages (and the index stays compact as the
  table grows). Still unguessable: 74 random bits from `os.urandom`.
- **No SQLAlchemy Connection per group.** A DBAPI connection is checked out of the engine's
  pool (so pre-ping, invalidation and overflow work as for every other query), and the insert
  compiled once for the engine's dialect (its paramstyle, the columns' bind processors) runs
  as one `executemany`. SQLAlchemy's Connection, transaction and execution context cost
  ~0.3 ms of CPU per group, as much as SQLite's own insert of 16 rows (BENCHMARKS.md, Serving).
  Errors of the driver are wrapped as SQLAlchemy wraps them (`DBAPIError.instance`), so callers
  see the same exceptions (`is_unavailable`) as from `Connection.execute`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, StatementError

# The variant digit (RFC 9562: binary 10xx) for each hex digit drawn at its place.
_VARIANT = {f"{d:x}": f"{8 + (d & 3):x}" for d in range(16)}


def new_ids(n: int) -> list[str]:
    """`n` random UUIDs of version 7: ordered by the millisecond they were drawn in."""
    millis = f"{time.time_ns() // 1_000_000:012x}"
    time_part = f"{millis[:8]}-{millis[8:]}-7"
    entropy = os.urandom(10 * n).hex()  # one system call for the whole request
    ids = []
    for i in range(0, 20 * n, 20):
        # 12 hex digits of milliseconds, then 20 random ones less the version digit and 2 bits of the variant's.
        r = entropy[i : i + 20]
        ids.append(f"{time_part}{r[1:4]}-{_VARIANT[r[4]]}{r[5:8]}-{r[8:]}")
    return ids


class RowWriter:
    """Inserts dict rows into one table, a group per transaction, through the engine's pool."""

    def __init__(self, engine: Engine, table: Table):
        self.engine = engine
        dialect = engine.dialect
        compiled = insert(table).compile(dialect=dialect)
        self._sql = str(compiled)
        self._sqlite = dialect.name == "sqlite"  # autocommit connections (feedback/db.py): BEGIN ourselves
        self._dbapi_error = dialect.loaded_dbapi.Error
        columns = {c.key: c for c in table.columns}
        self._names = list(compiled.positiontup or []) if compiled.positional else list(columns)
        processors = [columns[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self._names]
        # Only some columns need converting (SQLite: dates to text; JSON to text): the others pass as they are.
        self._processors: list[tuple[int, Callable[[Any], Any]]] = [
            (i, p) for i, p in enumerate(processors) if p is not None
        ]
        self._positional = compiled.positional
        # A column a row leaves out takes its scalar default, as SQLAlchemy's insert would give it.
        self._defaults = {
            name: columns[name].default.arg  # type: ignore[union-attr]
            for name in self._names
            if columns[name].default is not None and columns[name].default.is_scalar  # type: ignore[union-attr]
        }

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """The rows as the driver takes them (a column missing from a row takes its scalar default, else
        NULL, as with SQLAlchemy)."""
        names, processors, defaults = self._names, self._processors, self._defaults
        converted = []
        for row in rows:
            values = [row[name] if name in row else defaults.get(name) for name in names]
            for i, process in processors:
                values[i] = process(values[i])
            converted.append(tuple(values) if self._positional else dict(zip(names, values, strict=True)))
        return converted

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """One transaction holding every row; returns once it is committed."""
        parameters = self.parameters(rows)
        try:
            pooled = self.engine.raw_connection()  # pre-ping, invalidation, overflow: as for any checkout
        except self._dbapi_error as exc:  # the driver's own error here: no server, no file
            raise self._wrapped(exc, self.engine.dialect.is_disconnect(exc, None, None)) from exc
        try:
            connection = pooled.driver_connection
            assert connection is not None
            cursor = connection.cursor()
            try:
                if self._sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                cursor.executemany(self._sql, parameters)
                connection.commit()
            except self._dbapi_error as exc:
                invalidated = self.engine.dialect.is_disconnect(exc, connection, cursor)
                if invalidated:
                    pooled.invalidate(exc)
                else:
                    _rollback(connection)
                raise self._wrapped(exc, invalidated) from exc
            finally:
                cursor.close()
        finally:
            pooled.close()  # back to the pool (or discarded, when invalidated)

    def _wrapped(self, exc: Exception, invalidated: bool) -> StatementError:
        """The driver's error as SQLAlchemy raises it (OperationalError, IntegrityError, ...)."""
        return DBAPIError.instance(
            self._sql,
            None,  # never the rows: they hold texts, and messages end up in logs
            exc,
            self._dbapi_error,
            connection_invalidated=invalidated,
            dialect=self.engine.dialect,
        )


def _rollback(connection: Any) -> None:
    with contextlib.suppress(Exception):  # the connection is gone too: the pool's reset on return deals with it
        connection.rollback()
