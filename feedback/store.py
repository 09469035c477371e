"""Reads and writes of the feedback store. Each write commits before it returns.

The store's queries are its methods, with typed results (ORM rows or dataclasses); callers never
build SQL. What the gateway, `lexflow retrain`, `lexflow promote` and the review tools need:
predictions, corrections (the latest one of a prediction counts, the history is kept), live
accuracy, shadow agreement, pending feedback, and the shared routing state with its audit trail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from sqlalchemy import Integer, case, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from feedback import db
from feedback import routing as routing_state
from feedback.group_commit import GroupCommitter
from feedback.prediction_log import RowWriter, new_ids
from feedback.routing import RoutingChange, RoutingState
from feedback.tables import FeedbackRow, PredictionRow, utcnow


class UnknownPrediction(LookupError):
    """Feedback names a prediction id the store does not have."""


class InvalidFeedback(ValueError):
    """Feedback that cannot be stored as given; the message says why."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class VersionHealth:
    version: int
    predictions: int
    feedback: int  # predictions of this version with feedback (the latest correction of each)
    correct: int

    @property
    def live_accuracy(self) -> Optional[float]:
        return self.correct / self.feedback if self.feedback else None


@dataclass(frozen=True)
class ShadowAgreement:
    version: int  # the version that answered
    shadow_version: int
    predictions: int  # predictions both versions scored
    agreements: int  # ... where both chose the same label

    @property
    def agreement(self) -> Optional[float]:
        return self.agreements / self.predictions if self.predictions else None


class FeedbackStore:
    def __init__(self, url: str, store_text: bool = True):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine = db.create(url)
        self.writer = db.writer(self.engine)
        self.store_text = store_text
        from feedback.migrate import upgrade

        upgrade(self.engine)  # Alembic, so PostgreSQL stores in production evolve with the code
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._write_session = sessionmaker(self.writer, expire_on_commit=False)
        self._predictions = RowWriter(self.engine, PredictionRow.metadata.tables[PredictionRow.__tablename__])
        self._committer = GroupCommitter(self._insert)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        """A session for reads."""
        return self._session()

    def write_session(self) -> Session:
        """A session whose transactions write (SQLite: BEGIN IMMEDIATE)."""
        return self._write_session()

    def ping(self) -> None:
        """Raises when the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()

    # -- predictions -------------------------------------------------------------------------
    def _insert(self, rows: list[dict]) -> None:
        # One executemany per group on a pooled DBAPI connection (feedback/prediction_log.py): the ORM's
        # unit of work, and then Core's per-transaction machinery, cost more than SQLite's insert.
        self._predictions.write(self.finished(rows))

    def finished(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows of `prediction_rows` as stored: hashed, and without their text when store_text is off.
        Called off the event loop (texts may be 100k characters each)."""
        for row in rows:
            if "text_sha256" not in row:
                row["text_sha256"] = text_hash(row["text"])
                if not self.store_text:
                    row["text"] = None
        return rows

    def log_predictions(
        self,
        model_name: str,
        version: int,
        route: str,
        texts: list[str],
        labels: list[str],
        scores: list[dict[str, float]],
        shadow_version: Optional[int] = None,
        shadow_labels: Optional[list[str]] = None,
        authenticated: bool = False,
    ) -> list[str]:
        """Stores one row per text and returns their ids once committed (durable)."""
        ids, rows = prediction_rows(
            model_name, version, route, texts, labels, scores, shadow_version, shadow_labels, authenticated
        )
        self._committer.submit(rows)
        return ids

    async def log_predictions_async(
        self,
        model_name: str,
        version: int,
        route: str,
        texts: list[str],
        labels: list[str],
        scores: list[dict[str, float]],
        shadow_version: Optional[int] = None,
        shadow_labels: Optional[list[str]] = None,
        authenticated: bool = False,
    ) -> list[str]:
        """`log_predictions` for the event loop: awaits the (group) commit without holding a thread."""
        ids, rows = prediction_rows(
            model_name, version, route, texts, labels, scores, shadow_version, shadow_labels, authenticated
        )
        await self._committer.submit_async(rows)
        return ids

    def get_prediction(self, prediction_id: str) -> Optional[PredictionRow]:
        with self.session() as session:
            return session.get(PredictionRow, prediction_id)

    # -- feedback ----------------------------------------------------------------------------
    def add_feedback(self, label: str, prediction_id: Optional[str] = None, text: Optional[str] = None) -> FeedbackRow:
        """Store a correction. A later correction of the same prediction supersedes the earlier
        ones (live accuracy and exports use the latest); they stay listed (`corrections`)."""
        with self.write_session() as session, session.begin():
            prediction = None
            if prediction_id is not None:
                # Locked: two corrections of one prediction on two replicas apply one after the other.
                prediction = session.get(PredictionRow, prediction_id, with_for_update=True)
                if prediction is None:
                    raise UnknownPrediction(f"no prediction with id '{prediction_id}'")
                if text is not None and text_hash(text) != prediction.text_sha256:
                    raise InvalidFeedback("text does not match the text of that prediction")
                text = text if text is not None else prediction.text
                if text is None:
                    raise InvalidFeedback("the prediction's text was not retained (store_text is off); send `text` too")
            if text is None:
                raise InvalidFeedback("feedback needs a prediction_id or a text")
            row = FeedbackRow(
                prediction_id=prediction_id,
                text=text,
                text_sha256=text_hash(text),
                label=label,
                predicted_label=prediction.label if prediction else None,
                model_version=prediction.model_version if prediction else None,
            )
            session.add(row)
            session.flush()
            if prediction_id is not None:
                session.execute(
                    update(FeedbackRow)
                    .where(
                        FeedbackRow.prediction_id == prediction_id,
                        FeedbackRow.superseded_by.is_(None),
                        FeedbackRow.id != row.id,
                    )
                    .values(superseded_by=row.id)
                )
        return row

    def list_feedback(self, after_id: int = 0, limit: int = 100) -> list[FeedbackRow]:
        """Every correction (superseded ones too), by id."""
        with self.session() as session:
            query = select(FeedbackRow).where(FeedbackRow.id > after_id).order_by(FeedbackRow.id).limit(limit)
            return list(session.scalars(query))

    def corrections(self, prediction_id: str) -> list[FeedbackRow]:
        """The history of corrections of one prediction, oldest first; the last one counts."""
        with self.session() as session:
            query = select(FeedbackRow).where(FeedbackRow.prediction_id == prediction_id).order_by(FeedbackRow.id)
            return list(session.scalars(query))

    def pending_count(self) -> int:
        """Feedback rows no export has claimed yet."""
        with self.session() as session:
            return session.scalar(select(func.count()).where(FeedbackRow.export_id.is_(None))) or 0

    # -- what the gateway reports ------------------------------------------------------------
    def health(self) -> list[VersionHealth]:
        """Predictions per version, and live accuracy over the latest correction of each prediction."""
        with self.session() as session:
            counted = select(PredictionRow.model_version, func.count()).group_by(PredictionRow.model_version)
            predictions: dict[int, int] = dict(session.execute(counted).tuples().all())
            feedback = session.execute(
                select(
                    FeedbackRow.model_version,
                    func.count(),
                    func.sum((FeedbackRow.label == FeedbackRow.predicted_label).cast(Integer)),
                )
                .where(FeedbackRow.model_version.is_not(None), FeedbackRow.superseded_by.is_(None))
                .group_by(FeedbackRow.model_version)
            ).all()
        by_version = {v: [n, 0, 0] for v, n in predictions.items()}
        for version, count, correct in feedback:
            by_version.setdefault(version, [0, 0, 0])[1:] = [count, int(correct or 0)]
        return [VersionHealth(v, *by_version[v]) for v in sorted(by_version)]

    def shadow_agreement(self) -> list[ShadowAgreement]:
        """How often each shadow version chose the label the answering version chose."""
        agree = case((PredictionRow.label == PredictionRow.shadow_label, 1), else_=0)
        query = (
            select(PredictionRow.model_version, PredictionRow.shadow_version, func.count(), func.sum(agree))
            .where(PredictionRow.shadow_version.is_not(None), PredictionRow.shadow_label.is_not(None))
            .group_by(PredictionRow.model_version, PredictionRow.shadow_version)
            .order_by(PredictionRow.model_version, PredictionRow.shadow_version)
        )
        with self.session() as session:
            rows = session.execute(query).tuples().all()
        return [ShadowAgreement(int(v), int(s), int(n), int(a or 0)) for v, s, n, a in rows]

    def counts(self) -> dict[str, int]:
        with self.session() as session:
            return {
                "predictions": session.scalar(select(func.count()).select_from(PredictionRow)) or 0,
                "feedback": session.scalar(select(func.count()).select_from(FeedbackRow)) or 0,
            }

    # -- routing (shared by every replica) ---------------------------------------------------
    def routing(self, model_name: str, default_share: float = 0.0) -> RoutingState:
        with self.session() as session:
            return routing_state.read(session, model_name, default_share)

    def change_routing(
        self,
        model_name: str,
        changes: dict[str, Any],
        client: str,
        action: str = "update",
        default_share: float = 0.0,
        newest: Optional[int] = None,
    ) -> RoutingState:
        """Apply and audit a routing change; returns the new state (revision + 1). `newest`: the
        version an unpinned production serves now, for the audit."""
        with self.write_session() as session, session.begin():
            return routing_state.change(session, model_name, changes, client, action, default_share, newest)

    def routing_history(self, model_name: str, limit: int = 50, before_id: Optional[int] = None) -> list[RoutingChange]:
        with self.session() as session:
            return routing_state.history(session, model_name, limit, before_id)


def prediction_rows(
    model_name: str,
    version: int,
    route: str,
    texts: list[str],
    labels: list[str],
    scores: list[dict[str, float]],
    shadow_version: Optional[int] = None,
    shadow_labels: Optional[list[str]] = None,
    authenticated: bool = False,
) -> tuple[list[str], list[dict[str, Any]]]:
    """New prediction rows (ids drawn here), for `log_predictions` or a caller's own transaction."""
    ids = new_ids(len(texts))
    now = utcnow()
    rows = [
        {
            "id": ids[i],
            "created_at": now,
            "model_name": model_name,
            "model_version": version,
            "route": route,
            "text": text,
            "label": labels[i],  # text_sha256 (and dropping the text) in _insert
            "scores": scores[i],
            "shadow_version": shadow_version,
            "shadow_label": shadow_labels[i] if shadow_labels else None,
            "authenticated": authenticated,
        }
        for i, text in enumerate(texts)
    ]
    return ids, rows
