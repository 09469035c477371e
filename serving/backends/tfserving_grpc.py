"""Backend that calls a TensorFlow Serving over gRPC (PredictionService, port 8500)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NoReturn, Optional

import anyio.to_thread
import grpc
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import (
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving.backends.base import BackendError, ModelBackend, Prediction, UnknownVersion


class TFServingGrpcBackend(ModelBackend):
    def __init__(self, target: str, model_name: str, timeout: float = 10.0):
        self.model_name = model_name
        self.timeout = timeout
        self._channel = grpc.insecure_channel(target, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
        self._predict = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._status = model_service_pb2_grpc.ModelServiceStub(self._channel)
        self._classes: dict[int, list[str]] = {}

    def _raise(self, error: grpc.RpcError) -> NoReturn:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            raise UnknownVersion(error.details()) from None
        raise BackendError(f"TF Serving gRPC {error.code().name}: {error.details()}") from None

    def versions(self) -> list[int]:
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = self.model_name
        try:
            response = self._status.GetModelStatus(request, timeout=self.timeout)
        except grpc.RpcError:
            return []
        available = get_model_status_pb2.ModelVersionStatus.AVAILABLE
        return sorted(s.version for s in response.model_version_status if s.state == available)

    def predict(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model_name
        request.model_spec.signature_name = "serving_default"
        if version is not None:
            request.model_spec.version.value = version
        request.inputs["text"].CopyFrom(
            tensor_pb2.TensorProto(
                dtype=types_pb2.DT_STRING,
                string_val=[t.encode("utf-8") for t in texts],
                tensor_shape=tensor_shape_pb2.TensorShapeProto(
                    dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(texts))]
                ),
            )
        )
        try:
            response = self._predict.Predict(request, timeout=self.timeout)
        except grpc.RpcError as error:
            self._raise(error)
        scores = response.outputs["scores"]
        width = scores.tensor_shape.dim[1].size
        values = list(scores.float_val)
        classes = [c.decode() for c in response.outputs["classes"].string_val[:width]]
        return Prediction(
            version=response.model_spec.version.value,
            classes=classes,
            scores=[values[i * width : (i + 1) * width] for i in range(len(texts))],
            labels=[label.decode() for label in response.outputs["label"].string_val],
        )

    def classes(self, version: Optional[int] = None) -> list[str]:
        key = version if version is not None else -1
        if key not in self._classes:
            self._classes[key] = self.predict(["warm-up"], version).classes
        return self._classes[key]

    async def predict_async(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        # A blocking client in a worker thread: the event loop stays free while TF Serving answers.
        return await anyio.to_thread.run_sync(functools.partial(self.predict, list(texts), version))

    def start(self) -> None:
        pass  # TF Serving loads and polls versions itself

    def close(self) -> None:
        self._channel.close()
