"""TF Serving's REST API on the gateway, so unmodified TF Serving clients work against it.

Routes and JSON shapes follow https://www.tensorflow.org/tfx/serving/api_rest: `:predict` in
row ("instances") and columnar ("inputs") form, model status and metadata. Predictions made
here are logged like any other; their ids come back in the `X-Prediction-Ids` header.
"""
from __future__ import annotations

from typing import Any, Optional

from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse

from serving.backends.base import UnknownVersion

SIGNATURE = "serving_default"


def _texts_from_request(payload: Any, ApiError) -> tuple[list[Any], bool]:
    """(texts, row_format). Accepts strings or {"text": ...} objects, like the model's input."""
    if not isinstance(payload, dict):
        raise ApiError(400, "request body must be a JSON object with 'instances' or 'inputs'")
    signature = payload.get("signature_name", SIGNATURE)
    if signature != SIGNATURE:
        raise ApiError(400, f"signature '{signature}' is not served over REST; use '{SIGNATURE}'")
    if ("instances" in payload) == ("inputs" in payload):
        raise ApiError(400, "request must have exactly one of 'instances' (row format) or 'inputs' (columnar)")
    if "instances" in payload:
        instances = payload["instances"]
        if not isinstance(instances, list):
            raise ApiError(400, "'instances' must be a list")
        texts = []
        for i, instance in enumerate(instances):
            if isinstance(instance, dict):
                if set(instance) != {"text"}:
                    raise ApiError(400, f"instances[{i}]: expected exactly the input 'text', got {sorted(instance)}")
                instance = instance["text"]
            texts.append(instance)
        return texts, True
    inputs = payload["inputs"]
    if isinstance(inputs, dict):
        if set(inputs) != {"text"}:
            raise ApiError(400, f"inputs: expected exactly the input 'text', got {sorted(inputs)}")
        inputs = inputs["text"]
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list):
        raise ApiError(400, "'inputs' must be a list of strings or {'text': [...]}")
    return inputs, False


def register_tfserving_routes(app: FastAPI, settings, state, check_model, check_texts, score, ApiError) -> None:
    async def predict(name: str, payload: Any, version: Optional[int] = None, label: Optional[str] = None):
        check_model(name)
        texts, rows = _texts_from_request(payload, ApiError)
        result = await score(texts, version, label)
        prediction, ids = result.prediction, result.ids
        if rows:
            body = {"predictions": [
                {"scores": prediction.scores[i], "classes": prediction.classes, "label": prediction.labels[i]}
                for i in range(len(texts))
            ]}
        else:
            body = {"outputs": {"scores": prediction.scores, "classes": [prediction.classes] * len(texts),
                                "label": prediction.labels}}
        return JSONResponse(body, headers={"X-Prediction-Ids": ",".join(ids), "X-Model-Version": str(prediction.version)})

    tags = ["TF Serving REST"]
    example = {"instances": ["This Agreement shall be governed by the laws of Delaware."]}

    @app.post("/v1/models/{name}:predict", tags=tags)
    async def predict_latest(name: str, payload: Any = Body(..., examples=[example])):
        return await predict(name, payload)

    @app.post("/v1/models/{name}/versions/{version}:predict", tags=tags)
    async def predict_version(name: str, version: int, payload: Any = Body(..., examples=[example])):
        return await predict(name, payload, version=version)

    @app.post("/v1/models/{name}/labels/{label}:predict", tags=tags)
    async def predict_label(name: str, label: str, payload: Any = Body(..., examples=[example])):
        return await predict(name, payload, label=label)

    def _status(versions: list[int]) -> dict:
        return {"model_version_status": [
            {"version": str(v), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
            for v in sorted(versions, reverse=True)
        ]}

    def _served(version: Optional[int]) -> list[int]:
        versions = state["backend"].versions()
        if version is None:
            return versions
        if version not in versions:
            raise ApiError(404, f"model '{settings.model_name}' has no version {version} (serving: {versions})")
        return [version]

    @app.get("/v1/models/{name}", tags=tags)
    async def status(name: str):
        check_model(name)
        return _status(_served(None))

    @app.get("/v1/models/{name}/versions/{version}", tags=tags)
    async def status_version(name: str, version: int):
        check_model(name)
        return _status(_served(version))

    def _metadata(version: Optional[int]) -> dict:
        versions = _served(version)
        if not versions:
            raise ApiError(503, "no model version loaded yet")
        chosen = version or max(versions)
        classes = state["backend"].classes(chosen) if hasattr(state["backend"], "classes") else []
        tensor = lambda dtype, *dims: {"dtype": dtype, "tensor_shape": {"dim": [{"size": str(d), "name": ""} for d in dims], "unknown_rank": False}}  # noqa: E731
        return {
            "model_spec": {"name": settings.model_name, "signature_name": "", "version": str(chosen)},
            "metadata": {"signature_def": {"signature_def": {SIGNATURE: {
                "inputs": {"text": {"name": "serving_default_text:0", **tensor("DT_STRING", -1)}},
                "outputs": {
                    "scores": {"name": "StatefulPartitionedCall:2", **tensor("DT_FLOAT", -1, len(classes))},
                    "classes": {"name": "StatefulPartitionedCall:0", **tensor("DT_STRING", -1, len(classes))},
                    "label": {"name": "StatefulPartitionedCall:1", **tensor("DT_STRING", -1)},
                },
                "method_name": "tensorflow/serving/predict",
            }}}},
        }

    @app.get("/v1/models/{name}/metadata", tags=tags)
    async def metadata(name: str):
        check_model(name)
        return _metadata(None)

    @app.get("/v1/models/{name}/versions/{version}/metadata", tags=tags)
    async def metadata_version(name: str, version: int):
        check_model(name)
        return _metadata(version)
