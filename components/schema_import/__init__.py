"""ImportSchemaGen keyed on the schema file's content, not only its path.

TFX's ImportSchemaGen has one execution property, the file's path, so its cache key (locally and
in a compiled Kubeflow spec, where it is a task parameter) does not change when the file is edited
in place: an edited curated schema (a new label, an optional column) was silently ignored until a
run without the cache. This subclass adds the file's SHA-256 as a second execution property; the
executor is TFX's own and ignores it. It stays an ImportSchemaGen, so the Kubeflow compiler can
point its path at the copy inside the image (the same file, so the same digest).
"""

from components.schema_import.component import ImportSchemaGen, schema_digest
from components.schema_import.spec import SCHEMA_SHA256_KEY

__all__ = ["SCHEMA_SHA256_KEY", "ImportSchemaGen", "schema_digest"]
