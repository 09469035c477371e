"""Recording a correction (feedback): the service-layer operation the API (`POST /v1/feedback`) and
the console (review queue, document review) share, so both check and count it the same way.

It raises domain errors only (UnknownLabel and the store's InvalidFeedback/UnknownPrediction,
InvalidInput for a bad text); serving/errors.py maps them to HTTP answers.
"""

from __future__ import annotations

from typing import Optional

from starlette.concurrency import run_in_threadpool

from feedback import FeedbackStore, InvalidFeedback
from feedback.tables import FeedbackRow
from serving.observability.metrics import GatewayMetrics
from serving.service import ClassificationService


class UnknownLabel(InvalidFeedback):
    """The label is not one the served model knows (answered 422 with the known labels)."""


async def record_feedback(
    service: ClassificationService,
    store: FeedbackStore,
    metrics: GatewayMetrics,
    label: str,
    prediction_id: Optional[str] = None,
    text: Optional[str] = None,
) -> FeedbackRow:
    """Check and store one correction, and count it."""
    known = service.known_labels()
    if label not in known:
        raise UnknownLabel(f"label: unknown label '{label}' (known: {', '.join(sorted(known))})")
    if text is not None:
        service.check_texts([text])
    row = await run_in_threadpool(store.add_feedback, label, prediction_id, text)
    if row.model_version is not None:
        metrics.feedback.labels(str(row.model_version), str(row.label == row.predicted_label).lower()).inc()
    return row
