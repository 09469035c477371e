"""ImportSchemaGen(schema_file): TFX's component and executor, with the file's digest in the cache key."""

from __future__ import annotations

import hashlib

from tfx import types
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen as TfxImportSchemaGen
from tfx.dsl.components.base import base_component
from tfx.types import standard_artifacts

from components.schema_import.spec import ImportSchemaGenSpec


def schema_digest(schema_file: str) -> str:
    with open(schema_file, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


class ImportSchemaGen(TfxImportSchemaGen):
    SPEC_CLASS = ImportSchemaGenSpec

    def __init__(self, schema_file: str):
        spec = ImportSchemaGenSpec(
            schema_file=schema_file,
            schema_sha256=schema_digest(schema_file),
            schema=types.Channel(type=standard_artifacts.Schema),
        )
        base_component.BaseComponent.__init__(self, spec=spec)
