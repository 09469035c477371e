"""Every error the gateway answers is JSON `{"error": "..."}` (TF Serving's shape too), never a
stack trace: client errors are 4xx with the reason, a failing model server or an unreachable
store is 503, a concurrent export that holds the lock too long is 409."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from feedback import ExportBusy, InvalidFeedback, StoreUnavailable, UnknownPrediction, is_unavailable
from serving.backends.base import BackendError, UnknownVersion
from serving.service import InvalidInput
from serving.store_health import describe

log = logging.getLogger("lexflow.gateway")
STORE_DOWN = "feedback store unavailable; retry later"


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(message: str, status_code: int) -> JSONResponse:
    # Messages may quote the client's input, and JSON can carry lone surrogates ("\ud800") that
    # cannot be encoded as UTF-8: escaped here, or the 4xx would become a 500.
    safe = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return JSONResponse({"error": safe}, status_code=status_code)


def validation_message(errors: list[Any]) -> str:
    """The first problem of a request validation, as `field.path: message`."""
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
    return f"{where}: {first['msg']}"


def as_api_error(exc: Exception) -> ApiError:
    """The HTTP answer to an exception of the layers below (service, backends, store)."""
    if isinstance(exc, InvalidInput):
        return ApiError(exc.status, str(exc))
    if isinstance(exc, (UnknownVersion, UnknownPrediction)):
        return ApiError(404, str(exc))
    if isinstance(exc, BackendError):
        return ApiError(503, str(exc))
    if isinstance(exc, InvalidFeedback):
        return ApiError(422, str(exc))
    if isinstance(exc, StoreUnavailable):
        return ApiError(503, str(exc))
    if isinstance(exc, ExportBusy):
        return ApiError(409, str(exc))
    if is_unavailable(exc):
        return ApiError(503, STORE_DOWN)
    if isinstance(exc, DBAPIError):  # a statement the database refused: a bug, not the client's fault
        log.error("feedback store refused a statement: %s", describe(exc))
        return ApiError(500, "internal error in the feedback store")
    raise exc


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.message, exc.status)

    async def lower_layer_error(_request: Request, exc: Exception) -> Response:
        error = as_api_error(exc)
        return error_response(error.message, error.status)

    async def database_error(request: Request, exc: Exception) -> Response:
        gateway = getattr(request.app.state, "gateway", None)
        if gateway is not None and is_unavailable(exc):
            gateway.store_health.failed(exc)
        error = as_api_error(exc)
        return error_response(error.message, error.status)

    async def request_validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(validation_message(list(exc.errors())), 422)

    # Starlette's class (FastAPI's is a subclass): routing 404/405 and unparsable bodies (400) too.
    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(str(exc.detail), exc.status_code)

    app.add_exception_handler(ApiError, api_error)
    for error_type in (
        InvalidInput,
        UnknownVersion,
        UnknownPrediction,
        InvalidFeedback,
        BackendError,
        StoreUnavailable,
        ExportBusy,
    ):
        app.add_exception_handler(error_type, lower_layer_error)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(PoolTimeout, database_error)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(StarletteHTTPException, http_error)


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status_code, media_type="application/json", headers=headers)


try:
    import orjson

    def dumps(body: Any) -> bytes:
        return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)  # a backend may hand back numpy scalars
except ImportError:  # pragma: no cover - orjson is a dependency; the standard library is the fallback

    def dumps(body: Any) -> bytes:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
