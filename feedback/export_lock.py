"""One exporter at a time, across threads, processes and gateway replicas.

An export claims rows, writes the span's CSV and completes its record in three steps; the lock
is held across all three, so a second exporter never resumes an export that is still being
written. PostgreSQL: a session-level advisory lock on a dedicated connection (released when
the holder's connection ends, crash included). SQLite (one machine by nature): `flock` on a file
next to the database (released when the holder's process dies). Waiting is a poll with a
deadline, so callers either get the lock or `ExportBusy` in bounded time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

EXPORT_LOCK = 0x6C6578666C6F7702
POLL_SECONDS = 0.05
_MEMORY_LOCK = threading.Lock()  # sqlite://:memory: lives in one process


class ExportBusy(RuntimeError):
    """Another export held the lock for longer than the caller was willing to wait."""


@contextlib.contextmanager
def export_lock(engine: Engine, wait_seconds: float) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with _advisory(engine, wait_seconds):
            yield
        return
    database = engine.url.database
    if not database or database == ":memory:":
        if not _MEMORY_LOCK.acquire(timeout=max(wait_seconds, 0)):
            raise ExportBusy(f"another export is in progress (waited {wait_seconds:g} s)")
        try:
            yield
        finally:
            _MEMORY_LOCK.release()
        return
    with _flock(Path(database).with_name(Path(database).name + ".export-lock"), wait_seconds):
        yield


def _deadline_poll(try_once: Callable[[], bool], wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while not try_once():
        if time.monotonic() >= deadline:
            raise ExportBusy(f"another export is in progress (waited {wait_seconds:g} s); retry later")
        time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def _advisory(engine: Engine, wait_seconds: float) -> Iterator[None]:
    connection = engine.connect()
    try:

        def try_once() -> bool:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": EXPORT_LOCK}).scalar()
            connection.commit()  # no transaction left open while we wait or work
            return bool(got)

        _deadline_poll(try_once, wait_seconds)
        try:
            yield
        finally:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": EXPORT_LOCK})
                connection.commit()
            except Exception:
                connection.invalidate()  # never hand a connection that may hold the lock back to the pool
                raise
    finally:
        connection.close()


@contextlib.contextmanager
def _flock(path: Path, wait_seconds: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:

        def try_once() -> bool:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

        _deadline_poll(try_once, wait_seconds)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
