"""The prediction log's fast insert: time-ordered ids, and the same rows, errors and atomicity as
SQLAlchemy's own insert, on SQLite and on a real PostgreSQL server."""

import time
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from feedback import is_unavailable
from feedback.prediction_log import RowWriter, new_ids
from feedback.store import FeedbackStore
from feedback.tables import PredictionRow

TABLE = PredictionRow.metadata.tables["predictions"]


def test_ids_are_random_version_7_uuids_in_time_order():
    first = new_ids(500)
    time.sleep(0.002)
    second = new_ids(3)
    parsed = [uuid.UUID(i) for i in first + second]
    assert all(
        u.version == 7 and u.variant == uuid.RFC_4122 and str(u) == i
        for u, i in zip(parsed, first + second, strict=True)
    )
    assert len(set(first + second)) == 503  # 74 random bits each
    assert max(first) < min(second)  # a later millisecond sorts later: appends to the primary-key index
    millis = int(first[0].replace("-", "")[:12], 16)
    assert abs(millis - time.time() * 1000) < 60_000


def _row(prediction_id, **overrides):
    row = {
        "id": prediction_id,
        "created_at": datetime(2026, 12, 1, 12, 30, 15, 123456, tzinfo=timezone.utc),
        "model_name": "lexflow",
        "model_version": 2**62,
        "route": "production",
        "text_sha256": "0" * 64,
        "text": "A clause \u00e9\u4e2d.",
        "label": "x",
        "scores": {"x": 0.7, "y": 1e-07},
        "shadow_version": None,
        "shadow_label": None,
    }
    return {**row, **overrides}


def test_rows_read_back_exactly_as_sqlalchemy_writes_them(store_url):
    store = FeedbackStore(store_url)
    RowWriter(store.engine, TABLE).write([_row("fast-1"), _row("fast-2", shadow_version=3)])
    with store.engine.begin() as connection:
        connection.execute(insert(PredictionRow), [_row("core-1")])
    with store.session() as session:
        rows = {r.id: r for r in session.scalars(select(PredictionRow))}
    columns = [c.key for c in PredictionRow.__table__.columns if c.key != "id"]
    assert [getattr(rows["fast-1"], c) for c in columns] == [getattr(rows["core-1"], c) for c in columns]
    assert rows["fast-1"].scores == {"x": 0.7, "y": 1e-07} and rows["fast-2"].shadow_version == 3


def test_a_failing_group_stores_none_of_its_rows_raises_as_sqlalchemy_does_and_the_next_one_works(store_url):
    store = FeedbackStore(store_url)
    writer = RowWriter(store.engine, TABLE)
    writer.write([_row("taken")])
    with pytest.raises(IntegrityError) as failed:  # SQLAlchemy's class, not the driver's
        writer.write([_row("new"), _row("taken")])
    assert not is_unavailable(failed.value) and "A clause" not in str(failed.value)  # no texts in messages
    writer.write([_row("after")])
    with store.session() as session:
        assert sorted(session.scalars(select(PredictionRow.id))) == ["after", "taken"]


def test_a_locked_sqlite_store_is_unavailable_not_a_crash(tmp_path, monkeypatch):
    import sqlite3

    from feedback import db

    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 0.2)
    store = FeedbackStore(f"sqlite:///{tmp_path}/store.sqlite")
    holder = sqlite3.connect(tmp_path / "store.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(Exception) as failed:
            RowWriter(store.engine, TABLE).write([_row("waits")])
        assert is_unavailable(failed.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_store_that_cannot_be_reached_is_unavailable_not_a_crash(tmp_path):
    """Connecting is the driver's own call: its error is wrapped too (a 503, not a 500)."""
    import shutil

    folder = tmp_path / "store"
    store = FeedbackStore(f"sqlite:///{folder}/store.sqlite")
    store.engine.dispose()  # no pooled connection left: the next write connects
    shutil.rmtree(folder)
    with pytest.raises(Exception) as failed:
        RowWriter(store.engine, TABLE).write([_row("lost")])
    assert is_unavailable(failed.value) and "A clause" not in str(failed.value)
