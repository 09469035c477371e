"""`span_of`, the one reader of an artifact's span, on a real (in-memory) ML Metadata store laid
out as TFX 1.16 records it: ExampleGen's span is a custom property; StatisticsGen and
ExampleValidator copy the typed `span` property, which ExampleGen left at 0."""

import pytest
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

from components.artifacts import span_of


@pytest.fixture
def store():
    config = pb.ConnectionConfig()
    config.fake_database.SetInParent()
    return metadata_store.MetadataStore(config)


def _type(store, name):
    artifact_type = pb.ArtifactType(name=name)
    artifact_type.properties["span"] = pb.INT
    return store.put_artifact_type(artifact_type)


def _artifact(store, type_name, custom_span=None, typed_span=None):
    artifact = pb.Artifact(type_id=_type(store, type_name), uri=f"/{type_name}")
    if custom_span is not None:
        artifact.custom_properties["span"].int_value = custom_span
    if typed_span is not None:
        artifact.properties["span"].int_value = typed_span
    [artifact.id] = store.put_artifacts([artifact])
    return store.get_artifacts_by_id([artifact.id])[0]


def _execution(store, name, inputs: dict, outputs: list):
    [execution_id] = store.put_executions([pb.Execution(type_id=store.put_execution_type(pb.ExecutionType(name=name)))])
    events = []
    for key, artifacts in inputs.items():
        for artifact in artifacts:
            event = pb.Event(artifact_id=artifact.id, execution_id=execution_id, type=pb.Event.INPUT)
            event.path.steps.add().key = key
            events.append(event)
    for artifact in outputs:
        event = pb.Event(artifact_id=artifact.id, execution_id=execution_id, type=pb.Event.OUTPUT)
        event.path.steps.add().key = "output"
        events.append(event)
    store.put_events(events)
    return execution_id


def test_statistics_and_anomalies_carry_the_span_of_their_examples(store):
    examples = _artifact(store, "Examples", custom_span=2)
    statistics = _artifact(store, "ExampleStatistics", typed_span=0)
    anomalies = _artifact(store, "ExampleAnomalies", typed_span=0)
    _execution(store, "StatisticsGen", {"examples": [examples]}, [statistics])
    _execution(store, "ExampleValidator", {"statistics": [statistics], "schema": []}, [anomalies])
    assert span_of(examples, store) == span_of(examples) == 2
    assert span_of(statistics, store) == 2 and span_of(anomalies, store) == 2
    # Without a store (inside an executor) only the copied typed value is known.
    assert span_of(statistics) == 0


def test_what_has_no_span_reports_none_and_an_ambiguous_source_keeps_its_own(store):
    first, second = _artifact(store, "Examples", custom_span=1), _artifact(store, "Examples", custom_span=2)
    transformed = _artifact(store, "Examples")  # Transform's output records no span at all
    merged_statistics = _artifact(store, "ExampleStatistics", typed_span=5)
    _execution(store, "Transform", {"examples": [first, second]}, [transformed])
    _execution(store, "StatisticsGen", {"examples": [first, second]}, [merged_statistics])
    assert span_of(transformed, store) is None
    assert span_of(merged_statistics, store) == 5  # two sources: no single span to inherit
    orphan = _artifact(store, "ExampleStatistics", typed_span=3)  # no producer recorded
    assert span_of(orphan, store) == 3


def test_a_cached_execution_reusing_the_statistics_does_not_change_their_source(store):
    examples = _artifact(store, "Examples", custom_span=4)
    statistics = _artifact(store, "ExampleStatistics", typed_span=0)
    _execution(store, "StatisticsGen", {"examples": [examples]}, [statistics])
    _execution(store, "StatisticsGen", {}, [statistics])  # cached: outputs recorded, inputs not
    assert span_of(statistics, store) == 4


def test_kubeflow_encodings_read_as_written():
    """How Kubeflow hands values over: TFX's entry point gives an executor JSON structs (numbers as floats),
    KFP's ML Metadata keeps the key "custom:span" that TFX wrote for Examples' custom `span` next to the typed
    copy it records under "span"."""
    from google.protobuf import json_format

    from components.artifacts import custom_value, int_custom_value, spans_of

    in_a_pod = pb.Artifact()
    json_format.ParseDict({"__value__": -1.0}, in_a_pod.custom_properties["span"].struct_value)
    json_format.ParseDict({"__value__": ""}, in_a_pod.custom_properties["note"].struct_value)
    json_format.ParseDict({"__value__": "1,0"}, in_a_pod.custom_properties["spans"].struct_value)
    assert span_of(in_a_pod) == -1 and int_custom_value(in_a_pod, "span") == -1
    assert custom_value(in_a_pod, "note") == "" and spans_of(in_a_pod) == [1, 0]
    in_kfp_mlmd = pb.Artifact()
    in_kfp_mlmd.custom_properties["span"].double_value = 0.0  # the typed max(span, 0)
    in_kfp_mlmd.custom_properties["custom:span"].double_value = -1.0
    assert span_of(in_kfp_mlmd) == -1
    assert custom_value(pb.Artifact(), "span") is None and span_of(pb.Artifact()) is None
