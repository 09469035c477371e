"""The review queue: the most informative unreviewed prediction first (feedback/review.py says how
it is scored), claimed in the database for one reviewer until the claim expires, answered or
skipped by keyboard on the page."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from feedback import review
from serving.corrections import record_feedback
from serving.deps import MetricsDep, ServiceDep, SettingsDep, StoreDep, TextListing
from serving.errors import ApiError, json_response
from serving.ui.guard import console_write
from serving.ui.templating import render, reviewer

# Claims are writes and records quote stored texts: the write rule, and the feedback listing's policy.
router = APIRouter(tags=["console"], dependencies=[TextListing])
CLAIM_TTL = timedelta(minutes=10)
PredictionId = Annotated[str, Path(max_length=64, pattern=r"^[0-9A-Za-z-]+$")]
Reviewer = Annotated[str, Depends(reviewer)]


class Answer(BaseModel):
    label: str = Field(min_length=1, max_length=256)


class Answered(BaseModel):
    feedback_id: int
    prediction_id: str
    label: str


class Skipped(BaseModel):
    prediction_id: str
    skipped: bool


@router.post("/ui/queue/next", dependencies=console_write(), response_class=HTMLResponse)
async def next_item(
    request: Request, who: Reviewer, service: ServiceDep, store: StoreDep, settings: SettingsDep
) -> Response:
    """Claim (or keep) the next record for this reviewer and answer its fragment; claims are writes,
    so the queue needs the API key even to look."""
    only_keyed = settings.review_queue_traffic == "authenticated"
    item = await run_in_threadpool(review.claim_next, store, who, CLAIM_TTL, only_keyed)
    done = await run_in_threadpool(review.progress, store, only_keyed)
    return render(request, "queue_item.html.j2", item=item, progress=done, labels=sorted(service.known_labels()))


@router.post(
    "/ui/queue/{prediction_id}/answer", dependencies=console_write("application/json"), response_model=Answered
)
async def answer(
    prediction_id: PredictionId, body: Answer, who: Reviewer, service: ServiceDep, store: StoreDep, metrics: MetricsDep
) -> Response:
    """Store the reviewer's label as feedback on the prediction (as POST /v1/feedback does) and release the claim."""
    try:
        await run_in_threadpool(review.check_claim, store, prediction_id, who)
    except review.ClaimLost as exc:
        raise ApiError(409, str(exc)) from None
    row = await record_feedback(service, store, metrics, body.label, prediction_id)
    await run_in_threadpool(review.release, store, prediction_id, who)
    return json_response({"feedback_id": row.id, "prediction_id": prediction_id, "label": row.label})


@router.post("/ui/queue/{prediction_id}/skip", dependencies=console_write(), response_model=Skipped)
async def skip(prediction_id: PredictionId, who: Reviewer, store: StoreDep) -> Response:
    """Not this one: released for the other reviewers, not shown to this one again (404 for an
    unknown record, 409 while another reviewer holds it)."""
    try:
        await run_in_threadpool(review.skip, store, prediction_id, who)
    except review.ClaimLost as exc:
        raise ApiError(409, str(exc)) from None
    return json_response({"prediction_id": prediction_id, "skipped": True})
