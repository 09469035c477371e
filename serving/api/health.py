"""Health: per-version live accuracy (/v1/health), liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from serving.api.schemas import HealthResponse, VersionHealthOut
from serving.deps import BackendDep, MetricsDep, SettingsDep, StoreDep
from serving.errors import ApiError

router = APIRouter(tags=["health"])


@router.get("/v1/health", response_model=HealthResponse)
async def health(store: StoreDep, backend: BackendDep, metrics: MetricsDep, settings: SettingsDep) -> HealthResponse:
    versions = await run_in_threadpool(store.health)
    counts = await run_in_threadpool(store.counts)
    for v in versions:
        if v.live_accuracy is not None:
            metrics.live_accuracy.labels(str(v.version)).set(v.live_accuracy)
    return HealthResponse(
        model_name=settings.model_name,
        serving_versions=backend.versions(),
        predictions=counts["predictions"],
        feedback=counts["feedback"],
        errors=metrics.error_count(),
        versions=[
            VersionHealthOut(
                version=v.version,
                predictions=v.predictions,
                feedback=v.feedback,
                correct=v.correct,
                live_accuracy=v.live_accuracy,
            )
            for v in versions
        ],
    )


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: a model version is loaded")
async def readyz(backend: BackendDep) -> dict[str, object]:
    if not backend.ready():
        raise ApiError(503, "no model version loaded yet")
    return {"status": "ready", "versions": backend.versions()}


@router.get("/metrics", include_in_schema=False)
async def prometheus(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
