"""TF Serving's REST API on the gateway, so unmodified TF Serving clients work against it.

Routes and JSON shapes follow https://www.tensorflow.org/tfx/serving/api_rest: `:predict` in
row ("instances") and columnar ("inputs") form, model status and metadata. Predictions made
here are logged like any other; their ids come back in the `X-Prediction-Ids` header.
"""

from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from serving.api.schemas import Version
from serving.backends import ModelBackend
from serving.deps import BackendDep, ServedModel, ServiceDep
from serving.errors import ApiError
from serving.service import ClassificationService

SIGNATURE = "serving_default"
EXAMPLE = {"instances": ["This Agreement shall be governed by the laws of Delaware."]}
router = APIRouter(tags=["TF Serving REST"])


def texts_from_request(payload: Any) -> tuple[list[Any], bool]:
    """(texts, row_format). Accepts strings or {"text": ...} objects, like the model's input."""
    if not isinstance(payload, dict):
        raise ApiError(400, "request body must be a JSON object with 'instances' or 'inputs'")
    signature = payload.get("signature_name", SIGNATURE)
    if signature != SIGNATURE:
        raise ApiError(400, f"signature '{signature}' is not served over REST; use '{SIGNATURE}'")
    if ("instances" in payload) == ("inputs" in payload):
        raise ApiError(400, "request must have exactly one of 'instances' (row format) or 'inputs' (columnar)")
    if "instances" in payload:
        return _row_texts(payload["instances"]), True
    return _columnar_texts(payload["inputs"]), False


def _row_texts(instances: Any) -> list[Any]:
    if not isinstance(instances, list):
        raise ApiError(400, "'instances' must be a list")
    texts = []
    for i, instance in enumerate(instances):
        if isinstance(instance, dict) and set(instance) != {"text"}:
            raise ApiError(400, f"instances[{i}]: expected exactly the input 'text', got {sorted(instance)}")
        texts.append(instance["text"] if isinstance(instance, dict) else instance)
    return texts


def _columnar_texts(inputs: Any) -> list[Any]:
    if isinstance(inputs, dict):
        if set(inputs) != {"text"}:
            raise ApiError(400, f"inputs: expected exactly the input 'text', got {sorted(inputs)}")
        inputs = inputs["text"]
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list):
        raise ApiError(400, "'inputs' must be a list of strings or {'text': [...]}")
    return inputs


async def predict(
    service: ClassificationService, payload: Any, version: Optional[int] = None, label: Optional[str] = None
) -> JSONResponse:
    texts, rows = texts_from_request(payload)
    result = await service.classify_async(texts, version, label)
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
    name: ServedModel, service: ServiceDep, payload: Any = Body(..., examples=[EXAMPLE])
) -> JSONResponse:
    return await predict(service, payload)


@router.post("/v1/models/{name}/versions/{version}:predict")
async def predict_version(
    name: ServedModel, version: Version, service: ServiceDep, payload: Any = Body(..., examples=[EXAMPLE])
) -> JSONResponse:
    return await predict(service, payload, version=version)


@router.post("/v1/models/{name}/labels/{label}:predict")
async def predict_label(
    name: ServedModel, label: str, service: ServiceDep, payload: Any = Body(..., examples=[EXAMPLE])
) -> JSONResponse:
    return await predict(service, payload, label=label)


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


def _tensor(dtype: str, *dims: int) -> dict[str, Any]:
    dim = [{"size": str(d), "name": ""} for d in dims]
    return {"dtype": dtype, "tensor_shape": {"dim": dim, "unknown_rank": False}}


def _metadata(backend: ModelBackend, model_name: str, version: Optional[int]) -> dict[str, Any]:
    versions = _served(backend, model_name, version)
    if not versions:
        raise ApiError(503, "no model version loaded yet")
    chosen = version or max(versions)
    classes = backend.classes(chosen)
    signature = {
        "inputs": {"text": {"name": "serving_default_text:0", **_tensor("DT_STRING", -1)}},
        "outputs": {
            "scores": {"name": "StatefulPartitionedCall:2", **_tensor("DT_FLOAT", -1, len(classes))},
            "classes": {"name": "StatefulPartitionedCall:0", **_tensor("DT_STRING", -1, len(classes))},
            "label": {"name": "StatefulPartitionedCall:1", **_tensor("DT_STRING", -1)},
        },
        "method_name": "tensorflow/serving/predict",
    }
    return {
        "model_spec": {"name": model_name, "signature_name": "", "version": str(chosen)},
        "metadata": {"signature_def": {"signature_def": {SIGNATURE: signature}}},
    }


@router.get("/v1/models/{name}/metadata")
async def metadata(name: ServedModel, backend: BackendDep) -> dict[str, Any]:
    return _metadata(backend, name, None)


@router.get("/v1/models/{name}/versions/{version}/metadata")
async def metadata_version(name: ServedModel, version: Version, backend: BackendDep) -> dict[str, Any]:
    return _metadata(backend, name, version)
