"""Feedback: corrections of predictions (or labelled texts), their listing and history, and their
export as a span (exactly once, whichever replica and however many callers at a time)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from feedback import export_feedback
from feedback.tables import FeedbackRow
from serving.api.schemas import CorrectionHistory, ExportOut, FeedbackItem, FeedbackList, FeedbackRequest
from serving.corrections import record_feedback
from serving.deps import ApiKey, MetricsDep, ServiceDep, SettingsDep, StoreDep, TextListing, WriteAccess
from serving.errors import ApiError

router = APIRouter(tags=["feedback"])
PredictionId = Annotated[str, Path(max_length=64, pattern=r"^[0-9A-Za-z-]+$")]


@router.post("/v1/feedback", status_code=201, response_model=FeedbackItem, dependencies=[WriteAccess])
async def add_feedback(
    body: FeedbackRequest, service: ServiceDep, store: StoreDep, metrics: MetricsDep
) -> FeedbackItem:
    """The correct label for a prediction id (or for a text that was never classified). A later
    correction of the same prediction replaces this one in live accuracy and exports."""
    return feedback_item(await record_feedback(service, store, metrics, body.label, body.prediction_id, body.text))


@router.get("/v1/feedback", response_model=FeedbackList, dependencies=[ApiKey, TextListing])
async def list_feedback(
    store: StoreDep,
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> FeedbackList:
    """Every correction, superseded ones included, by id."""
    rows = await run_in_threadpool(store.list_feedback, after_id, limit)
    return FeedbackList(
        items=[feedback_item(r) for r in rows], next_after_id=rows[-1].id if len(rows) == limit else None
    )


@router.get(
    "/v1/predictions/{prediction_id}/feedback", response_model=CorrectionHistory, dependencies=[ApiKey, TextListing]
)
async def corrections(prediction_id: PredictionId, store: StoreDep) -> CorrectionHistory:
    """Every correction of one prediction, oldest first, and the one that counts."""
    rows = await run_in_threadpool(store.corrections, prediction_id)
    if not rows and await run_in_threadpool(store.get_prediction, prediction_id) is None:
        raise ApiError(404, f"no prediction with id '{prediction_id}'")
    current = next((r for r in rows if r.superseded_by is None), None)
    return CorrectionHistory(
        prediction_id=prediction_id,
        current=feedback_item(current) if current is not None else None,
        history=[feedback_item(r) for r in rows],
    )


@router.post(
    "/v1/feedback/export",
    response_model=ExportOut,
    dependencies=[WriteAccess],
    responses={409: {"description": "export in progress"}},
)
async def export(
    store: StoreDep,
    settings: SettingsDep,
    min_rows: Annotated[int, Query(ge=1, description="Export only when this many new rows exist.")] = 1,
) -> ExportOut:
    """Write the feedback no export has claimed yet as the next span of LEXFLOW_EXPORT_DATA_ROOT.

    Exactly once across replicas: concurrent calls wait for each other (up to
    LEXFLOW_EXPORT_WAIT_SECONDS, then 409) and never write a row or a span twice."""
    result = await run_in_threadpool(
        export_feedback, store, settings.export_data_root, min_rows, settings.export_wait_seconds
    )
    return ExportOut(
        span=result.span,
        rows=result.rows,
        path=str(result.path) if result.path else None,
        first_feedback_id=result.first_feedback_id,
        last_feedback_id=result.last_feedback_id,
        claimed=result.claimed,
    )


def feedback_item(row: FeedbackRow) -> FeedbackItem:
    return FeedbackItem(
        id=row.id,
        prediction_id=row.prediction_id,
        text=row.text,
        label=row.label,
        predicted_label=row.predicted_label,
        model_version=row.model_version,
        created_at=row.created_at.isoformat(),
        superseded_by=row.superseded_by,
        exported=row.export_id is not None,
    )
