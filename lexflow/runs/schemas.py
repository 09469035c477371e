"""Find the curated schema of a dataset, or draft one for review.

Curated schemas live in `schema/<dataset>/schema.pbtxt` and are what the pipeline imports
(ImportSchemaGen, keyed on the file's content). A dataset without one gets a draft made from
every row of its data under the raw-example contract (docs/architecture.md): non-empty `text`,
a closed `label` domain, every other column optional, and the optional columns the project
itself adds or reads declared even when the data has none yet (feedback exports add `source`).
The run uses the draft and says so; `lexflow schema draft` writes one where a reviewer can
check it in. Every value arrives as bytes (SpanExampleGen writes each cell as a BytesList), so
the draft needs no statistics pass and no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.spans import resolve_input_pattern, span_files
from core.workspace import PROJECT_ROOT
from lexflow.runs.preflight import CsvFacts, check_csv, run_files
from pipeline.config import PipelineConfig

SCHEMA_DIR = PROJECT_ROOT / "schema"
SCHEMA_FILE = "schema.pbtxt"
# A label with more distinct values than this is not a classification target we can gate.
MAX_LABELS = 1000
TEXT, LABEL = "text", "label"
# Optional columns of the CSV contract that lexflow writes or reads: `source` (corpus/feedback, added
# by every feedback export), `document` (a document id) and `split` (train/eval) from the user's data.
PROJECT_COLUMNS = ("source", "document", "split")


@dataclass(frozen=True)
class ResolvedSchema:
    path: Path
    drafted: bool


def curated_schema_path(dataset_name: str) -> Path:
    return SCHEMA_DIR / dataset_name / SCHEMA_FILE


def dataset_files(data_root: Path, input_pattern: str | None = None) -> list[Path]:
    """Every CSV of a data root: all its spans (or every matching file of a flat one)."""
    pattern = resolve_input_pattern(data_root, input_pattern)
    if "{SPAN}" not in pattern:
        return sorted(p for p in Path(data_root).glob(pattern) if p.is_file())
    return [path for paths in span_files(data_root, pattern).values() for path in paths]


def draft_schema(csv_paths: list[Path], facts: list[CsvFacts] | None = None) -> Any:
    """A schema for CSVs (every row of every file) under the raw-example contract."""
    from tensorflow_metadata.proto.v0 import schema_pb2

    facts = facts if facts is not None else [check_csv(path) for path in csv_paths]
    labels = sorted({label for f in facts for label in f.labels})
    where = csv_paths[0].parent if csv_paths else "data"
    if len(labels) < 2:
        raise UserError(f"{where}: need at least 2 distinct labels to train, found {labels}")
    if len(labels) > MAX_LABELS:
        raise UserError(f"{where}: {len(labels)} distinct labels; more than {MAX_LABELS} is not a class set")
    optional = [c for f in facts for c in f.columns if c not in (TEXT, LABEL)]
    schema = schema_pb2.Schema()
    for name in (TEXT, LABEL):
        feature = schema.feature.add(name=name, type=schema_pb2.BYTES)
        feature.presence.min_fraction = 1.0
        feature.presence.min_count = 1
        feature.shape.dim.add().size = 1
    label = schema.feature[1]
    label.string_domain.name = LABEL
    label.string_domain.value.extend(labels)
    label.not_in_environment.append("SERVING")
    for name in dict.fromkeys([*optional, *PROJECT_COLUMNS]):
        # Optional metadata: present or not, never a reason to stop a run; no fixed shape, so
        # Transform parses it as VarLen and tolerates gaps.
        feature = schema.feature.add(name=name, type=schema_pb2.BYTES)
        feature.presence.min_fraction = 0.0
        feature.presence.min_count = 0
        feature.value_count.min = 1
        feature.value_count.max = 1
    schema.default_environment.extend(["TRAINING", "SERVING"])
    return schema


def write_schema(schema: Any, path: Path, comment: str = "") -> None:
    from google.protobuf import text_format

    path.parent.mkdir(parents=True, exist_ok=True)
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    path.write_text(header + text_format.MessageToString(schema), encoding="utf-8")


def resolve_schema(config: PipelineConfig, draft_dir: Path | None = None) -> ResolvedSchema:
    """The schema a run imports: explicit path, else the curated one, else a fresh draft."""
    if config.schema_path is not None:
        if not config.schema_path.is_file():
            raise UserError(f"schema {config.schema_path} does not exist")
        return ResolvedSchema(config.schema_path, drafted=False)
    curated = curated_schema_path(str(config.dataset_name))
    if curated.is_file():
        return ResolvedSchema(curated, drafted=False)
    dataset = str(config.dataset_name)
    draft_path = (draft_dir or config.local_path("pipeline_root") / "drafted_schema" / dataset) / SCHEMA_FILE
    files = run_files(config)
    write_schema(draft_schema(files), draft_path, f"Drafted for a run of {config.data_root} (no curated schema).")
    return ResolvedSchema(draft_path, drafted=True)
