"""The FastAPI gateway: classify, TF Serving-compatible REST, feedback, health, metrics, routing.

Start it with `lexflow serve` or `uvicorn serving.app:app` (settings from LEXFLOW_* environment
variables, see serving/settings.py). OpenAPI docs at /docs. The routes live in `serving/api/`,
one module per resource; what they share is built at start-up (`state.Gateway`) and reached
through `deps.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Optional

from fastapi import FastAPI

from feedback import FeedbackStore
from serving import api, ui
from serving.access.limits import BodySizeLimit
from serving.access.quotas import ClientQuotas
from serving.api.classify import PATH as CLASSIFY_PATH
from serving.api.classify import fast_classify
from serving.api.fast_path import FastPath
from serving.backends import ModelBackend
from serving.errors import install_error_handlers
from serving.observability.metrics import GatewayMetrics, ObserveRequests, fastapi_telemetry
from serving.settings import ServingSettings
from serving.state import Gateway, quiet_access_log


def create_app(
    settings: Optional[ServingSettings] = None,
    backend: Optional[ModelBackend] = None,
    store: Optional[FeedbackStore] = None,
) -> FastAPI:
    """The gateway app. `backend` and `store` are for tests and benchmarks: given ones are borrowed."""
    settings = settings or ServingSettings()
    app = FastAPI(
        title="lexflow gateway",
        version="0.1.0",
        lifespan=lifespan,
        description="Legal-text classification with feedback. TF Serving-compatible routes under /v1/models.",
        telemetry=fastapi_telemetry(),
    )
    app.state.settings = settings
    app.state.metrics = GatewayMetrics()
    app.state.borrowed = (backend, store)
    for router in [*api.routers, *ui.routers]:
        app.include_router(router)
    app.state.classify_route = next(r for r in api.classify.router.routes if getattr(r, "path", None) == CLASSIFY_PATH)
    install_error_handlers(app)
    # Added innermost first: FastPath sits inside the size limit (which bounds what it reads),
    # the quotas (which count before anything is read) and the request metrics and CORS, so
    # they see its requests too.
    app.add_middleware(FastPath, method="POST", path=CLASSIFY_PATH, handler=fast_classify)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.quota_requests_per_minute or settings.quota_bytes_per_minute:
        app.add_middleware(
            ClientQuotas,
            requests_per_minute=settings.quota_requests_per_minute,
            bytes_per_minute=settings.quota_bytes_per_minute,
            api_key=settings.api_key,
            client_ip_header=settings.client_ip_header,
        )
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    app.add_middleware(ObserveRequests, metrics=app.state.metrics)
    return app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    quiet_access_log(app.state.settings)
    backend, store = app.state.borrowed
    app.state.gateway = Gateway.open(app.state.settings, app.state.metrics, backend, store)
    try:
        yield
    finally:
        app.state.gateway.close()


def __getattr__(name: str) -> Any:
    # `uvicorn serving.app:app` builds the app from the environment on first access only, so
    # importing this module (tests, tools) has no side effects.
    if name == "app":
        globals()["app"] = create_app()
        return globals()["app"]
    raise AttributeError(name)
