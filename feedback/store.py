"""Reads and writes of the feedback store. Each write commits before it returns."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, Optional

import orjson
from sqlalchemy import Integer, create_engine, event, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

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
    feedback: int
    correct: int

    @property
    def live_accuracy(self) -> Optional[float]:
        return self.correct / self.feedback if self.feedback else None


def _json_serializer(value: Any) -> str:
    # The JSON columns (prediction scores) are encoded once per logged row: orjson, not json.
    return orjson.dumps(value).decode()


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, json_serializer=_json_serializer)

        @event.listens_for(engine, "connect")
        def _sqlite_durability(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets readers run during writes; synchronous=FULL fsyncs every commit, so an
            # acknowledged write survives a crash (kill -9, power loss).
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=_json_serializer)


class FeedbackStore:
    def __init__(self, url: str, store_text: bool = True):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            from pathlib import Path

            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        self.engine = _engine(url)
        self.store_text = store_text
        from feedback.migrate import upgrade

        upgrade(self.engine)  # Alembic, so PostgreSQL stores in production evolve with the code
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        from feedback.group_commit import GroupCommitter

        self._insert_prediction = insert(PredictionRow)
        self._committer = GroupCommitter(self._insert)

    def _insert(self, rows: list[dict]) -> None:
        # Hashed here, on the group-commit thread, not on the event loop (texts may be 100k chars each).
        for row in rows:
            if "text_sha256" not in row:
                row["text_sha256"] = text_hash(row["text"])
                if not self.store_text:
                    row["text"] = None
        # Core executemany, not ORM objects: the unit of work cost more than the rest of a request.
        with self.engine.begin() as connection:
            connection.execute(self._insert_prediction, rows)

    def session(self) -> Session:
        return self._session()

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
    ) -> list[str]:
        """Stores one row per text and returns their ids once committed (durable)."""
        ids, rows = self._prediction_rows(
            model_name, version, route, texts, labels, scores, shadow_version, shadow_labels
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
    ) -> list[str]:
        """`log_predictions` for the event loop: awaits the (group) commit without holding a thread."""
        ids, rows = self._prediction_rows(
            model_name, version, route, texts, labels, scores, shadow_version, shadow_labels
        )
        await self._committer.submit_async(rows)
        return ids

    def _prediction_rows(
        self,
        model_name: str,
        version: int,
        route: str,
        texts: list[str],
        labels: list[str],
        scores: list[dict[str, float]],
        shadow_version: Optional[int],
        shadow_labels: Optional[list[str]],
    ) -> tuple[list[str], list[dict[str, Any]]]:
        ids = [str(uuid.uuid4()) for _ in texts]
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
            }
            for i, text in enumerate(texts)
        ]
        return ids, rows

    def get_prediction(self, prediction_id: str) -> Optional[PredictionRow]:
        with self.session() as session:
            return session.get(PredictionRow, prediction_id)

    def add_feedback(self, label: str, prediction_id: Optional[str] = None, text: Optional[str] = None) -> FeedbackRow:
        with self.session() as session, session.begin():
            prediction = None
            if prediction_id is not None:
                prediction = session.get(PredictionRow, prediction_id)
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
        return row

    def list_feedback(self, after_id: int = 0, limit: int = 100) -> list[FeedbackRow]:
        with self.session() as session:
            query = select(FeedbackRow).where(FeedbackRow.id > after_id).order_by(FeedbackRow.id).limit(limit)
            return list(session.scalars(query))

    def health(self) -> list[VersionHealth]:
        with self.session() as session:
            counted = select(PredictionRow.model_version, func.count()).group_by(PredictionRow.model_version)
            predictions: dict[int, int] = dict(session.execute(counted).tuples().all())
            feedback = session.execute(
                select(
                    FeedbackRow.model_version,
                    func.count(),
                    func.sum((FeedbackRow.label == FeedbackRow.predicted_label).cast(Integer)),
                )
                .where(FeedbackRow.model_version.is_not(None))
                .group_by(FeedbackRow.model_version)
            ).all()
        by_version = {v: [n, 0, 0] for v, n in predictions.items()}
        for version, count, correct in feedback:
            by_version.setdefault(version, [0, 0, 0])[1:] = [count, int(correct or 0)]
        return [VersionHealth(v, *by_version[v]) for v in sorted(by_version)]

    def counts(self) -> dict[str, int]:
        with self.session() as session:
            return {
                "predictions": session.scalar(select(func.count()).select_from(PredictionRow)) or 0,
                "feedback": session.scalar(select(func.count()).select_from(FeedbackRow)) or 0,
            }
