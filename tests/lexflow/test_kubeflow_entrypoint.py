"""lexflow.runs.kubeflow.executor_input: the open-source KFP launcher's ExecutorInput made runnable by TFX's
entry point, and the ExecutorOutput given back with bucket URIs. In-process and fast; the whole pipeline
runs through the entry point in tests/e2e/test_kubeflow_execution.py.

The ExecutorInput shapes are the ones KFP's Go driver builds (sources in docs/kubeflow.md), e.g. an upstream
artifact exactly as the KFP SDK's own test gives it (sdk/python/kfp/dsl/executor_test.py).
"""

import json

import pytest
from google.protobuf import json_format

from lexflow.runs.kubeflow.executor_input import (
    RUN_PARAMETER,
    AdaptError,
    adapt,
    local_path,
    remote_uri,
    restore_output,
)

ROOT = "minio://mlpipeline/v2/artifacts/lexflow/run-1"
MODEL_SCHEMA = "title: tfx.Model\ntype: object\n"
INPUTS_SPEC = {
    "artifacts": {"model": {"artifactType": {"instanceSchema": MODEL_SCHEMA}}},
    "parameters": {"model_base_dir": {"parameterType": "STRING"}, RUN_PARAMETER: {"parameterType": "STRING"}},
}
RUN_ID = "3f5c2a9e-7d1b-4c1e-9a57-0b8e2f6d4c10"


def _oss_input(output_file="/minio/mlpipeline/v2/artifacts/lexflow/run-1/ProductionBaseline/u1/output_metadata.json"):
    """ProductionBaseline's ExecutorInput from KFP 2.15+: untyped input, salted outputs, executor-logs."""
    return {
        "inputs": {
            # The run's id: the compiler gives it to ProductionBaseline for KFP's cache key (caching.py).
            "parameterValues": {"model_base_dir": "gs://bucket/serving/lexflow", RUN_PARAMETER: RUN_ID},
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
    # The run's id keys KFP's cache; it is no exec property of any TFX component, so TFX never sees it.
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
    del vertex["inputs"]["parameterValues"][RUN_PARAMETER]  # the one change: TFX never sees the run's id
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


def _downstream(artifact):
    """`artifact`, as an upstream executor left it, the way a downstream executor gets it on open-source KFP:
    TFX's entry point writes it into the ExecutorOutput (as JSON metadata), the image's entry point restores
    bucket URIs, the launcher records the metadata in ML Metadata and the driver reads it back (numbers as
    doubles; tests/e2e/kfp_backend.py mirrors both), then the image's entry point adapts it and TFX parses it."""
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as utils

    from tests.e2e.kfp_backend import mlmd_value

    written = json_format.MessageToDict(utils.translate_executor_output({"out": [artifact]}, {})["out"])
    restored = restore_output({"artifacts": {"out": written}}, {})["artifacts"]["out"]["artifacts"][0]
    metadata = {key: mlmd_value(value) for key, value in restored["metadata"].items()}
    metadata |= {"display_name": "out", "store_session_info": "{}"}  # what the launcher adds
    upstream = {"name": "84085", "type": {"instanceSchema": ""}, "uri": f"{ROOT}/x", "metadata": metadata}
    executor_input = {
        "inputs": {"artifacts": {"in": {"artifacts": [upstream]}}},
        "outputs": {"artifacts": {}, "outputFile": "/tmp/kfp_outputs/output_metadata.json"},
    }
    schema = f"title: tfx.{artifact.TYPE_NAME}\ntype: object\n"
    adapted = adapt(executor_input, {"artifacts": {"in": {"artifactType": {"instanceSchema": schema}}}}, "/pod")
    inputs, _, _ = _tfx_parse(adapted.executor_input, {"artifacts": {}})
    [parsed] = inputs["in"]
    assert type(parsed) is type(artifact)
    return parsed


def test_what_downstream_executors_read_survives_the_metadata_round_trip(tmp_path):
    """The custom properties one task writes and the next one's executor reads, through the round trip above:
    TFX hands every one over as a JSON struct (ints as floats; Examples' custom `span`, named like its typed
    property, as "custom:span"), so a reader of the raw int value got nothing (DriftCheck recorded span -1)."""
    from tfx.components.util import model_utils
    from tfx.types import standard_artifacts

    from components.artifacts import copy_custom_property, int_custom_value, spans_of
    from components.drift_check.executor import _span
    from components.model_evaluator.executor import CARRIED
    from components.model_pusher.executor import _label_change_refusal
    from components.production_baseline.executor import _no_baseline
    from components.span_example_gen import window as w
    from components.span_example_gen.executor import Executor as SpanExampleGen
    from components.span_example_gen.spec import EXAMPLES_KEY, NEWEST_KEY, PREVIOUS_KEY

    def example_gen(files):  # SpanExampleGen's own recording of what it read
        outputs = {key: standard_artifacts.Examples() for key in (EXAMPLES_KEY, NEWEST_KEY, PREVIOUS_KEY)}
        (tmp_path / "counts.json").write_text(json.dumps([["nda", "train", 3], ["nda", "eval", 1]]))
        SpanExampleGen._record(outputs, w.select_window(files, 0), str(tmp_path / "counts.json"))
        return {key: _downstream(artifact) for key, artifact in outputs.items()}

    first, second = example_gen({0: ["span-0/a.csv"]}), example_gen({0: ["span-0/a.csv"], 1: ["span-1/b.csv"]})
    # DriftCheck: the new span against the one before it; none before the first.
    assert (_span([first[NEWEST_KEY]]), _span([first[PREVIOUS_KEY]])) == (0, -1)
    assert (_span([second[NEWEST_KEY]]), _span([second[PREVIOUS_KEY]])) == (1, 0)
    assert second[NEWEST_KEY].mlmd_artifact.custom_properties["span"].WhichOneof("value") == "struct_value"
    assert spans_of(second[EXAMPLES_KEY]) == [1, 0] and int_custom_value(second[EXAMPLES_KEY], "rows") == 4

    # ProductionBaseline -> ModelEvaluator: `found` decides the comparison; 0 and "" survive too.
    missing, found = standard_artifacts.Model(), standard_artifacts.Model()
    _no_baseline(missing, "")
    found.set_int_custom_property("found", 1)
    found.set_int_custom_property("production_version", 3)
    found.set_string_custom_property("label_change", json.dumps({"added": ["lease"]}))
    missing, found = _downstream(missing), _downstream(found)
    assert (int_custom_value(missing, "found"), int_custom_value(found, "found")) == (0, 1)
    assert missing.get_custom_property("note") is None  # TFX's own getter loses a falsy value
    # ModelEvaluator copies CARRIED onto the blessing; the Pusher reads the blessing and those.
    blessings = []
    for blessed, baseline in ((0, missing), (1, found)):
        blessing = standard_artifacts.ModelBlessing()
        blessing.set_int_custom_property("blessed", blessed)
        for name in CARRIED:
            copy_custom_property(baseline, blessing, name)
        blessings.append(_downstream(blessing))
    assert [model_utils.is_model_blessed(b) for b in blessings] == [False, True]
    assert blessings[0].get_string_custom_property("note") == ""
    refusal = _label_change_refusal({"model_blessing": [blessings[1]]}, {})
    assert "differs from version 3 in production" in refusal, refusal
    assert _label_change_refusal({"model_blessing": [blessings[0]]}, {}) == ""
