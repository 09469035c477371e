"""The models page: every version with its routing label, live accuracy over time and feedback
volume (SVG charts drawn server-side, serving/ui/charts.py), shadow agreement, drift of recent
traffic (the newest `lexflow drift --live` verdict) and lineage.

Lineage comes from files, not MLMD (the gateway may not import the pipeline's metadata code): the
Pusher's record inside each version (`assets.extra/lexflow_push.json`: fingerprint, model
artifact, push time) when the model directory is readable here, and the lineage record
`lexflow run` writes to the reports directory (core/reports.py: spans, evaluation, blessing).

A view scans no table: predictions and live accuracy per version and shadow agreement come from
the store snapshot the metrics collector keeps (recomputed at most every
LEXFLOW_METRICS_CACHE_SECONDS, whatever the views and scrapes), and accuracy per day reads the
feedback of the last `ACCURACY_DAYS` days through its `created_at` index."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from core.model_dir import PUSH_RECORD
from core.reports import read_lineage, read_verdict
from feedback import FeedbackStore, review
from serving.deps import GatewayDep
from serving.observability.collector import StoreSnapshot
from serving.settings import ServingSettings
from serving.ui.charts import HEIGHT, WIDTH, Series
from serving.ui.templating import render

router = APIRouter(tags=["console"])
ACCURACY_DAYS = 30


@dataclass
class VersionView:
    version: int
    labels: list[str]
    loaded: bool
    predictions: int = 0
    feedback: int = 0
    live_accuracy: Optional[float] = None
    series: Series = field(default_factory=lambda: Series(0))
    agreement: list[Any] = field(default_factory=list)  # ShadowAgreement rows where this version answered
    push: Optional[dict[str, Any]] = None
    lineage: Optional[dict[str, Any]] = None


@router.get("/ui/models", response_class=HTMLResponse)
async def models(request: Request, gateway: GatewayDep) -> Response:
    """Every version: routing label, live accuracy per day, feedback volume, shadow agreement, lineage."""
    settings, loaded = gateway.settings, gateway.backend.versions()
    snapshot = await run_in_threadpool(gateway.collector.snapshot)
    labels = _labels(gateway.selector.table, loaded)
    views = await run_in_threadpool(_views, gateway.store, settings, snapshot, loaded, labels)
    verdict = await run_in_threadpool(read_verdict, settings.reports_dir)
    return render(
        request,
        "models.html.j2",
        page="models",
        versions=views,
        verdict=verdict,
        width=WIDTH,
        height=HEIGHT,
        days=ACCURACY_DAYS,
    )


def _labels(table: Any, loaded: list[int]) -> dict[int, list[str]]:
    production = table.production if table.production is not None else (max(loaded) if loaded else None)
    labels: dict[int, list[str]] = {}
    for name, version in (("production", production), ("staging", table.staging), ("shadow", table.shadow)):
        if version is not None:
            labels.setdefault(int(version), []).append(name)
    return labels


def _views(
    store: FeedbackStore,
    settings: ServingSettings,
    snapshot: StoreSnapshot,
    loaded: list[int],
    labels: dict[int, list[str]],
) -> list[VersionView]:
    health = {h.version: h for h in snapshot.health}
    versions = sorted(set(loaded) | set(health) | set(labels), reverse=True)
    views = {v: VersionView(v, labels.get(v, []), v in loaded, series=Series(v)) for v in versions}
    for v, h in health.items():
        views[v].predictions, views[v].feedback, views[v].live_accuracy = h.predictions, h.feedback, h.live_accuracy
    for point in review.accuracy_by_day(store, days=ACCURACY_DAYS):
        if point.version not in views:
            continue  # feedback newer than the snapshot, on a version it does not know yet
        series = views[point.version].series
        series.days.append(point.day)
        series.volume.append(point.feedback)
        series.accuracy.append(point.correct / point.feedback)
    for agreement in snapshot.shadow:
        if agreement.version in views:
            views[agreement.version].agreement.append(agreement)
    for view in views.values():
        view.push = _push_record(settings.model_base_dir / settings.model_name / str(view.version))
        view.lineage = read_lineage(settings.reports_dir, view.version)
    return list(views.values())


def _push_record(directory: Path) -> Optional[dict[str, Any]]:
    try:
        data = json.loads((directory / PUSH_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
