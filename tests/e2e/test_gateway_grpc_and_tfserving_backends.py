"""REST and gRPC over real sockets: the gateway (uvicorn + its gRPC server, in-process backend)
answers the official TF Serving protos, and the TF Serving REST/gRPC backends work against it.
Set TF_SERVING_URL / TF_SERVING_GRPC to also run the backends against a real TF Serving."""

import os
import shutil
import socket
import threading
import time

import grpc
import httpx
import pytest
import uvicorn
from tensorflow.core.example import example_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving.app import create_app
from serving.backends.base import UnknownVersion
from serving.backends.tfserving_grpc import TFServingGrpcBackend
from serving.backends.tfserving_rest import TFServingRestBackend
from serving.settings import ServingSettings

pytestmark = pytest.mark.e2e
GOVERNING = "This Agreement shall be governed by and construed in accordance with the laws of the State of New York."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Gateway:
    def __init__(self, settings: ServingSettings):
        self.port = _free_port()
        self.app = create_app(settings)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.time() + 120
        while not self.server.started:
            assert time.time() < deadline and self.thread.is_alive(), "gateway did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.app.state.gateway.grpc.port}"


@pytest.fixture(scope="module")
def gateway(pipeline_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("gateway")
    shutil.copytree(pipeline_run.model_dir, root / "serving" / "lexflow" / pipeline_run.model_dir.name)
    settings = ServingSettings(model_base_dir=root / "serving", database_url=f"sqlite:///{root}/fb.sqlite", grpc_port=0)
    with _Gateway(settings) as running:
        yield running


def test_official_prediction_service_stubs(gateway, pipeline_run):
    version = int(pipeline_run.model_dir.name)
    channel = grpc.insecure_channel(gateway.grpc_target)
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "lexflow"
    request.inputs["text"].dtype = 7  # DT_STRING
    request.inputs["text"].string_val.extend([GOVERNING.encode()])
    request.inputs["text"].tensor_shape.dim.add(size=1)
    response = stub.Predict(request, timeout=30)
    assert response.model_spec.version.value == version
    assert [v.decode() for v in response.outputs["label"].string_val] == ["governing_law"]
    assert abs(sum(response.outputs["scores"].float_val) - 1.0) < 1e-4

    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.name = "lexflow"
    example = example_pb2.Example()
    example.features.feature["text"].bytes_list.value.append(GOVERNING.encode())
    classify.input.example_list.examples.append(example)
    classes = stub.Classify(classify, timeout=30).result.classifications[0].classes
    assert max(classes, key=lambda c: c.score).label == "governing_law"

    metadata = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    metadata.model_spec.name = "lexflow"
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    stub.GetModelMetadata(metadata, timeout=30).metadata["signature_def"].Unpack(signature_map)
    assert set(signature_map.signature_def["serving_default"].outputs) == {"scores", "classes", "label"}

    status = get_model_status_pb2.GetModelStatusRequest()
    status.model_spec.name = "lexflow"
    statuses = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(status, timeout=30)
    assert [s.version for s in statuses.model_version_status] == [version]

    request.model_spec.name = "other"
    with pytest.raises(grpc.RpcError) as raised:
        stub.Predict(request, timeout=30)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    request.model_spec.name = "lexflow"
    del request.inputs["text"].string_val[:]
    request.inputs["text"].string_val.append(b"   ")
    with pytest.raises(grpc.RpcError) as raised:
        stub.Predict(request, timeout=30)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "empty text" in raised.value.details()


@pytest.mark.parametrize("kind", ["rest", "grpc"])
def test_tf_serving_backends_against_the_gateway(gateway, pipeline_run, kind):
    backend = (
        TFServingRestBackend(gateway.url, "lexflow")
        if kind == "rest"
        else TFServingGrpcBackend(gateway.grpc_target, "lexflow")
    )
    version = int(pipeline_run.model_dir.name)
    try:
        assert backend.versions() == [version]
        prediction = backend.predict([GOVERNING, "Either party may terminate this Agreement on notice."])
        assert prediction.version == version and prediction.labels[0] == "governing_law"
        assert len(prediction.scores[0]) == len(prediction.classes) == len(backend.classes())
        assert backend.predict([GOVERNING], version=version).labels == ["governing_law"]
        with pytest.raises(UnknownVersion):
            backend.predict([GOVERNING], version=1)
    finally:
        backend.close()


def test_gateway_over_grpc_backend_end_to_end(gateway, tmp_path):
    """A second gateway using the production (gRPC) path: classify and feedback work through it."""
    settings = ServingSettings(
        backend="grpc",
        tf_serving_grpc=gateway.grpc_target,
        database_url=f"sqlite:///{tmp_path}/front.sqlite",
        allow_unauthenticated_writes=True,
    )
    with _Gateway(settings) as front:
        response = httpx.post(f"{front.url}/v1/classify", json={"texts": [GOVERNING]}, timeout=60)
        assert response.status_code == 200 and response.json()["predictions"][0]["label"] == "governing_law"
        prediction_id = response.json()["predictions"][0]["prediction_id"]
        feedback = httpx.post(
            f"{front.url}/v1/feedback", json={"prediction_id": prediction_id, "label": "governing_law"}, timeout=60
        )
        assert feedback.status_code == 201
        assert httpx.get(f"{front.url}/readyz", timeout=30).status_code == 200


@pytest.mark.skipif(
    not (os.environ.get("TF_SERVING_URL") or os.environ.get("TF_SERVING_GRPC")),
    reason="no real TF Serving: set TF_SERVING_URL and/or TF_SERVING_GRPC (model name 'lexflow')",
)
def test_backends_against_real_tf_serving():
    backends = []
    if os.environ.get("TF_SERVING_URL"):
        backends.append(TFServingRestBackend(os.environ["TF_SERVING_URL"], "lexflow"))
    if os.environ.get("TF_SERVING_GRPC"):
        backends.append(TFServingGrpcBackend(os.environ["TF_SERVING_GRPC"], "lexflow"))
    for backend in backends:
        assert backend.versions()
        prediction = backend.predict([GOVERNING])
        assert len(prediction.scores[0]) == len(prediction.classes) and prediction.labels[0] in prediction.classes
