"""The review console's queries: which prediction a reviewer sees next (claimed in the database,
so no two reviewers see one record at once), the queue's progress, reviewed documents, and live
accuracy over time.

Informativeness (how much a human answer would teach the model), highest first:

    score = [(1 - margin) + disagreement + (1 - class accuracy) / 2] / (1 + reviewed)

- margin: top-1 minus top-2 score of the prediction (0 = a coin toss, 1 = certain);
- disagreement: 1 when the shadow version chose another label than the answering one, else 0;
- class accuracy: live accuracy of the predicted class (latest corrections of predictions that
  chose it); a class without feedback counts as 0.5 (unknown);
- reviewed: predictions of the same model version and predicted label already answered. The n-th
  answer about one version's label teaches 1/(1 + n) as much: what a version confuses in a label is
  mostly learnt from its first few corrections, and the retraining that follows makes a new version.

Why the discount (measured with `python -m benchmarks.active_learning`, BENCHMARKS.md "What a
correction is worth": cuad_clauses, a 200-row seed, 8 rounds of 100 corrections, each followed by a
retraining, 4 seeds; area under the test macro-F1 curve): without it the class term ran the queue
into a loop. The top of the queue is a crowd of near coin tosses (the 100 most uncertain rows'
margins lie within 0.02), so any class term re-orders them by class; the first wrong answers drop
their class's live accuracy, which lifts every other prediction of that class, mostly wrong too
(uncertain rows are), and so on: 31-71 % of a batch went to one predicted label, 2-11 labels per
batch (the margin term alone: 22-33). That queue scored 0.535 ± 0.018, barely above random (0.526 ±
0.012, ahead on 3 of 4 seeds) and below its own margin term alone (0.555 ± 0.009). With the
discount a batch spans 28-37 labels (at most 4 % on one) and the queue scores 0.556 ± 0.004,
+0.030 ± 0.012 over random and ahead on every seed (after 800 corrections: 0.648 vs. 0.597
macro-F1), level with the margin term alone; the class term still puts a weak class first among
equals.

Only the newest `CANDIDATE_WINDOW` unreviewed predictions are scored per request: the score
needs the JSON scores, so it is computed here rather than in SQL, and recent traffic is what
a retraining most needs anyway. Anyone may classify, so anonymous traffic could fill that window
with texts made to look informative: `authenticated_only` keeps the queue to predictions made
with the API key (the gateway's LEXFLOW_REVIEW_QUEUE_TRAFFIC).

A reviewed document is stored in one transaction with its predictions (`save_document`): all of
it or nothing, so a failed upload leaves no orphan predictions in the queue.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import Integer, delete, exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from feedback.store import FeedbackStore, UnknownPrediction
from feedback.tables import FeedbackRow, PredictionRow, ReviewClaimRow, ReviewDocumentRow, utcnow

CANDIDATE_WINDOW = 500
UNKNOWN_ACCURACY = 0.5


class ClaimLost(RuntimeError):
    """Another reviewer holds this prediction now (this reviewer's claim expired and was taken)."""


@dataclass(frozen=True)
class QueueItem:
    prediction: PredictionRow
    score: float
    margin: float
    class_accuracy: Optional[float]
    expires_at: datetime
    reviewed: int = 0  # answered predictions of the same version and label (the score's discount)


@dataclass(frozen=True)
class Progress:
    reviewed: int  # predictions with at least one correction
    total: int  # predictions whose text was kept (the ones a reviewer can see)

    @property
    def remaining(self) -> int:
        return max(self.total - self.reviewed, 0)


@dataclass(frozen=True)
class ReviewedProvision:
    heading: str
    prediction: Optional[PredictionRow]
    correction: Optional[FeedbackRow]  # the latest one: the label that counts


@dataclass(frozen=True)
class AccuracyPoint:
    version: int
    day: str  # YYYY-MM-DD (UTC)
    feedback: int
    correct: int


def margin(scores: dict[str, float]) -> float:
    top = sorted(scores.values(), reverse=True)[:2]
    return float(top[0] - (top[1] if len(top) > 1 else 0.0)) if top else 0.0


def informativeness(
    scores: dict[str, float],
    label: str,
    shadow_label: Optional[str],
    class_accuracy: dict[str, float],
    reviewed: int = 0,
) -> float:
    """See the module docstring; `reviewed`: answered predictions of this prediction's version and label."""
    disagreement = 1.0 if shadow_label is not None and shadow_label != label else 0.0
    accuracy = class_accuracy.get(label, UNKNOWN_ACCURACY)
    return ((1.0 - margin(scores)) + disagreement + (1.0 - accuracy) / 2) / (1 + max(reviewed, 0))


def class_accuracy(store: FeedbackStore) -> dict[str, float]:
    """Live accuracy per predicted class, over the latest correction of each prediction."""
    correct = (FeedbackRow.label == FeedbackRow.predicted_label).cast(Integer)
    query = (
        select(FeedbackRow.predicted_label, func.count(), func.sum(correct))
        .where(FeedbackRow.predicted_label.is_not(None), FeedbackRow.superseded_by.is_(None))
        .group_by(FeedbackRow.predicted_label)
    )
    with store.session() as session:
        return {str(label): int(right or 0) / n for label, n, right in session.execute(query).tuples() if n}


def reviewed_per_label(store: FeedbackStore) -> dict[tuple[int, str], int]:
    """Answered predictions per (model version, predicted label): the score's diminishing returns."""
    query = (
        select(FeedbackRow.model_version, FeedbackRow.predicted_label, func.count())
        .where(
            FeedbackRow.model_version.is_not(None),
            FeedbackRow.predicted_label.is_not(None),
            FeedbackRow.superseded_by.is_(None),
        )
        .group_by(FeedbackRow.model_version, FeedbackRow.predicted_label)
    )
    with store.session() as session:
        rows = session.execute(query).tuples()
        return {(int(v), str(label)): int(n) for v, label, n in rows if v is not None}


def _reviewed(prediction_id: Any) -> Any:
    return exists().where(FeedbackRow.prediction_id == prediction_id)


def _queued(authenticated_only: bool) -> Any:
    """The predictions the queue offers: their text was kept (and, if asked, the caller had the key)."""
    kept = PredictionRow.text.is_not(None)
    return kept & PredictionRow.authenticated.is_(True) if authenticated_only else kept


def progress(store: FeedbackStore, authenticated_only: bool = False) -> Progress:
    kept = _queued(authenticated_only)
    with store.session() as session:
        total = session.scalar(select(func.count()).select_from(PredictionRow).where(kept)) or 0
        reviewed = session.scalar(select(func.count()).where(kept, _reviewed(PredictionRow.id))) or 0
    return Progress(int(reviewed), int(total))


def claim_next(
    store: FeedbackStore, reviewer: str, ttl: timedelta, authenticated_only: bool = False
) -> Optional[QueueItem]:
    """The most informative unreviewed prediction nobody else holds, claimed for `reviewer` until
    now + ttl; the one this reviewer already holds, if any; None when the queue is empty."""
    accuracy = class_accuracy(store)
    reviewed = reviewed_per_label(store)
    held = _held(store, reviewer)
    if held is not None:
        return _item(held, accuracy, reviewed, _extend(store, held.id, reviewer, ttl))
    ranked = sorted(
        _candidates(store, reviewer, authenticated_only),
        key=lambda p: _score(p, accuracy, reviewed),
        reverse=True,
    )
    for prediction in ranked:
        expires = _try_claim(store, prediction.id, reviewer, ttl)
        if expires is not None:
            return _item(prediction, accuracy, reviewed, expires)
    return None


def _score(prediction: PredictionRow, accuracy: dict[str, float], reviewed: dict[tuple[int, str], int]) -> float:
    answered = reviewed.get((prediction.model_version, prediction.label), 0)
    return informativeness(prediction.scores, prediction.label, prediction.shadow_label, accuracy, answered)


def _item(
    prediction: PredictionRow,
    accuracy: dict[str, float],
    reviewed: dict[tuple[int, str], int],
    expires_at: datetime,
) -> QueueItem:
    return QueueItem(
        prediction,
        _score(prediction, accuracy, reviewed),
        margin(prediction.scores),
        accuracy.get(prediction.label),
        expires_at,
        reviewed.get((prediction.model_version, prediction.label), 0),
    )


def _held(store: FeedbackStore, reviewer: str) -> Optional[PredictionRow]:
    query = (
        select(PredictionRow)
        .join(ReviewClaimRow, ReviewClaimRow.prediction_id == PredictionRow.id)
        .where(
            ReviewClaimRow.reviewer == reviewer,
            ReviewClaimRow.skipped.is_(False),
            ReviewClaimRow.expires_at > utcnow(),
            ~_reviewed(PredictionRow.id),
        )
        .limit(1)
    )
    with store.session() as session:
        return session.scalars(query).first()


def _candidates(store: FeedbackStore, reviewer: str, authenticated_only: bool) -> list[PredictionRow]:
    now = utcnow()
    claimed = exists().where(
        ReviewClaimRow.prediction_id == PredictionRow.id,
        (ReviewClaimRow.expires_at > now) | ((ReviewClaimRow.reviewer == reviewer) & ReviewClaimRow.skipped),
    )
    query = (
        select(PredictionRow)
        .where(_queued(authenticated_only), ~_reviewed(PredictionRow.id), ~claimed)
        .order_by(PredictionRow.created_at.desc())
        .limit(CANDIDATE_WINDOW)
    )
    with store.session() as session:
        return list(session.scalars(query))


def _try_claim(store: FeedbackStore, prediction_id: str, reviewer: str, ttl: timedelta) -> Optional[datetime]:
    """Insert the claim (an expired one is replaced); None when someone else holds it or it was reviewed."""
    now = utcnow()
    try:
        with store.write_session() as session, session.begin():
            session.execute(
                delete(ReviewClaimRow).where(
                    ReviewClaimRow.prediction_id == prediction_id, ReviewClaimRow.expires_at <= now
                )
            )
            session.add(ReviewClaimRow(prediction_id=prediction_id, reviewer=reviewer, expires_at=now + ttl))
            session.flush()
            # Checked only now that the claim's row is ours: a reviewer who answered it and dropped
            # their claim a moment ago committed the answer first (PostgreSQL's READ COMMITTED sees it).
            if session.scalar(select(_reviewed(prediction_id))):
                raise _AlreadyReviewed
    except (IntegrityError, _AlreadyReviewed):  # a live claim exists (maybe inserted a moment ago elsewhere)
        return None
    return now + ttl


class _AlreadyReviewed(Exception):
    """Rolls a claim back."""


def _extend(store: FeedbackStore, prediction_id: str, reviewer: str, ttl: timedelta) -> datetime:
    expires = utcnow() + ttl
    with store.write_session() as session, session.begin():
        claim = session.get(ReviewClaimRow, prediction_id, with_for_update=True)
        if claim is not None and claim.reviewer == reviewer:
            claim.expires_at = expires
    return expires


def check_claim(store: FeedbackStore, prediction_id: str, reviewer: str) -> None:
    """Raises ClaimLost when another reviewer holds a live claim on the prediction."""
    with store.session() as session:
        claim = session.get(ReviewClaimRow, prediction_id)
    if claim is not None and claim.reviewer != reviewer and _aware(claim.expires_at) > utcnow():
        raise ClaimLost("another reviewer holds this record now (your claim expired); take the next one")


def release(store: FeedbackStore, prediction_id: str, reviewer: str) -> None:
    """Drop this reviewer's claim (the record was answered)."""
    with store.write_session() as session, session.begin():
        claim = session.get(ReviewClaimRow, prediction_id, with_for_update=True)
        if claim is not None and claim.reviewer == reviewer:
            session.delete(claim)


def skip(store: FeedbackStore, prediction_id: str, reviewer: str) -> None:
    """Not this one: released for the other reviewers, never shown to this reviewer again.
    UnknownPrediction for an id the store does not have; ClaimLost while another reviewer holds it."""
    now = utcnow()
    with store.write_session() as session, session.begin():
        if session.get(PredictionRow, prediction_id) is None:
            raise UnknownPrediction(f"no prediction with id '{prediction_id}'")
        claim = session.get(ReviewClaimRow, prediction_id, with_for_update=True)
        if claim is None:
            session.add(ReviewClaimRow(prediction_id=prediction_id, reviewer=reviewer, expires_at=now, skipped=True))
        elif claim.reviewer == reviewer or _aware(claim.expires_at) <= now:
            claim.reviewer, claim.skipped, claim.expires_at = reviewer, True, now
        else:
            raise ClaimLost("another reviewer holds this record now")


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes (stored as UTC).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


# -- documents ----------------------------------------------------------------------------------
def save_document(store: FeedbackStore, name: str, headings: list[str], predictions: list[dict[str, Any]]) -> str:
    """Store a classified document and its predictions (rows of `feedback.store.prediction_rows`, in
    document order, one per heading) in one transaction: all of it or nothing. Returns its id."""
    document_id = str(uuid.uuid4())
    provisions = [{"prediction_id": row["id"], "heading": h} for row, h in zip(predictions, headings, strict=True)]
    # The predictions know their document too, so a feedback export keeps a document's rows together.
    rows = [{**row, "document_id": document_id} for row in store.finished(predictions)]
    with store.write_session() as session, session.begin():
        session.execute(insert(PredictionRow), rows)
        session.add(ReviewDocumentRow(id=document_id, name=name[:256], provisions=provisions))
    return document_id


def load_document(store: FeedbackStore, document_id: str) -> Optional[tuple[str, list[ReviewedProvision]]]:
    """The document's name and its provisions with their predictions and latest corrections."""
    with store.session() as session:
        document = session.get(ReviewDocumentRow, document_id)
        if document is None:
            return None
        ids = [p["prediction_id"] for p in document.provisions]
        predictions = {p.id: p for p in session.scalars(select(PredictionRow).where(PredictionRow.id.in_(ids)))}
        latest = session.scalars(
            select(FeedbackRow).where(FeedbackRow.prediction_id.in_(ids), FeedbackRow.superseded_by.is_(None))
        )
        corrections = {f.prediction_id: f for f in latest}
    provisions = [
        ReviewedProvision(
            str(p.get("heading") or ""), predictions.get(p["prediction_id"]), corrections.get(p["prediction_id"])
        )
        for p in document.provisions
    ]
    return document.name, provisions


# -- the models page ----------------------------------------------------------------------------
def accuracy_by_day(store: FeedbackStore, days: Optional[int] = None) -> list[AccuracyPoint]:
    """Feedback volume and live accuracy per version and UTC day (latest correction of each
    prediction); with `days`, only the last that many days (a range of the `created_at` index)."""
    query = (
        select(FeedbackRow.model_version, FeedbackRow.created_at, FeedbackRow.label, FeedbackRow.predicted_label)
        .where(FeedbackRow.model_version.is_not(None), FeedbackRow.superseded_by.is_(None))
        .order_by(FeedbackRow.id)
    )
    if days is not None:
        since = (utcnow() - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        query = query.where(FeedbackRow.created_at >= since)
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    with store.session() as session:
        for version, created, label, predicted in session.execute(query).tuples():
            bucket = counts[(int(version or 0), _aware(created).strftime("%Y-%m-%d"))]
            bucket[0] += 1
            bucket[1] += int(label == predicted)
    return [AccuracyPoint(v, day, n, c) for (v, day), (n, c) in sorted(counts.items())]
