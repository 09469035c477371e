"""POST /v1/classify: the gateway's own classification API.

The FastAPI route and the hand-written fast path share one request model, one query model and
one response builder (serving/api/schemas.py). The fast path skips FastAPI's per-request
machinery (dependency solving, parameter extraction), which cost more CPU than scoring and
logging together. It answers only bodies in the plainest form the request model accepts
(`{"texts": "..."}` or `{"texts": ["...", ...]}`, read by orjson, which refuses every document
pydantic's JSON parser refuses) and returns None for anything else, so every validation error
(and the OpenAPI schema) is the route's.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.types import Scope

from serving.access.auth import key_from_asgi_headers, key_matches
from serving.api.fast_path import JsonBody, is_json
from serving.api.schemas import ClassifyQuery, ClassifyRequest, ClassifyResponse
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
    texts = [body.texts] if isinstance(body.texts, str) else body.texts
    return await answer(service, settings.model_name, texts, query, authenticated)


async def answer(
    service: ClassificationService, model_name: str, texts: list[str], query: ClassifyQuery, authenticated: bool
) -> Response:
    result = await service.classify_async(texts, query.version, query.label, authenticated)
    # orjson, not the response type's serializer: the same JSON (the type is checked by mypy and
    # documented in OpenAPI) for a quarter of the CPU.
    return JsonBody(orjson.dumps(response_body(model_name, result)))


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
    texts = _plain_texts(body)
    if texts is None:
        return None
    if scope["query_string"]:
        query = _query(scope["query_string"])
        if query is None:
            return None
        try:
            params = ClassifyQuery.model_validate(query)
        except ValidationError:
            return None
    else:
        params = NO_QUERY
    app = scope["app"]
    scope["route"] = app.state.classify_route  # for the request metrics, as the router would set it
    gateway = app.state.gateway
    authenticated = key_matches(gateway.settings.api_key, key_from_asgi_headers(scope["headers"]))
    try:
        return await answer(gateway.service, gateway.settings.model_name, texts, params, authenticated)
    except ApiError as exc:
        return error_response(exc.message, exc.status)
    except Exception as exc:
        error = as_api_error(exc)
        return error_response(error.message, error.status)


NO_QUERY = ClassifyQuery()  # most requests have no query string: validated once


def _plain_texts(body: bytes) -> Optional[list[str]]:
    """The texts of `{"texts": "..."}` or `{"texts": ["...", ...]}`, the forms most clients send,
    as ClassifyRequest would read them; None for any other body (the route validates it)."""
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(parsed) is not dict or len(parsed) != 1:
        return None
    texts = parsed.get("texts")
    if type(texts) is str:
        return [texts]
    if type(texts) is list and all(type(text) is str for text in texts):
        return texts
    return None


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
