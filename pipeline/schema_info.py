"""Facts the pipeline definition needs from the curated schema (read at build time)."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2


def load_schema(path: Path) -> schema_pb2.Schema:
    schema = schema_pb2.Schema()
    text_format.Parse(Path(path).read_text(encoding="utf-8"), schema)
    return schema


def label_domain(schema: schema_pb2.Schema, label: str = "label") -> list[str]:
    """The closed label set: the string domain of the label feature."""
    for feature in schema.feature:
        if feature.name != label:
            continue
        if feature.HasField("string_domain"):
            return list(feature.string_domain.value)
        if feature.HasField("domain"):
            for domain in schema.string_domain:
                if domain.name == feature.domain:
                    return list(domain.value)
    raise ValueError(f"schema has no closed string domain for feature '{label}'")


def feature_names(schema: schema_pb2.Schema) -> set[str]:
    return {feature.name for feature in schema.feature}
