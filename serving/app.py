"""The FastAPI gateway: classify, TF Serving-compatible REST, feedback, health, metrics, routing.

Start it with `uvicorn serving.app:app` (settings from LEXFLOW_* environment variables, see
serving/settings.py). OpenAPI docs at /docs.
"""
from __future__ import annotations

import logging
import secrets
import time
from contextlib import asynccontextmanager
from typing import Any, Optional

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from serving import api_models as api
from serving.backends.base import BackendError, ModelBackend, UnknownVersion
from serving.metrics import GatewayMetrics
from serving.routing import Router
from serving.service import ClassificationService, InvalidInput
from serving.settings import ServingSettings
from serving.store import FeedbackStore, UnknownPrediction

log = logging.getLogger("lexflow.gateway")


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def build_backend(settings: ServingSettings) -> ModelBackend:
    if settings.backend == "inprocess":
        from serving.backends.inprocess import InProcessBackend

        return InProcessBackend(settings.model_base_dir, settings.model_name, settings.poll_seconds)
    if settings.backend == "rest":
        from serving.backends.tfserving_rest import TFServingRestBackend

        if not settings.tf_serving_url:
            raise ValueError("LEXFLOW_BACKEND=rest needs LEXFLOW_TF_SERVING_URL")
        return TFServingRestBackend(settings.tf_serving_url, settings.model_name)
    from serving.backends.tfserving_grpc import TFServingGrpcBackend

    if not settings.tf_serving_grpc:
        raise ValueError("LEXFLOW_BACKEND=grpc needs LEXFLOW_TF_SERVING_GRPC")
    return TFServingGrpcBackend(settings.tf_serving_grpc, settings.model_name)


def create_app(settings: Optional[ServingSettings] = None, backend: Optional[ModelBackend] = None,
               store: Optional[FeedbackStore] = None) -> FastAPI:
    settings = settings or ServingSettings()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        state["backend"] = backend or build_backend(settings)
        state["store"] = store or FeedbackStore(settings.database_url, settings.store_text)
        state["router"] = Router(state["backend"].versions, settings.canary_share)
        state["service"] = ClassificationService(settings, state["backend"], state["store"], state["router"], metrics)
        if hasattr(state["backend"], "start"):
            state["backend"].start()
        grpc_server = None
        if settings.grpc_port is not None:
            from serving.grpc_server import start_grpc_server

            grpc_server = start_grpc_server(state["service"], settings.grpc_port, settings.grpc_host)
            state["grpc_port"] = grpc_server.port
        yield
        if grpc_server is not None:
            grpc_server.stop()
        if backend is None:
            state["backend"].close()

    app = FastAPI(title="lexflow gateway", version="0.1.0", lifespan=lifespan,
                  description="Legal-text classification with feedback. TF Serving-compatible routes under /v1/models.")
    metrics = GatewayMetrics()
    app.state.metrics = metrics
    app.state.lexflow = state
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"])

    # -- errors: always JSON {"error": "..."}, the shape TF Serving uses too --------------
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        return JSONResponse({"error": f"{where}: {first['msg']}"}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http_error(_request: Request, exc: HTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.middleware("http")
    async def _observe(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.requests.labels(path, str(response.status_code)).inc()
        metrics.latency.labels(path).observe(time.perf_counter() - start)
        return response

    def require_key(x_api_key: Optional[str] = Header(None), authorization: Optional[str] = Header(None)) -> None:
        if settings.api_key is None:
            return
        given = x_api_key or (authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None)
        expected = settings.api_key.get_secret_value()
        if given is None or not secrets.compare_digest(given.encode(), expected.encode()):
            raise ApiError(401, "missing or invalid API key (X-API-Key header)")

    # -- helpers ---------------------------------------------------------------------------
    def check_texts(texts: list[Any]) -> list[str]:
        try:
            return state["service"].check_texts(texts)
        except InvalidInput as exc:
            raise ApiError(exc.status, str(exc)) from None

    def check_model(name: str) -> None:
        if name != settings.model_name:
            raise ApiError(404, f"model '{name}' not found (this gateway serves '{settings.model_name}')")

    def known_labels() -> set[str]:
        try:
            return state["service"].known_labels()
        except (BackendError, UnknownVersion) as exc:
            raise ApiError(503, str(exc)) from None

    async def score(texts: list[str], route_version: Optional[int] = None, route_label: Optional[str] = None):
        try:
            result = await run_in_threadpool(state["service"].classify, texts, route_version, route_label)
        except InvalidInput as exc:
            raise ApiError(exc.status, str(exc)) from None
        except UnknownVersion as exc:
            raise ApiError(404, str(exc)) from None
        except BackendError as exc:
            raise ApiError(503, str(exc)) from None
        return result

    # -- the gateway's own API -------------------------------------------------------------
    @app.post("/v1/classify", response_model=api.ClassifyResponse, tags=["classify"])
    async def classify(body: api.ClassifyRequest, version: Optional[int] = Query(None, description="Pin a version."),
                       label: Optional[str] = Query(None, description="production|stable or staging|canary")):
        texts = [body.texts] if isinstance(body.texts, str) else body.texts
        result = await score(texts, version, label)
        prediction, route, scores, ids = result.prediction, result.route, result.scores, result.ids
        return api.ClassifyResponse(
            model_name=settings.model_name, model_version=prediction.version, route=route.name,
            predictions=[api.ClassifiedText(prediction_id=ids[i], label=prediction.labels[i], scores=scores[i],
                                            model_version=prediction.version) for i in range(len(texts))],
        )

    @app.post("/v1/feedback", status_code=201, response_model=api.FeedbackItem, tags=["feedback"],
              dependencies=[Depends(require_key)])
    async def feedback(body: api.FeedbackRequest):
        if body.label not in known_labels():
            raise ApiError(422, f"label: unknown label '{body.label}' (known: {', '.join(sorted(known_labels()))})")
        if body.text is not None:
            check_texts([body.text])
        try:
            row = await run_in_threadpool(state["store"].add_feedback, body.label, body.prediction_id, body.text)
        except UnknownPrediction as exc:
            raise ApiError(404, str(exc)) from None
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        if row.model_version is not None:
            metrics.feedback.labels(str(row.model_version), str(row.label == row.predicted_label).lower()).inc()
        return _feedback_item(row)

    @app.get("/v1/feedback", response_model=api.FeedbackList, tags=["feedback"], dependencies=[Depends(require_key)])
    async def list_feedback(after_id: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000)):
        rows = await run_in_threadpool(state["store"].list_feedback, after_id, limit)
        return api.FeedbackList(items=[_feedback_item(r) for r in rows],
                                next_after_id=rows[-1].id if len(rows) == limit else None)

    @app.post("/v1/feedback/export", response_model=api.ExportOut, tags=["feedback"], dependencies=[Depends(require_key)])
    async def export(min_rows: int = Query(1, ge=1, description="Export only when this many new rows exist.")):
        from serving.export import export_feedback

        result = await run_in_threadpool(export_feedback, state["store"], settings.export_data_root, min_rows)
        return api.ExportOut(span=result.span, rows=result.rows, path=str(result.path) if result.path else None,
                             first_feedback_id=result.first_feedback_id, last_feedback_id=result.last_feedback_id)

    @app.get("/v1/health", response_model=api.HealthResponse, tags=["health"])
    async def health():
        versions = await run_in_threadpool(state["store"].health)
        counts = await run_in_threadpool(state["store"].counts)
        for v in versions:
            if v.live_accuracy is not None:
                metrics.live_accuracy.labels(str(v.version)).set(v.live_accuracy)
        errors = sum(sample.value for metric in metrics.errors.collect() for sample in metric.samples
                     if sample.name.endswith("_total"))
        return api.HealthResponse(
            model_name=settings.model_name, serving_versions=state["backend"].versions(),
            predictions=counts["predictions"], feedback=counts["feedback"], errors=int(errors),
            versions=[api.VersionHealthOut(version=v.version, predictions=v.predictions, feedback=v.feedback,
                                           correct=v.correct, live_accuracy=v.live_accuracy) for v in versions],
        )

    @app.get("/v1/routing", response_model=api.RoutingOut, tags=["routing"])
    async def get_routing():
        return api.RoutingOut(**vars(state["router"].table))

    @app.put("/v1/routing", response_model=api.RoutingOut, tags=["routing"], dependencies=[Depends(require_key)])
    async def put_routing(body: api.RoutingUpdate):
        changes = {k: getattr(body, k) for k in body.model_fields_set}
        try:
            table = state["router"].update(**changes)
        except UnknownVersion as exc:
            raise ApiError(404, str(exc)) from None
        return api.RoutingOut(**vars(table))

    @app.get("/healthz", tags=["health"], summary="Liveness")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Readiness: a model version is loaded")
    async def readyz():
        if not state["backend"].ready():
            raise ApiError(503, "no model version loaded yet")
        return {"status": "ready", "versions": state["backend"].versions()}

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def prometheus():
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # -- TF Serving-compatible REST --------------------------------------------------------
    from serving.tfserving_api import register_tfserving_routes

    register_tfserving_routes(app, settings, state, check_model, check_texts, score, ApiError)
    return app


def _feedback_item(row) -> api.FeedbackItem:
    return api.FeedbackItem(id=row.id, prediction_id=row.prediction_id, text=row.text, label=row.label,
                            predicted_label=row.predicted_label, model_version=row.model_version,
                            created_at=row.created_at.isoformat())


def __getattr__(name: str):
    # `uvicorn serving.app:app` builds the app from the environment on first access only, so
    # importing this module (tests, tools) has no side effects.
    if name == "app":
        globals()["app"] = create_app()
        return globals()["app"]
    raise AttributeError(name)
