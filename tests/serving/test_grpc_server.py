"""TF Serving's gRPC API on the gateway (official stubs), against the stand-in backend:
output_filter, metadata with every signature, labels."""

import grpc
import pytest
from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc

from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING, StandInBackend


@pytest.fixture
def stub(tmp_path):
    with gateway(tmp_path, StandInBackend(versions=(7, 9)), grpc_port=0) as client:
        client.put("/v1/routing", json={"production": 7, "staging": 9})
        channel = grpc.insecure_channel(f"127.0.0.1:{client.app.state.gateway.grpc.port}")
        yield prediction_service_pb2_grpc.PredictionServiceStub(channel)
        channel.close()


def _predict(output_filter=(), label=None):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "lexflow"
    if label:
        request.model_spec.version_label = label
    request.inputs["text"].dtype = 7  # DT_STRING
    request.inputs["text"].string_val.append(GOVERNING.encode())
    request.inputs["text"].tensor_shape.dim.add(size=1)
    request.output_filter.extend(output_filter)
    return request


def test_output_filter_returns_only_the_named_outputs(stub):
    response = stub.Predict(_predict(["label"]), timeout=30)
    assert set(response.outputs) == {"label"} and response.outputs["label"].string_val == [b"governing_law"]
    assert response.model_spec.version.value == 7  # production, resolved
    assert set(stub.Predict(_predict(), timeout=30).outputs) == {"scores", "classes", "label"}
    assert stub.Predict(_predict(["scores"], label="canary"), timeout=30).model_spec.version.value == 9


@pytest.mark.parametrize(
    "output_filter, message",
    [
        (["nope"], "output tensor alias not found in signature: nope Outputs expected to be in the set"),
        (["label", "label"], "duplicate output tensor alias: label"),
    ],
)
def test_bad_output_filter_is_invalid_argument(stub, output_filter, message):
    with pytest.raises(grpc.RpcError) as raised:
        stub.Predict(_predict(output_filter), timeout=30)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in raised.value.details()


def test_metadata_has_every_signature_and_follows_labels(stub):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def", "signature_def"])
    request.model_spec.name = "lexflow"
    request.model_spec.version_label = "canary"
    response = stub.GetModelMetadata(request, timeout=30)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signature_map)
    assert response.model_spec.version.value == 9
    assert set(signature_map.signature_def) == {"serving_default", "serving_tf_example", "__saved_model_init_op"}
    assert set(signature_map.signature_def["serving_default"].outputs) == {"scores", "classes", "label"}
    for fields, message in (([], "at least one metadata_field"), (["other"], "Metadata field other is not supported")):
        bad = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=fields)
        bad.model_spec.name = "lexflow"
        with pytest.raises(grpc.RpcError) as raised:
            stub.GetModelMetadata(bad, timeout=30)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in raised.value.details()
    missing = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    missing.model_spec.name = "lexflow"
    missing.model_spec.version.value = 3
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetModelMetadata(missing, timeout=30)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
