"""Drift reports: GET /v1/reports (list, with the newest live verdict) and /v1/reports/{name}.

The gateway renders nothing: it serves the self-contained HTML files that `lexflow drift` writes
to LEXFLOW_REPORTS_DIR (core/reports.py defines the names), and exports the live verdict as the
gauge `lexflow_drift_detected` (serving/observability/drift_metrics.py, registered for the app's lifetime).
Reports quote live traffic (its most frequent tokens), so they need the API key like feedback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any, Optional

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from core.reports import REPORT_NAME, list_reports, read_verdict, report_path
from serving.deps import ApiKey, SettingsDep
from serving.errors import ApiError
from serving.observability.drift_metrics import DriftCollector

# A report is an image-only page: it may load nothing, run nothing and not be framed.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@asynccontextmanager
async def drift_gauge(app: FastAPI) -> AsyncIterator[None]:
    registry = app.state.metrics.registry
    collector = DriftCollector(app.state.settings.reports_dir)
    registry.register(collector)
    try:
        yield
    finally:
        registry.unregister(collector)


router = APIRouter(tags=["reports"], dependencies=[ApiKey], lifespan=drift_gauge)


class ReportOut(BaseModel):
    name: str
    bytes: int
    modified: float
    url: str


class ReportList(BaseModel):
    reports: list[ReportOut]
    live_drift: Optional[dict[str, Any]] = None  # the newest `lexflow drift --live` verdict


@router.get("/v1/reports", response_model=ReportList)
async def reports(settings: SettingsDep) -> ReportList:
    found = await run_in_threadpool(list_reports, settings.reports_dir)
    verdict = await run_in_threadpool(read_verdict, settings.reports_dir)
    return ReportList(
        reports=[ReportOut(**asdict(r), url=f"/v1/reports/{r.name}") for r in found],
        live_drift=asdict(verdict) if verdict is not None else None,
    )


@router.get("/v1/reports/{name}", response_class=FileResponse)
async def report(name: str, settings: SettingsDep) -> FileResponse:
    if not REPORT_NAME.match(name):
        raise ApiError(400, f"invalid report name '{name}': a file name ending in .html (letters, digits, . _ -)")
    path = await run_in_threadpool(report_path, settings.reports_dir, name)
    if path is None:
        raise ApiError(404, f"no report named '{name}'")
    return FileResponse(path, media_type="text/html; charset=utf-8", headers=_HEADERS)
