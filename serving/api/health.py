"""Health: per-version live accuracy (/v1/health), shadow agreement (/v1/shadow), liveness,
readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from feedback import ShadowAgreement
from serving.api.schemas import HealthResponse, ShadowAgreementOut, ShadowResponse, VersionHealthOut
from serving.deps import BackendDep, GatewayDep, MetricsDep, SelectorDep, SettingsDep, StoreDep
from serving.errors import ApiError

router = APIRouter(tags=["health"])


@router.get("/v1/health", response_model=HealthResponse)
async def health(store: StoreDep, backend: BackendDep, metrics: MetricsDep, settings: SettingsDep) -> HealthResponse:
    """Predictions and live accuracy per version (over the latest correction of each prediction)."""
    versions = await run_in_threadpool(store.health)
    counts = await run_in_threadpool(store.counts)
    shadow = await run_in_threadpool(store.shadow_agreement)
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
        shadow=[shadow_out(pair) for pair in shadow],
    )


@router.get("/v1/shadow", response_model=ShadowResponse)
async def shadow(store: StoreDep, routing: SelectorDep, settings: SettingsDep) -> ShadowResponse:
    """How often each shadow version agreed with the version that answered."""
    pairs = await run_in_threadpool(store.shadow_agreement)
    return ShadowResponse(
        model_name=settings.model_name, shadow_version=routing.table.shadow, pairs=[shadow_out(p) for p in pairs]
    )


def shadow_out(pair: ShadowAgreement) -> ShadowAgreementOut:
    return ShadowAgreementOut(
        version=pair.version,
        shadow_version=pair.shadow_version,
        predictions=pair.predictions,
        agreements=pair.agreements,
        agreement=pair.agreement,
    )


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the store answers and every version routing names is loaded")
async def readyz(gateway: GatewayDep) -> dict[str, object]:
    ready, reason = gateway.readiness()
    if not ready:
        raise ApiError(503, reason)
    return {"status": "ready", "versions": gateway.backend.versions()}


@router.get("/metrics", include_in_schema=False)
async def prometheus(metrics: MetricsDep) -> Response:
    # Off the event loop: the gauges computed at scrape time may read the store.
    body = await run_in_threadpool(generate_latest, metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
