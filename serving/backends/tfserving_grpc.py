"""Backend that calls a TensorFlow Serving over gRPC (PredictionService, port 8500).

The gateway resolves labels and the canary share to an explicit version, so every request sets
`model_spec.version`; the version logged is the one TF Serving's response names.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NoReturn, Optional

import anyio.to_thread
import grpc
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving.backends.base import BackendError, ModelBackend, Prediction, UnknownVersion
from serving.backends.status_poll import VersionPoller


class TFServingGrpcBackend(ModelBackend):
    def __init__(self, target: str, model_name: str, timeout: float = 10.0, status_ttl: float = 1.0):
        self.model_name = model_name
        self.timeout = timeout
        self._channel = grpc.insecure_channel(target, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
        self._predict = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._status = model_service_pb2_grpc.ModelServiceStub(self._channel)
        self._classes: dict[int, list[str]] = {}
        self._versions = VersionPoller(self._available, status_ttl, name="tfserving-grpc-status")

    def _raise(self, error: grpc.RpcError) -> NoReturn:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            raise UnknownVersion(error.details()) from None
        raise BackendError(f"TF Serving gRPC {error.code().name}: {error.details()}") from None

    def _available(self) -> list[int]:
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = self.model_name
        response = self._status.GetModelStatus(request, timeout=self.timeout)
        available = get_model_status_pb2.ModelVersionStatus.AVAILABLE
        return [s.version for s in response.model_version_status if s.state == available]

    def versions(self) -> list[int]:
        return self._versions.versions()

    def _resolve(self, version: Optional[int]) -> int:
        return self._versions.resolve(version, self.model_name)

    def predict(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model_name
        request.model_spec.signature_name = "serving_default"
        request.model_spec.version.value = self._resolve(version)
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
        served = self._resolve(version)
        if served not in self._classes:
            self._classes[served] = self.predict(["warm-up"], served).classes
        return self._classes[served]

    def signature_defs(self, version: int) -> dict[str, Any]:
        from serving.backends.signatures import signature_map_json

        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        request.model_spec.name = self.model_name
        request.model_spec.version.value = version
        try:
            response = self._predict.GetModelMetadata(request, timeout=self.timeout)
        except grpc.RpcError as error:
            self._raise(error)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_map)
        return signature_map_json(signature_map)

    async def predict_async(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        # A blocking client in a worker thread: the event loop stays free while TF Serving answers.
        return await anyio.to_thread.run_sync(functools.partial(self.predict, list(texts), version))

    def retain(self, versions: set[int]) -> None:
        pass  # TF Serving decides what is loaded: the gateway's TF Serving config lists routed versions

    def start(self) -> None:
        self._versions.start()  # TF Serving loads and polls versions itself; we follow its status

    def close(self) -> None:
        self._versions.stop()
        self._channel.close()
