"""Reading the facts our components record on artifacts, defined once for the components, the
pipeline and lexflow's MLMD queries (which hold the raw MLMD protos, not TFX Artifact objects)."""

from __future__ import annotations

from typing import Any, Optional

from google.protobuf import json_format
from ml_metadata.proto import metadata_store_pb2

# Input keys through which a copied span leads back to the artifact that really carries it:
# StatisticsGen reads `examples`, ExampleValidator reads `statistics`.
_SPAN_SOURCES = ("examples", "statistics")
_INPUT_EVENTS = (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT)
_OUTPUT_EVENTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
# TFX's key for a custom property named like a property of the artifact's type (Examples' `span`) when it
# writes artifacts as JSON metadata (tfx.types.artifact.CUSTOM_PROPERTIES_PREFIX).
_CUSTOM_PREFIX = "custom:"
_JSON_SINGLE_VALUE_KEY = "__value__"  # how TFX wraps a scalar in a struct (tfx.types.artifact)


def _proto(artifact: Any) -> metadata_store_pb2.Artifact:
    # A TFX Artifact wraps its MLMD proto; lexflow's queries hold the proto itself.
    return getattr(artifact, "mlmd_artifact", artifact)


def custom_value(artifact: Any, name: str) -> Any:
    """The value of a custom property however it is stored; None when the artifact has none.

    On Kubeflow (Vertex AI and open-source KFP alike) an executor never sees the MLMD values its upstream
    wrote: TFX's entry point turns each input artifact's JSON metadata into custom properties that are all
    JSON structs, numbers as floats (kubeflow_v2_entrypoint_utils `_parse_raw_artifact`), and a custom
    property named like a property of the type (Examples' `span`) travels as "custom:span". The raw proto
    then has no int/string value to read, and TFX's own `get_custom_property` returns None for a struct
    holding 0 or "". KFP's ML Metadata records the metadata keys as they are, "custom:span" included.
    """
    proto = _proto(artifact)
    for key in (_CUSTOM_PREFIX + name, name):
        if key not in proto.custom_properties:
            continue
        value = proto.custom_properties[key]
        kind = value.WhichOneof("value")
        if kind == "struct_value":
            decoded = json_format.MessageToDict(value.struct_value)
            return decoded.get(_JSON_SINGLE_VALUE_KEY, decoded)
        return getattr(value, kind) if kind else None
    return None


def int_custom_value(artifact: Any, name: str) -> Optional[int]:
    """An int custom property (1.0 after Kubeflow's round trip is 1); None when absent or not a number."""
    value = custom_value(artifact, name)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return int(value) if isinstance(value, (bool, int, float)) else None


def copy_custom_property(source: Any, target: Any, name: str) -> None:
    """Copy one custom property between TFX Artifacts (when the source has it)."""
    value = custom_value(source, name)
    if value is None:
        return
    if isinstance(value, (bool, int)):
        target.set_int_custom_property(name, int(value))
    elif isinstance(value, float):
        target.set_float_custom_property(name, value)
    else:
        target.set_string_custom_property(name, str(value))


def spans_of(artifact: Any) -> list[int]:
    """Every span an Examples artifact holds, newest first: SpanExampleGen's `spans` ("3,2,1") for a
    window, else the one span it records (empty when it records none)."""
    text = custom_value(artifact, "spans")
    if text is not None:
        return [int(s) for s in str(text).split(",") if s.strip()]
    span = span_of(artifact)
    return [] if span is None else [span]


def span_of(artifact: Any, store: Any = None) -> Optional[int]:
    """The data span of an artifact, or None when it has none.

    ExampleGen writes `span` as a custom property (-1: none) and the typed `span` property as max(span, 0).
    StatisticsGen and ExampleValidator copy that typed 0 onto their outputs, so a typed span
    is not a fact: with an MLMD `store`, such an artifact's span is that of the single
    artifact it was computed from (statistics <- examples, anomalies <- statistics <- examples).
    Without a store (inside an executor) the typed value is all there is.
    """
    proto = _proto(artifact)
    if custom_value(proto, "span") is not None:
        return int_custom_value(proto, "span")
    if "span" not in proto.properties:
        return None
    source = _computed_from(store, proto) if store is not None and proto.id else None
    if source is not None:
        return span_of(source, store)
    return int(proto.properties["span"].int_value)


def _computed_from(store: Any, proto: metadata_store_pb2.Artifact) -> Optional[metadata_store_pb2.Artifact]:
    """The one `examples`/`statistics` input of the execution that produced `proto`, if exactly one."""
    produced_by = [e.execution_id for e in store.get_events_by_artifact_ids([proto.id]) if e.type in _OUTPUT_EVENTS]
    if not produced_by:
        return None
    # A cached execution re-records its outputs: the producer is the first execution.
    events = store.get_events_by_execution_ids([min(produced_by)])
    for key in _SPAN_SOURCES:
        ids = [
            e.artifact_id
            for e in events
            if e.type in _INPUT_EVENTS and any(step.HasField("key") and step.key == key for step in e.path.steps)
        ]
        if len(ids) == 1:
            return store.get_artifacts_by_id(ids)[0]
    return None
