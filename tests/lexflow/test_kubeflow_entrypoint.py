"""lexflow.runs.kubeflow.executor_input: the open-source KFP launcher's ExecutorInput made runnable by TFX's
entry point, and the ExecutorOutput given back with bucket URIs. In-process and fast; the whole pipeline
runs through the entry point in tests/e2e/test_kubeflow_execution.py.

The ExecutorInput shapes are the ones KFP's Go driver builds (sources in docs/kubeflow.md), e.g. an upstream
artifact exactly as the KFP SDK's own test gives it (sdk/python/kfp/dsl/executor_test.py).
"""

import json

import pytest
from google.protobuf import json_format

from lexflow.runs.kubeflow.executor_input import AdaptError, adapt, local_path, remote_uri, restore_output

ROOT = "minio://mlpipeline/v2/artifacts/lexflow/run-1"
MODEL_SCHEMA = "title: tfx.Model\ntype: object\n"
INPUTS_SPEC = {
    "artifacts": {"model": {"artifactType": {"instanceSchema": MODEL_SCHEMA}}},
    "parameters": {"model_base_dir": {"parameterType": "STRING"}},
}


def _oss_input(output_file="/minio/mlpipeline/v2/artifacts/lexflow/run-1/ProductionBaseline/u1/output_metadata.json"):
    """ProductionBaseline's ExecutorInput from KFP 2.15+: untyped input, salted outputs, executor-logs."""
    return {
        "inputs": {
            "parameterValues": {"model_base_dir": "gs://bucket/serving/lexflow"},
            "artifacts": {
                "model": {
                    "artifacts": [
                        {
                            "name": "84085",
                            "type": {"instanceSchema": ""},
                            "uri": f"{ROOT}/Trainer/u0/model",
                            "metadata": {"display_name": "model", "tfx_version": "1.16.0", "store_session_info": "{}"},
                        }
                    ]
                }
            },
        },
        "outputs": {
            "artifacts": {
                "baseline_model": {
                    "artifacts": [
                        {
                            "name": "baseline_model",
                            "type": {"instanceSchema": MODEL_SCHEMA},
                            "uri": f"{ROOT}/ProductionBaseline/u1/baseline_model",
                        }
                    ]
                },
                "executor-logs": {
                    "artifacts": [
                        {
                            "name": "executor-logs",
                            "type": {"schemaTitle": "system.Artifact"},
                            "uri": f"{ROOT}/ProductionBaseline/u1/executor-logs",
                        }
                    ]
                },
            },
            "outputFile": output_file,
        },
    }


def _tfx_parse(executor_input, inputs_spec=INPUTS_SPEC):
    """What TFX 1.16's entry point does with the JSON before it runs the executor."""
    from kfp.pipeline_spec import pipeline_spec_pb2
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as utils

    message = json_format.Parse(
        json.dumps(executor_input), pipeline_spec_pb2.ExecutorInput(), ignore_unknown_fields=True
    )
    spec = json_format.Parse(json.dumps(inputs_spec), pipeline_spec_pb2.ComponentInputsSpec())
    inputs = utils.parse_raw_artifact_dict(message.inputs.artifacts)
    outputs = utils.parse_raw_artifact_dict(message.outputs.artifacts)
    properties = utils.parse_execution_properties(message.inputs.parameter_values, message.inputs.parameters, spec)
    return inputs, outputs, properties


def test_tfx_alone_cannot_parse_what_the_kfp_driver_sends():
    executor_input = _oss_input()
    with pytest.raises(AttributeError):  # yaml.safe_load("") is None: the untyped input
        _tfx_parse(executor_input)
    del executor_input["inputs"]["artifacts"]
    with pytest.raises(ImportError, match=r"system\.Artifact"):  # the launcher's executor-logs output
        _tfx_parse(executor_input)


def test_adapted_input_parses_with_types_local_paths_and_parameters():
    adapted = adapt(_oss_input(), INPUTS_SPEC, local_root="/pod")
    inputs, outputs, properties = _tfx_parse(adapted.executor_input)

    model = inputs["model"][0]
    assert type(model).__name__ == "Model"
    # Where the launcher downloaded it (LocalPathForURI: minio://b/k -> /minio/b/k), under the pod root.
    assert model.uri == f"/pod/minio/{ROOT[len('minio://') :]}/Trainer/u0/model"
    assert model.get_string_custom_property("tfx_version") == "1.16.0"
    assert set(outputs) == {"baseline_model"} and adapted.dropped_outputs == ["executor-logs"]
    assert outputs["baseline_model"][0].uri.startswith("/pod/minio/mlpipeline/")
    assert properties == {"model_base_dir": "gs://bucket/serving/lexflow"}
    # The launcher's own output file and parameters are untouched.
    assert adapted.executor_input["outputs"]["outputFile"] == _oss_input()["outputs"]["outputFile"]


def test_vertex_input_passes_unchanged():
    vertex = _oss_input(output_file="gs://bucket/root/123/ProductionBaseline_456/executor_output.json")
    artifact = vertex["inputs"]["artifacts"]["model"]["artifacts"][0]
    artifact["type"] = {"instanceSchema": MODEL_SCHEMA}
    artifact["uri"] = "gs://bucket/root/123/Trainer_789/model"
    vertex["outputs"]["artifacts"].pop("executor-logs")
    vertex["outputs"]["artifacts"]["baseline_model"]["artifacts"][0]["uri"] = "gs://bucket/root/123/PB/baseline"
    adapted = adapt(vertex, INPUTS_SPEC)
    assert adapted.executor_input == vertex and adapted.remote_of == {} and adapted.dropped_outputs == []


def test_gs_uris_stay_remote_for_tfx_and_remote_beam_workers():
    assert local_path("gs://bucket/k") is None
    assert local_path("s3://bucket/a/b") == "/s3/bucket/a/b"
    assert local_path("minio://mlpipeline/v2/x", "/pod") == "/pod/minio/mlpipeline/v2/x"
    assert local_path("/already/local") is None


def test_an_untyped_input_without_a_declared_type_is_named():
    with pytest.raises(AdaptError, match="input artifact 'model'"):
        adapt(_oss_input(), {"artifacts": {}})


def test_output_uris_go_back_to_the_bucket_and_nulls_are_dropped():
    adapted = adapt(_oss_input(), INPUTS_SPEC, local_root="/pod")
    local = adapted.executor_input["outputs"]["artifacts"]["baseline_model"]["artifacts"][0]["uri"]
    written = {  # as TFX's entry point writes it (MessageToJson of ExecutorOutput)
        "artifacts": {
            "baseline_model": {
                "artifacts": [
                    {"uri": local, "metadata": {"found": 0.0, "current_model": f"{local}/Format-Serving", "x": None}}
                ]
            }
        }
    }
    restored = restore_output(written, adapted.remote_of)
    artifact = restored["artifacts"]["baseline_model"]["artifacts"][0]
    assert artifact["uri"] == f"{ROOT}/ProductionBaseline/u1/baseline_model"
    # A path in the metadata (the Evaluator records its models' paths) goes back too; KFP's MLMD rejects null.
    assert artifact["metadata"] == {"found": 0.0, "current_model": f"{artifact['uri']}/Format-Serving"}
    # A path below a rewritten one maps below its bucket URI; anything else is kept.
    assert remote_uri(f"{local}/sub/file", adapted.remote_of) == f"{ROOT}/ProductionBaseline/u1/baseline_model/sub/file"
    assert remote_uri("gs://elsewhere/x", adapted.remote_of) == "gs://elsewhere/x"
    # What comes back parses strictly as the launcher parses it (protojson, unknown fields fail).
    from kfp.pipeline_spec import pipeline_spec_pb2

    json_format.ParseDict(restored, pipeline_spec_pb2.ExecutorOutput())


def test_custom_artifact_types_import_by_their_type_name():
    """TFX's entry point imports a custom artifact type by its schema title (its TYPE_NAME)."""
    from tfx.utils import import_utils

    from components.drift_check.spec import DriftReport

    assert import_utils.import_class_by_path(DriftReport.TYPE_NAME) is DriftReport
