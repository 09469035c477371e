"""POST /v1/classify: the gateway's own classification API.

The FastAPI route and the hand-written fast path share one request model, one query model and
one response builder (serving/api/schemas.py). The fast path skips FastAPI's per-request
machinery (dependency solving, parameter extraction), which cost more CPU than scoring and
logging together; it answers only what the shared models accept and returns None for anything
else, so every validation error (and the OpenAPI schema) is the route's.
"""

from __future__ import annotations

from typing import Annotated, Optional
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.types import Scope

from serving.access.auth import key_from_asgi_headers, key_matches
from serving.api.fast_path import is_json
from serving.api.schemas import CLASSIFY_RESPONSE, ClassifyQuery, ClassifyRequest, ClassifyResponse
from serving.deps import AuthenticatedDep, ServiceDep, SettingsDep
from serving.errors import ApiError, as_api_error, error_response
from serving.service import ClassificationService, Classified

PATH = "/v1/classify"
router = APIRouter(tags=["classify"])


@router.post(PATH, response_model=ClassifyResponse)
async def classify(
    body: ClassifyRequest,
    query: Annotated[ClassifyQuery, Query()],
    service: ServiceDep,
    settings: SettingsDep,
    authenticated: AuthenticatedDep,
) -> Response:
    """Classify one text or a batch; every prediction is logged (durably) before the answer."""
    return await answer(service, settings.model_name, body, query, authenticated)


async def answer(
    service: ClassificationService,
    model_name: str,
    body: ClassifyRequest,
    query: ClassifyQuery,
    authenticated: bool = False,
) -> Response:
    texts = [body.texts] if isinstance(body.texts, str) else body.texts
    result = await service.classify_async(texts, query.version, query.label, authenticated)
    return Response(CLASSIFY_RESPONSE.dump_json(response_body(model_name, result)), media_type="application/json")


def response_body(model_name: str, result: Classified) -> ClassifyResponse:
    prediction = result.prediction
    return {
        "model_name": model_name,
        "model_version": prediction.version,
        "route": result.route.name,
        "predictions": [
            {
                "prediction_id": result.ids[i],
                "label": prediction.labels[i],
                "scores": result.scores[i],
                "model_version": prediction.version,
            }
            for i in range(len(result.ids))
        ],
    }


async def fast_classify(scope: Scope, body: bytes) -> Optional[Response]:
    """The route's answer without FastAPI's machinery, or None to let the route answer."""
    if not is_json(scope["headers"]):
        return None
    query = _query(scope["query_string"])
    if query is None:
        return None
    try:
        request = ClassifyRequest.model_validate_json(body)
        params = ClassifyQuery.model_validate(query) if query else NO_QUERY
    except ValidationError:
        return None
    app = scope["app"]
    scope["route"] = app.state.classify_route  # for the request metrics, as the router would set it
    gateway = app.state.gateway
    authenticated = key_matches(gateway.settings.api_key, key_from_asgi_headers(scope["headers"]))
    try:
        return await answer(gateway.service, gateway.settings.model_name, request, params, authenticated)
    except ApiError as exc:
        return error_response(exc.message, exc.status)
    except Exception as exc:
        error = as_api_error(exc)
        return error_response(error.message, error.status)


NO_QUERY = ClassifyQuery()  # most requests have no query string: validated once


def _query(query_string: bytes) -> Optional[dict[str, str]]:
    """The query as a dict, or None when a parameter repeats (the route decides what that means)."""
    query: dict[str, str] = {}
    if not query_string:
        return query
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key in query:
            return None
        query[key] = value
    return query
