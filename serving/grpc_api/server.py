"""TF Serving's gRPC API (PredictionService + ModelService) served from the gateway process.

With the in-process backend this is how "serving via gRPC" works on one machine; clients use
the official `tensorflow-serving-api` stubs unchanged. Predict (with `output_filter`), Classify,
GetModelMetadata (every signature of the SavedModel) and GetModelStatus are implemented; every
prediction goes through ClassificationService, so it is validated, routed and logged exactly like
a REST one. Remaining differences from TF Serving, and why: serving/README.md.
"""

from __future__ import annotations

import logging
from concurrent import futures
from dataclasses import dataclass
from typing import Optional

import grpc
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from tensorflow_serving.apis.model_pb2 import ModelSpec

from feedback import StoreUnavailable
from serving.backends.base import BackendError, UnknownVersion
from serving.service import ClassificationService, Classified, InvalidInput

log = logging.getLogger(__name__)
SIGNATURE = "serving_default"
OUTPUTS = ("scores", "classes", "label")


def _string_tensor(values: list[str], shape: list[int]) -> tensor_pb2.TensorProto:
    return tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        string_val=[v.encode() for v in values],
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in shape]
        ),
    )


def _float_tensor(rows: list[list[float]]) -> tensor_pb2.TensorProto:
    return tensor_pb2.TensorProto(
        dtype=types_pb2.DT_FLOAT,
        float_val=[x for row in rows for x in row],
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[
                tensor_shape_pb2.TensorShapeProto.Dim(size=len(rows)),
                tensor_shape_pb2.TensorShapeProto.Dim(size=len(rows[0]) if rows else 0),
            ]
        ),
    )


class _Servicer(prediction_service_pb2_grpc.PredictionServiceServicer, model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, service: ClassificationService):
        self.service = service

    def _route(self, spec: ModelSpec, context: grpc.ServicerContext) -> tuple[Optional[int], Optional[str]]:
        if spec.name != self.service.settings.model_name:
            context.abort(grpc.StatusCode.NOT_FOUND, f"model '{spec.name}' not found")
        if spec.signature_name not in ("", SIGNATURE):
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"signature '{spec.signature_name}' is not served; use '{SIGNATURE}'"
            )
        choice = spec.WhichOneof("version_choice")
        if choice == "version":
            return spec.version.value, None
        if choice == "version_label":
            return None, spec.version_label
        return None, None

    def _classify(
        self, texts: list[str], version: Optional[int], label: Optional[str], context: grpc.ServicerContext
    ) -> Classified:
        try:
            return self.service.classify(texts, version, label)
        except InvalidInput as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except UnknownVersion as exc:
            context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        except (BackendError, StoreUnavailable) as exc:
            context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        raise AssertionError("context.abort raises")  # for the type checker: abort never returns

    def Predict(
        self, request: predict_pb2.PredictRequest, context: grpc.ServicerContext
    ) -> predict_pb2.PredictResponse:
        version, label = self._route(request.model_spec, context)
        if set(request.inputs) != {"text"}:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"expected exactly the input 'text', got {sorted(request.inputs)}"
            )
        tensor = request.inputs["text"]
        if tensor.dtype != types_pb2.DT_STRING:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "input 'text' must be DT_STRING")
        try:
            texts = [value.decode("utf-8") for value in tensor.string_val]
        except UnicodeDecodeError:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "input 'text' is not valid UTF-8")
        wanted = _output_filter(list(request.output_filter), context)
        result = self._classify(texts, version, label, context)
        p = result.prediction
        response = predict_pb2.PredictResponse()
        response.model_spec.name = self.service.settings.model_name
        response.model_spec.version.value = p.version
        response.model_spec.signature_name = SIGNATURE
        outputs = {
            "scores": lambda: _float_tensor(p.scores),
            "classes": lambda: _string_tensor(
                [c for _ in p.labels for c in p.classes], [len(p.labels), len(p.classes)]
            ),
            "label": lambda: _string_tensor(p.labels, [len(p.labels)]),
        }
        for name in wanted:
            response.outputs[name].CopyFrom(outputs[name]())
        context.set_trailing_metadata((("x-prediction-ids", ",".join(result.ids)),))
        return response

    def Classify(
        self, request: classification_pb2.ClassificationRequest, context: grpc.ServicerContext
    ) -> classification_pb2.ClassificationResponse:
        version, label = self._route(request.model_spec, context)
        if request.input.WhichOneof("kind") != "example_list":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Classify takes input.example_list")
        texts = []
        for i, example in enumerate(request.input.example_list.examples):
            feature = example.features.feature.get("text")
            if feature is None or len(feature.bytes_list.value) != 1:
                context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT, f"examples[{i}]: needs one bytes value in feature 'text'"
                )
            try:
                texts.append(feature.bytes_list.value[0].decode("utf-8"))
            except UnicodeDecodeError:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"examples[{i}]: 'text' is not valid UTF-8")
        result = self._classify(texts, version, label, context)
        response = classification_pb2.ClassificationResponse()
        response.model_spec.name = self.service.settings.model_name
        response.model_spec.version.value = result.prediction.version
        for row in result.prediction.scores:
            classification = response.result.classifications.add()
            for name, score in zip(result.prediction.classes, row, strict=True):
                classification.classes.add(label=name, score=score)
        return response

    def GetModelMetadata(
        self, request: get_model_metadata_pb2.GetModelMetadataRequest, context: grpc.ServicerContext
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        version, label = self._route(request.model_spec, context)
        # TF Serving's checks and messages (get_model_metadata_impl.cc): repeats are fine.
        if not request.metadata_field:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "GetModelMetadataRequest must specify at least one metadata_field"
            )
        for field in request.metadata_field:
            if field != "signature_def":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"Metadata field {field} is not supported")
        try:
            chosen = version if version is not None else self.service.selector.resolve_label(label or "production")
            if chosen not in self.service.backend.versions():
                raise UnknownVersion(f"Servable not found for request: Specific({request.model_spec.name}, {chosen})")
            signatures = self.service.backend.signature_defs(chosen)
        except UnknownVersion as exc:
            context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        except BackendError as exc:
            context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        from serving.backends.signatures import signature_map_message

        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = self.service.settings.model_name
        response.model_spec.version.value = chosen
        response.metadata["signature_def"].Pack(signature_map_message(signatures))
        return response

    def GetModelStatus(
        self, request: get_model_status_pb2.GetModelStatusRequest, context: grpc.ServicerContext
    ) -> get_model_status_pb2.GetModelStatusResponse:
        version, _label = self._route(request.model_spec, context)
        versions = self.service.backend.versions()
        if version is not None:
            if version not in versions:
                context.abort(grpc.StatusCode.NOT_FOUND, f"version {version} is not served (serving: {versions})")
            versions = [version]
        response = get_model_status_pb2.GetModelStatusResponse()
        for v in sorted(versions, reverse=True):
            status = response.model_version_status.add(version=v)
            status.state = get_model_status_pb2.ModelVersionStatus.AVAILABLE
        return response


def _output_filter(aliases: list[str], context: grpc.ServicerContext) -> list[str]:
    """The outputs to return: all when none are named; TF Serving's errors (predict_util.cc) otherwise."""
    if not aliases:
        return list(OUTPUTS)
    seen: set[str] = set()
    for alias in aliases:
        if alias not in OUTPUTS:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"output tensor alias not found in signature: {alias} "
                f"Outputs expected to be in the set {{{','.join(sorted(OUTPUTS))}}}.",
            )
        if alias in seen:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"duplicate output tensor alias: {alias}")
        seen.add(alias)
    return aliases


@dataclass
class GrpcServer:
    server: grpc.Server
    port: int

    def stop(self, grace: float = 2.0) -> None:
        self.server.stop(grace).wait()


def start_grpc_server(
    service: ClassificationService, port: int = 8500, host: str = "127.0.0.1", workers: int = 8
) -> GrpcServer:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
        options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
    )
    servicer = _Servicer(service)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(servicer, server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(servicer, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind gRPC server to {host}:{port}")
    server.start()
    log.info("gRPC PredictionService on %s:%d", host, bound)
    return GrpcServer(server, bound)
