"""TF Serving's REST API on the gateway, so unmodified TF Serving clients work against it.

Routes and JSON shapes follow https://www.tensorflow.org/tfx/serving/api_rest: `:predict` in
row ("instances") and columnar ("inputs") form with `{"b64": ...}` values (tfserving_json.py),
by version or label; model status and metadata (every signature of the SavedModel), by version
or label. Predictions made here are logged like any other; their ids come back in the
`X-Prediction-Ids` header, the version that answered in `X-Model-Version`. Remaining
differences from TF Serving, and why: serving/README.md.
"""

from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from serving.api.schemas import Version
from serving.api.tfserving_json import texts_from_request
from serving.backends import ModelBackend
from serving.deps import AuthenticatedDep, BackendDep, SelectorDep, ServedModel, ServiceDep
from serving.errors import ApiError
from serving.service import ClassificationService

EXAMPLE = {"instances": ["This Agreement shall be governed by the laws of Delaware."]}
router = APIRouter(tags=["TF Serving REST"])


async def predict(
    service: ClassificationService,
    payload: Any,
    version: Optional[int] = None,
    label: Optional[str] = None,
    authenticated: bool = False,
) -> JSONResponse:
    texts, rows = texts_from_request(payload)
    result = await service.classify_async(texts, version, label, authenticated)
    prediction, ids = result.prediction, result.ids
    body: dict[str, Any]
    if rows:
        body = {
            "predictions": [
                {"scores": prediction.scores[i], "classes": prediction.classes, "label": prediction.labels[i]}
                for i in range(len(texts))
            ]
        }
    else:
        body = {
            "outputs": {
                "scores": prediction.scores,
                "classes": [prediction.classes] * len(texts),
                "label": prediction.labels,
            }
        }
    headers = {"X-Prediction-Ids": ",".join(ids), "X-Model-Version": str(prediction.version)}
    return JSONResponse(body, headers=headers)


@router.post("/v1/models/{name}:predict")
async def predict_latest(
    name: ServedModel,
    service: ServiceDep,
    authenticated: AuthenticatedDep,
    payload: Any = Body(..., examples=[EXAMPLE]),
) -> JSONResponse:
    return await predict(service, payload, authenticated=authenticated)


@router.post("/v1/models/{name}/versions/{version}:predict")
async def predict_version(
    name: ServedModel,
    version: Version,
    service: ServiceDep,
    authenticated: AuthenticatedDep,
    payload: Any = Body(..., examples=[EXAMPLE]),
) -> JSONResponse:
    return await predict(service, payload, version=version, authenticated=authenticated)


@router.post("/v1/models/{name}/labels/{label}:predict")
async def predict_label(
    name: ServedModel,
    label: str,
    service: ServiceDep,
    authenticated: AuthenticatedDep,
    payload: Any = Body(..., examples=[EXAMPLE]),
) -> JSONResponse:
    return await predict(service, payload, label=label, authenticated=authenticated)


def _status(versions: list[int]) -> dict[str, Any]:
    return {
        "model_version_status": [
            {"version": str(v), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
            for v in sorted(versions, reverse=True)
        ]
    }


def _served(backend: ModelBackend, model_name: str, version: Optional[int]) -> list[int]:
    versions = backend.versions()
    if version is None:
        return versions
    if version not in versions:
        raise ApiError(404, f"model '{model_name}' has no version {version} (serving: {versions})")
    return [version]


@router.get("/v1/models/{name}")
async def status(name: ServedModel, backend: BackendDep) -> dict[str, Any]:
    return _status(_served(backend, name, None))


@router.get("/v1/models/{name}/versions/{version}")
async def status_version(name: ServedModel, version: Version, backend: BackendDep) -> dict[str, Any]:
    return _status(_served(backend, name, version))


@router.get("/v1/models/{name}/labels/{label}")
async def status_label(name: ServedModel, label: str, backend: BackendDep) -> dict[str, Any]:
    """Like TF Serving 2.16, which accepts a label here but ignores it: every version's status."""
    return _status(_served(backend, name, None))


async def _metadata(backend: ModelBackend, model_name: str, version: int) -> dict[str, Any]:
    _served(backend, model_name, version)
    signatures = await run_in_threadpool(backend.signature_defs, version)
    return {
        "model_spec": {"name": model_name, "signature_name": "", "version": str(version)},
        "metadata": {"signature_def": signatures},
    }


@router.get("/v1/models/{name}/metadata")
async def metadata(name: ServedModel, backend: BackendDep, routing: SelectorDep) -> dict[str, Any]:
    """The metadata of the version unpinned requests go to (production)."""
    return await _metadata(backend, name, routing.resolve_label("production"))


@router.get("/v1/models/{name}/versions/{version}/metadata")
async def metadata_version(name: ServedModel, version: Version, backend: BackendDep) -> dict[str, Any]:
    return await _metadata(backend, name, version)


@router.get("/v1/models/{name}/labels/{label}/metadata")
async def metadata_label(name: ServedModel, label: str, backend: BackendDep, routing: SelectorDep) -> dict[str, Any]:
    return await _metadata(backend, name, routing.resolve_label(label))
