"""Contracts in the console: classify an uploaded or pasted document provision by provision,
confirm or correct each label, export the reviewed document as CSV or JSON."""

from __future__ import annotations

import csv
import io
import re
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from documents import Interrupted
from feedback import is_unavailable, review
from feedback.store import prediction_rows
from serving.corrections import record_feedback
from serving.deps import ApiKey, AuthenticatedDep, MetricsDep, ServiceDep, StoreDep, TextListing
from serving.errors import ApiError, json_response
from serving.service import ClassificationService, Classified
from serving.ui.guard import UPLOAD_TYPES, console_write
from serving.ui.intake import client_gone, readers
from serving.ui.templating import render

router = APIRouter(tags=["console"])
DocumentId = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]+$")]
_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,200}$")
# Reviewed documents quote stored texts: read under the feedback listing's policy (the API key).
READ_TEXTS = [ApiKey, TextListing]
EXPORT_FIELDS = [
    "index",
    "heading",
    "text",
    "predicted_label",
    "confidence",
    "label",
    "status",
    "prediction_id",
    "model_version",
]
# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...), @SUM(...)).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in UPLOAD_TYPES},
    }
}


class Decision(BaseModel):
    prediction_id: str = Field(max_length=64)
    label: str = Field(min_length=1, max_length=256)


class DecisionOut(BaseModel):
    feedback_id: int
    prediction_id: Optional[str]
    label: str
    status: str


@router.post(
    "/ui/documents",
    dependencies=console_write(*UPLOAD_TYPES),
    response_class=HTMLResponse,
    openapi_extra=_UPLOAD_BODY,
)
async def classify_document(
    request: Request,
    service: ServiceDep,
    store: StoreDep,
    authenticated: AuthenticatedDep,
    name: Annotated[str, Query(max_length=200, description="The file's name (its extension picks the reader).")] = (
        "pasted.txt"
    ),
) -> Response:
    """The raw file (or pasted text) as the body, its file name in `name`; answers the reviewed-document
    fragment. Bad input (empty, too large, unsupported, binary, nothing to split) is a 4xx. The document
    and its predictions are stored in one transaction once every provision is scored: nothing is stored
    for a refused document, a failed store or a client that hung up (the work stops then too)."""
    if not _NAME.match(name):
        raise ApiError(400, "name: a file name (no slashes or control characters), at most 200 characters")
    data = await request.body()
    try:
        provisions = await readers(request).intake(name, data, service, request)
    except Interrupted:
        raise client_gone() from None
    rows: list[dict[str, Any]] = []
    scored: list[Classified] = []
    batch = service.settings.max_batch
    for start in range(0, len(provisions.texts), batch):
        if await request.is_disconnected():
            raise client_gone()
        texts = provisions.texts[start : start + batch]
        result = await service.score_async(texts)
        ids, new_rows = prediction_rows(
            service.settings.model_name,
            result.prediction.version,
            result.route.name,
            texts,
            result.prediction.labels,
            result.scores,
            result.shadow_version,
            result.shadow_labels,
            authenticated,
        )
        rows += new_rows
        scored.append(result.with_ids(ids))
    if await request.is_disconnected():
        raise client_gone()
    document_id = await _save(service, store, name, provisions.headings, rows)
    for classified in scored:
        service.counted(classified)
    return await _document_page(request, store, service.known_labels(), document_id)


async def _save(
    service: ClassificationService, store: Any, name: str, headings: list[str], rows: list[dict[str, Any]]
) -> str:
    try:
        return await run_in_threadpool(review.save_document, store, name, headings, rows)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        raise service.store_unavailable(exc) from None


@router.get("/ui/documents/{document_id}", response_class=HTMLResponse)
async def document(request: Request, document_id: DocumentId) -> Response:
    """The page of a reviewed document; its script loads the provisions with the API key (they are stored texts)."""
    return render(request, "document_page.html.j2", page="review", document_id=document_id)


@router.get("/ui/documents/{document_id}/view", dependencies=READ_TEXTS, response_class=HTMLResponse)
async def document_view(request: Request, document_id: DocumentId, service: ServiceDep, store: StoreDep) -> Response:
    """The reviewed-document fragment: every provision with its predicted and reviewed label."""
    return await _document_page(request, store, service.known_labels(), document_id)


async def _document_page(request: Request, store: Any, labels: set[str], document_id: str) -> Response:
    name, provisions = await _load(store, document_id)
    rows = [_row(i, p) for i, p in enumerate(provisions)]
    reviewed = sum(1 for r in rows if r["status"] != "unreviewed")
    return render(
        request,
        "document.html.j2",
        page="review",
        document_id=document_id,
        name=name,
        rows=rows,
        labels=sorted(labels),
        reviewed=reviewed,
    )


@router.post("/ui/feedback", dependencies=console_write("application/json"), response_model=DecisionOut)
async def decide(body: Decision, service: ServiceDep, store: StoreDep, metrics: MetricsDep) -> Response:
    """Confirm (the predicted label) or correct a provision: stored exactly as POST /v1/feedback stores it."""
    row = await record_feedback(service, store, metrics, body.label, body.prediction_id)
    status = "confirmed" if row.label == row.predicted_label else "corrected"
    return json_response(
        {"feedback_id": row.id, "prediction_id": row.prediction_id, "label": row.label, "status": status}
    )


@router.get("/ui/documents/{document_id}/export.{fmt}", dependencies=READ_TEXTS)
async def export(document_id: DocumentId, fmt: str, store: StoreDep) -> Response:
    """The reviewed document as CSV or JSON: every provision with its predicted and its reviewed label."""
    if fmt not in ("csv", "json"):
        raise ApiError(404, f"no export format '{fmt[:20]}' (use csv or json)")
    name, provisions = await _load(store, document_id)
    rows = [_row(i, p) for i, p in enumerate(provisions)]
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", name.rsplit(".", 1)[0]) + f".reviewed.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "json":
        return json_response({"document": name, "document_id": document_id, "provisions": rows}, headers=headers)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows({k: csv_cell(r[k]) for k in EXPORT_FIELDS} for r in rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made plain text (OWASP's leading `'`)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


async def _load(store: Any, document_id: str) -> tuple[str, list[review.ReviewedProvision]]:
    found = await run_in_threadpool(review.load_document, store, document_id)
    if found is None:
        raise ApiError(404, f"no reviewed document with id '{document_id}'")
    return found


def _row(index: int, provision: review.ReviewedProvision) -> dict[str, Any]:
    prediction, correction = provision.prediction, provision.correction
    predicted = prediction.label if prediction else None
    confidence: Optional[float] = max(prediction.scores.values()) if prediction and prediction.scores else None
    label = correction.label if correction else None
    status = "unreviewed" if correction is None else "confirmed" if label == predicted else "corrected"
    return {
        "index": index + 1,
        "heading": provision.heading,
        "text": prediction.text if prediction else None,
        "predicted_label": predicted,
        "confidence": round(confidence, 4) if confidence is not None else None,
        "label": label,
        "status": status,
        "prediction_id": prediction.id if prediction else None,
        "model_version": prediction.model_version if prediction else None,
    }
