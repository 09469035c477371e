"""Feedback -> a new data span that ExampleGen reads (`<data root>/span-<N>/feedback.csv`).

Idempotent: each export records the feedback ids it covered, so the next one continues after
them and exporting twice never duplicates a row. The export record is written first (not yet
completed); the CSV is written to a temporary file and renamed into place; only then is the
record completed. A crash in between leaves an incomplete record that the next export
finishes with the same span and the same rows.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from sqlalchemy import func, select

from core.spans import next_span, span_dir
from feedback.store import FeedbackStore
from feedback.tables import ExportRow, FeedbackRow

FEEDBACK_FILE = "feedback.csv"
SOURCE = "feedback"


@dataclass(frozen=True)
class ExportResult:
    span: Optional[int]
    rows: int
    path: Optional[Path]
    first_feedback_id: Optional[int] = None
    last_feedback_id: Optional[int] = None


def _write_span(path: Path, rows: list[FeedbackRow]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["text", "label", "source"])
        for row in rows:
            # One record per physical line, like the corpus: newlines inside a text become spaces.
            writer.writerow([" ".join(row.text.split()), row.label, SOURCE])
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def pending_feedback(store: FeedbackStore) -> list[FeedbackRow]:
    """Feedback no completed export has covered yet (what the next export will write), oldest first."""
    with store.session() as session:
        done_up_to = (
            session.scalar(select(func.max(ExportRow.last_feedback_id)).where(ExportRow.completed.is_(True))) or 0
        )
        return list(session.scalars(select(FeedbackRow).where(FeedbackRow.id > done_up_to).order_by(FeedbackRow.id)))


def export_feedback(store: FeedbackStore, data_root: Path, min_rows: int = 1) -> ExportResult:
    data_root = Path(data_root)
    with store.session() as session, session.begin():
        pending = session.scalars(
            select(ExportRow).where(ExportRow.completed.is_(False)).order_by(ExportRow.id)
        ).first()
        if pending is None:
            done_up_to = session.scalar(select(func.max(ExportRow.last_feedback_id))) or 0
            rows = list(
                session.scalars(select(FeedbackRow).where(FeedbackRow.id > done_up_to).order_by(FeedbackRow.id))
            )
            if len(rows) < max(min_rows, 1):
                return ExportResult(span=None, rows=0, path=None)
            span = next_span(data_root)
            pending = ExportRow(
                span=span,
                first_feedback_id=rows[0].id,
                last_feedback_id=rows[-1].id,
                rows=len(rows),
                path=str(span_dir(data_root, span) / FEEDBACK_FILE),
            )
            session.add(pending)
    with store.session() as session, session.begin():
        pending = session.get_one(ExportRow, pending.id)
        rows = list(
            session.scalars(
                select(FeedbackRow)
                .where(FeedbackRow.id >= pending.first_feedback_id, FeedbackRow.id <= pending.last_feedback_id)
                .order_by(FeedbackRow.id)
            )
        )
        _write_span(Path(pending.path), rows)
        pending.completed = True
        return ExportResult(
            span=pending.span,
            rows=len(rows),
            path=Path(pending.path),
            first_feedback_id=pending.first_feedback_id,
            last_feedback_id=pending.last_feedback_id,
        )
