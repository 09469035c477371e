"""Feedback -> a new data span that ExampleGen reads (`<data root>/span-<N>/feedback.csv`), exactly once.

Every acknowledged feedback row lands in exactly one span, whatever the number of replicas and
concurrent exporters, on SQLite and PostgreSQL:

1. Under the export lock (`export_lock.py`: one exporter at a time, held through all steps), an
   export record is created with the next span number, allocated from the store (one above the
   highest recorded span and above every `span-<N>/` folder), and every feedback row no export
   has claimed yet is claimed by setting its `export_id`, in the same transaction. Rows are
   claimed by what they are, not by an id range: PostgreSQL sequence ids commit out of order,
   so a row with a smaller id can become visible after a larger one was exported.
2. The CSV is written to a temporary file with a unique name, fsync'd and renamed into place.
3. The record is completed.

A row whose prediction classified a provision of a document in the review console keeps that
document's id in a `document` column (`review:<id>`; rows without one get their own,
`prediction:<id>` or `feedback:<id>`), so ExampleGen keeps a document's rows in one split
(core/splits.py). An export without any such row writes `text,label,source` only.

A crash between 1 and 3 leaves an incomplete record; the next export finishes it first, with the
same span and the same rows. Within one export the latest correction of a prediction wins: an
earlier correction it superseded is claimed but not written. (A correction that arrives after its
predecessor was exported goes to a later span; a written span is never rewritten.)
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from sqlalchemy import func, select, update

from core.atomic_file import write_text_atomically
from core.spans import FLAT_PATTERN, next_span, span_dir
from feedback.export_lock import ExportBusy, export_lock
from feedback.store import FeedbackStore, InvalidFeedback
from feedback.tables import ExportRow, FeedbackRow, PredictionRow

FEEDBACK_FILE = "feedback.csv"
SOURCE = "feedback"
DOCUMENT_COLUMN = "document"  # core/splits.py
WAIT_SECONDS = 60.0

__all__ = ["ExportBusy", "ExportResult", "FlatDataRoot", "export_feedback", "pending_feedback"]


class FlatDataRoot(InvalidFeedback):
    """The data root holds its CSVs at the top level: a span folder there would hide them from runs."""


@dataclass(frozen=True)
class ExportResult:
    span: Optional[int]
    rows: int  # rows written to the span's CSV
    path: Optional[Path]
    first_feedback_id: Optional[int] = None  # smallest and largest claimed id (not a contiguous range)
    last_feedback_id: Optional[int] = None
    claimed: int = 0  # rows claimed: `rows` plus corrections superseded within this export
    resumed: bool = False  # finished an export that an earlier (crashed) call started


def _records(rows: list[FeedbackRow], documents: dict[str, str]) -> list[list[str]]:
    """The span's CSV records, header first; a `document` column only when some row has a document."""
    header = ["text", "label", "source"] + ([DOCUMENT_COLUMN] if documents else [])
    # One record per physical line, like the corpus: newlines inside a text become spaces.
    body = [[" ".join(row.text.split()), row.label, SOURCE] for row in rows]
    if documents:
        body = [[*record, _document_of(row, documents)] for record, row in zip(body, rows, strict=True)]
    return [header, *body]


def _write_span(path: Path, records: list[list[str]]) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(records)
    write_text_atomically(path, buffer.getvalue(), newline="")


def _document_of(row: FeedbackRow, documents: dict[str, str]) -> str:
    """The row's document id: its reviewed document's, else one of its own (a file with the column needs one)."""
    if row.prediction_id is not None and row.prediction_id in documents:
        return f"review:{documents[row.prediction_id]}"
    return f"prediction:{row.prediction_id}" if row.prediction_id is not None else f"feedback:{row.id}"


def _documents(store: FeedbackStore, rows: list[FeedbackRow]) -> dict[str, str]:
    """prediction id -> the review console document it belongs to, for the rows' predictions."""
    ids = sorted({row.prediction_id for row in rows if row.prediction_id is not None})
    found: dict[str, str] = {}
    with store.session() as session:
        for start in range(0, len(ids), 500):  # bounded IN lists
            query = select(PredictionRow.id, PredictionRow.document_id).where(
                PredictionRow.id.in_(ids[start : start + 500]), PredictionRow.document_id.is_not(None)
            )
            for prediction, document in session.execute(query):
                found[prediction] = document
    return found


def pending_feedback(store: FeedbackStore) -> list[FeedbackRow]:
    """Feedback the next export will write (unclaimed, latest correction of each prediction), oldest first."""
    with store.session() as session:
        query = (
            select(FeedbackRow)
            .where(FeedbackRow.export_id.is_(None), FeedbackRow.superseded_by.is_(None))
            .order_by(FeedbackRow.id)
        )
        return list(session.scalars(query))


def export_feedback(
    store: FeedbackStore, data_root: Path, min_rows: int = 1, wait_seconds: float = WAIT_SECONDS
) -> ExportResult:
    """Write the unclaimed feedback as the next span (or finish an interrupted export first).

    Waits up to `wait_seconds` for a concurrent export to finish, then raises ExportBusy. Refuses
    (FlatDataRoot, nothing claimed) a data root of flat CSVs: once a `span-<N>/` folder exists, runs
    read only span folders, so the corpus would silently drop out of training."""
    data_root = Path(data_root)
    check_span_layout(data_root)
    with export_lock(store.engine, wait_seconds):
        claimed = _resume_or_claim(store, data_root, min_rows)
        if claimed is None:
            return ExportResult(span=None, rows=0, path=None)
        export, resumed = claimed
        rows = _rows_to_write(store, export.id)
        # Outside any transaction: SQLite writers are not held up.
        _write_span(Path(export.path), _records(rows, _documents(store, rows)))
        with store.write_session() as session, session.begin():
            record = session.get_one(ExportRow, export.id)
            record.rows, record.completed = len(rows), True
        return ExportResult(
            span=export.span,
            rows=len(rows),
            path=Path(export.path),
            first_feedback_id=export.first_feedback_id,
            last_feedback_id=export.last_feedback_id,
            claimed=export.claimed,
            resumed=resumed,
        )


def check_span_layout(data_root: Path) -> None:
    """Raise FlatDataRoot when `data_root` has top-level CSVs and no span folder yet."""
    flat = sorted(p.name for p in data_root.glob(FLAT_PATTERN) if p.is_file())
    if flat and not any(p.is_dir() for p in data_root.glob("span-*")):
        shown = ", ".join(flat[:3]) + (f" and {len(flat) - 3} more" if len(flat) > 3 else "")
        raise FlatDataRoot(
            f"data root {data_root} holds its CSVs at the top level ({shown}): feedback exports add "
            f"span-<N>/ folders, after which runs read only those; move the CSVs into {data_root / 'span-0'}/ "
            "first (nothing was exported)"
        )


def _resume_or_claim(store: FeedbackStore, data_root: Path, min_rows: int) -> Optional[tuple[ExportRow, bool]]:
    """(export, resumed): an incomplete export, else a new one that claimed every unclaimed row."""
    with store.write_session() as session, session.begin():
        unfinished = session.scalars(
            select(ExportRow).where(ExportRow.completed.is_(False)).order_by(ExportRow.id).limit(1)
        ).first()
        if unfinished is not None:
            return unfinished, True
        unclaimed = session.scalar(select(func.count()).where(FeedbackRow.export_id.is_(None))) or 0
        if unclaimed < max(min_rows, 1):
            return None
        highest = session.scalar(select(func.max(ExportRow.span)))
        span = max(next_span(data_root), highest + 1 if highest is not None else 0)
        path = span_dir(data_root, span) / FEEDBACK_FILE
        export = ExportRow(span=span, first_feedback_id=0, last_feedback_id=0, rows=0, claimed=0, path=str(path))
        session.add(export)
        session.flush()
        session.execute(update(FeedbackRow).where(FeedbackRow.export_id.is_(None)).values(export_id=export.id))
        first, last, count = session.execute(
            select(func.min(FeedbackRow.id), func.max(FeedbackRow.id), func.count()).where(
                FeedbackRow.export_id == export.id
            )
        ).one()
        export.first_feedback_id, export.last_feedback_id, export.claimed = first, last, count
        return export, False


def _rows_to_write(store: FeedbackStore, export_id: int) -> list[FeedbackRow]:
    """The export's rows, oldest first, without corrections superseded by another row of the same export."""
    with store.session() as session:
        rows = list(
            session.scalars(select(FeedbackRow).where(FeedbackRow.export_id == export_id).order_by(FeedbackRow.id))
        )
    claimed = {row.id for row in rows}
    return [row for row in rows if row.superseded_by not in claimed]
