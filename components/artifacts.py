"""Reading the facts our components record on artifacts, defined once for the components, the
pipeline and lexflow's MLMD queries (which hold the raw MLMD protos, not TFX Artifact objects)."""

from __future__ import annotations

from typing import Any, Optional

from ml_metadata.proto import metadata_store_pb2

# Input keys through which a copied span leads back to the artifact that really carries it:
# StatisticsGen reads `examples`, ExampleValidator reads `statistics`.
_SPAN_SOURCES = ("examples", "statistics")
_INPUT_EVENTS = (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT)
_OUTPUT_EVENTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)


def _proto(artifact: Any) -> metadata_store_pb2.Artifact:
    # A TFX Artifact wraps its MLMD proto; lexflow's queries hold the proto itself.
    return getattr(artifact, "mlmd_artifact", artifact)


def copy_custom_property(source: Any, target: Any, name: str) -> None:
    """Copy one custom property between TFX Artifacts (when the source has it)."""
    if not source.has_custom_property(name):
        return
    value = source.get_custom_property(name)
    if isinstance(value, (bool, int)):
        target.set_int_custom_property(name, int(value))
    elif isinstance(value, float):
        target.set_float_custom_property(name, value)
    else:
        target.set_string_custom_property(name, str(value))


def spans_of(artifact: Any) -> list[int]:
    """Every span an Examples artifact holds, newest first: SpanExampleGen's `spans` ("3,2,1") for a
    window, else the one span it records (empty when it records none)."""
    proto = _proto(artifact)
    if "spans" in proto.custom_properties:
        text = proto.custom_properties["spans"].string_value
        return [int(s) for s in text.split(",") if s.strip()]
    span = span_of(artifact)
    return [] if span is None else [span]


def span_of(artifact: Any, store: Any = None) -> Optional[int]:
    """The data span of an artifact, or None when it has none.

    ExampleGen writes `span` as a custom property and leaves the typed `span` property at 0.
    StatisticsGen and ExampleValidator copy that typed 0 onto their outputs, so a typed span
    is not a fact: with an MLMD `store`, such an artifact's span is that of the single
    artifact it was computed from (statistics <- examples, anomalies <- statistics <- examples).
    Without a store (inside an executor) the typed value is all there is.
    """
    proto = _proto(artifact)
    if "span" in proto.custom_properties:
        value = proto.custom_properties["span"]
        kind = value.WhichOneof("value")
        return int(getattr(value, kind)) if kind in ("int_value", "string_value", "double_value") else None
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
