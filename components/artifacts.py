"""Reading the facts our components record on artifacts, defined once for the components, the
pipeline and lexflow's MLMD queries (which hold the raw MLMD protos, not TFX Artifact objects)."""

from __future__ import annotations

from typing import Any, Optional

from ml_metadata.proto import metadata_store_pb2


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


def span_of(artifact: Any) -> Optional[int]:
    """The data span of an Examples-like artifact, or None when it records none.

    ExampleGen writes `span` as a custom property and leaves the typed `span` property unset;
    StatisticsGen copies the typed one. The custom property wins; a typed span of 0 next to no
    custom property is read as 0, since that is what the component recorded.
    """
    proto = _proto(artifact)
    if "span" in proto.custom_properties:
        value = proto.custom_properties["span"]
        kind = value.WhichOneof("value")
        return int(getattr(value, kind)) if kind in ("int_value", "string_value", "double_value") else None
    if "span" in proto.properties:
        return int(proto.properties["span"].int_value)
    return None
