"""Find the curated schema of a dataset, or draft one with TFDV for review.

Curated schemas live in `schema/<dataset>/schema.pbtxt` and are what the pipeline imports
(ImportSchemaGen). A dataset without one gets a draft inferred from its data and tightened to
the raw-example contract (non-empty `text`, closed `label` domain); the run uses the draft and
says so, and `lexflow schema draft` writes one where a reviewer can check it in.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

from dataclasses import dataclass
from pathlib import Path

from core.errors import UserError
from core.spans import csv_files, resolve_input_pattern
from core.workspace import PROJECT_ROOT
from pipeline.config import PipelineConfig

SCHEMA_DIR = PROJECT_ROOT / "schema"
SCHEMA_FILE = "schema.pbtxt"
# A label with more distinct values than this is not a classification target we can gate.
MAX_LABELS = 1000


@dataclass(frozen=True)
class ResolvedSchema:
    path: Path
    drafted: bool


def curated_schema_path(dataset_name: str) -> Path:
    return SCHEMA_DIR / dataset_name / SCHEMA_FILE


def draft_schema(csv_paths: list[Path]):
    """Infer a schema from CSVs and apply the raw-example contract (docs/architecture.md)."""
    import pandas as pd
    import tensorflow_data_validation as tfdv

    frames = []
    for path in csv_paths:
        try:
            # Empty cells stay missing (NaN), as CsvExampleGen reads them.
            frames.append(pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]))
        except Exception as exc:  # pandas raises many types; all mean "cannot read this file"
            raise UserError(f"{path}: cannot read CSV ({exc})") from None
    frame = pd.concat(frames, ignore_index=True)
    stats = tfdv.generate_statistics_from_dataframe(frame)
    schema = tfdv.infer_schema(stats, max_string_domain_size=MAX_LABELS)

    labels = sorted(frame["label"].dropna().unique().tolist())
    if len(labels) < 2:
        raise UserError(f"{csv_paths[0].parent}: need at least 2 distinct labels to train, found {labels}")
    if len(labels) > MAX_LABELS:
        raise UserError(
            f"{csv_paths[0].parent}: {len(labels)} distinct labels; more than {MAX_LABELS} is not a class set"
        )

    for feature in schema.feature:
        if feature.name == "text":
            feature.presence.min_fraction = 1.0
            feature.presence.min_count = 1
            feature.ClearField("value_count")
            feature.shape.Clear()
            feature.shape.dim.add().size = 1
            feature.ClearField("domain")
            feature.ClearField("string_domain")
        elif feature.name == "label":
            feature.presence.min_fraction = 1.0
            feature.ClearField("value_count")
            feature.shape.Clear()
            feature.shape.dim.add().size = 1
            feature.ClearField("domain")
            feature.string_domain.name = "label"
            feature.string_domain.ClearField("value")
            feature.string_domain.value.extend(labels)
        else:
            # Optional metadata (e.g. `source`): present or not, never a reason to stop a run;
            # no fixed shape, so Transform parses it as VarLen and tolerates gaps.
            feature.presence.min_fraction = 0.0
            feature.presence.min_count = 0
            feature.shape.Clear()
            feature.ClearField("shape")
            feature.value_count.min = 1
            feature.value_count.max = 1
    # Drop the global string domains TFDV made; the label's is inline now.
    del schema.string_domain[:]
    for feature in schema.feature:
        if feature.name not in ("text", "label") and feature.HasField("domain"):
            feature.ClearField("domain")
    schema.default_environment.extend(["TRAINING", "SERVING"])
    for feature in schema.feature:
        if feature.name == "label":
            feature.not_in_environment.append("SERVING")
    return schema


def write_schema(schema, path: Path) -> None:
    import tensorflow_data_validation as tfdv

    path.parent.mkdir(parents=True, exist_ok=True)
    tfdv.write_schema_text(schema, str(path))


def resolve_schema(config: PipelineConfig, draft_dir: Path | None = None) -> ResolvedSchema:
    """The schema a run imports: explicit path, else the curated one, else a fresh draft."""
    if config.schema_path is not None:
        if not config.schema_path.is_file():
            raise UserError(f"schema {config.schema_path} does not exist")
        return ResolvedSchema(config.schema_path, drafted=False)
    curated = curated_schema_path(str(config.dataset_name))
    if curated.is_file():
        return ResolvedSchema(curated, drafted=False)
    data_root = config.local_path("data_root")
    files = csv_files(data_root, resolve_input_pattern(data_root, config.input_pattern))
    dataset = str(config.dataset_name)
    draft_path = (draft_dir or config.local_path("pipeline_root") / "drafted_schema" / dataset) / SCHEMA_FILE
    write_schema(draft_schema(files), draft_path)
    return ResolvedSchema(draft_path, drafted=True)
