"""The FastAPI gateway: classify, TF Serving-compatible REST, feedback, health, metrics, routing.

Start it with `uvicorn serving.app:app` (settings from LEXFLOW_* environment variables, see
serving/settings.py). OpenAPI docs at /docs.
"""
from __future__ import annotations

import json
import logging
import secrets
from contextlib import asynccontextmanager
from typing import Any, Optional
from urllib.parse import parse_qsl

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving import api_models as api
from serving.backends.base import BackendError, ModelBackend, UnknownVersion
from serving.limits import BodySizeLimit
from serving.metrics import GatewayMetrics, ObserveRequests
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
        if not settings.access_log:  # what `uvicorn --no-access-log` does; connections opened from now on log nothing
            logging.getLogger("uvicorn.access").handlers = []
            logging.getLogger("uvicorn.access").propagate = False
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
    # Innermost of our middleware, so CORS and the metrics still see its requests.
    app.add_middleware(FastPath, method="POST", path="/v1/classify", handler=lambda scope, body: classify_fast(scope, body))
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)  # outside FastPath: bounds what it reads
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"])

    # -- errors: always JSON {"error": "..."}, the shape TF Serving uses too --------------
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return _error_response(exc.message, exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        return _error_response(f"{where}: {first['msg']}", 422)

    # Starlette's class, FastAPI's is a subclass: routing 404/405 and unparsable bodies (400) too.
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException):
        return _error_response(str(exc.detail), exc.status_code)

    app.add_middleware(ObserveRequests, metrics=metrics)

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
            result = await state["service"].classify_async(texts, route_version, route_label)
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
        return await classify_texts([body.texts] if isinstance(body.texts, str) else body.texts, version, label)

    async def classify_texts(texts: list[str], version: Optional[int], label: Optional[str]) -> Response:
        result = await score(texts, version, label)
        prediction, route, scores, ids = result.prediction, result.route, result.scores, result.ids
        # Built and encoded directly (the shape of api.ClassifyResponse, which documents it): running
        # the response model's validation and serializer for every request is measurable under load.
        return _json_response({
            "model_name": settings.model_name, "model_version": prediction.version, "route": route.name,
            "predictions": [{"prediction_id": ids[i], "label": prediction.labels[i], "scores": scores[i],
                             "model_version": prediction.version} for i in range(len(texts))],
        })

    classify_route = next(r for r in app.routes if getattr(r, "path", None) == "/v1/classify")

    async def classify_fast(scope, body: bytes) -> Optional[Response]:
        """POST /v1/classify without FastAPI's per-request machinery (dependency solving, query and
        body models), which cost more CPU than scoring and logging together. Only the plain case is
        answered here: JSON body {"texts": str | [str, ...]}, at most the query parameters `version`
        (digits) and `label`. Anything else returns None and the FastAPI route above answers it, so
        every error (and the OpenAPI schema) is exactly the route's. Service errors (empty text, batch
        too large, unknown version, backend down) are answered here as the route would."""
        query = _plain_query(scope["query_string"])
        if query is None or not _is_json(scope["headers"]):
            return None
        try:
            payload = json.loads(body)
        except Exception:  # noqa: BLE001 - the route reports malformed bodies
            return None
        if not isinstance(payload, dict) or payload.keys() != {"texts"}:
            return None
        texts = payload["texts"]
        if isinstance(texts, str):
            texts = [texts]
        elif not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return None
        scope["route"] = classify_route  # for the request metrics, as the router would set it
        version = query.get("version")
        try:
            return await classify_texts(texts, int(version) if version is not None else None, query.get("label"))
        except ApiError as exc:
            return _error_response(exc.message, exc.status)

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
    async def list_feedback(after_id: int = Query(0, ge=0, le=2**63 - 1), limit: int = Query(100, ge=1, le=1000)):
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


class FastPath:
    """ASGI middleware giving one route a hand-written fast path.

    `handler(scope, body)` returns a Response, or None to let the application answer as usual
    (the body is replayed to it). Other methods and paths go straight to the application.
    """

    def __init__(self, app, method: str, path: str, handler):
        self.app, self.method, self.path, self.handler = app, method, path, handler

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != self.method:
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away before sending its body
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        response = await self.handler(scope, body)
        if response is not None:
            await response(scope, receive, send)
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _is_json(headers) -> bool:
    for name, value in headers:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json"
    return False


def _plain_query(query_string: bytes) -> Optional[dict[str, str]]:
    """{"version": digits, "label": str} from a query string, or None when it holds anything else."""
    if not query_string:
        return {}
    query: dict[str, str] = {}
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key not in ("version", "label") or key in query or (key == "version" and not (value.isascii() and value.isdigit())):
            return None
        query[key] = value
    return query


def _error_response(message: str, status_code: int) -> JSONResponse:
    # Messages may quote the client's input, and JSON can carry lone surrogates ("\ud800") that
    # cannot be encoded as UTF-8: escaped here, or the 4xx would become a 500.
    return JSONResponse({"error": message.encode("utf-8", "backslashreplace").decode("utf-8")}, status_code=status_code)


def _json_response(body: dict, status_code: int = 200) -> Response:
    return Response(_dumps(body), status_code=status_code, media_type="application/json")


try:
    import orjson

    def _dumps(body: Any) -> bytes:
        return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)  # a backend may hand back numpy scalars
except ImportError:  # pragma: no cover - orjson is a dependency; the standard library is the fallback
    def _dumps(body: Any) -> bytes:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


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
