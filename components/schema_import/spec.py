"""ComponentSpec of ImportSchemaGen keyed on content: TFX's parameters plus the file's SHA-256."""

from tfx.types import standard_component_specs
from tfx.types.component_spec import ExecutionParameter

SCHEMA_SHA256_KEY = "schema_sha256"


class ImportSchemaGenSpec(standard_component_specs.ImportSchemaGenSpec):
    PARAMETERS = {
        **standard_component_specs.ImportSchemaGenSpec.PARAMETERS,
        SCHEMA_SHA256_KEY: ExecutionParameter(type=str),
    }
