"""The options several commands share, declared once: one name, one help text and one path rule each.

Local paths and SQLite URLs follow the workspace rule (`core/workspace.py`) as soon as they are
parsed, so every command resolves them alike. `lexflow compile`'s locations are not here: they are
places inside the pipeline's pods (bucket URIs or in-pod paths), checked and kept verbatim.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from core import workspace


def _path(value: Optional[Path]) -> Optional[Path]:
    return workspace.resolve(value) if value is not None else None


def _database_url(value: Optional[str]) -> Optional[str]:
    return workspace.database_url(value) if value else None


DataRoot = Annotated[
    Optional[Path],
    typer.Option(
        "--data-root",
        help="Dataset folder: spans (span-<N>/*.csv) or flat CSVs. Names the model unless --model-name does. "
        "Default: data/demo (model lexflow).",
        callback=_path,
    ),
]
ModelName = Annotated[
    Optional[str],
    typer.Option("--model-name", help="The model (default: named after the data root, `lexflow` for the demo)."),
]
PipelineRoot = Annotated[
    Optional[Path],
    typer.Option(
        "--pipeline-root", help="Where TFX writes artifacts. Default: artifacts/<model>/pipeline.", callback=_path
    ),
]
MetadataPath = Annotated[
    Optional[Path],
    typer.Option(
        "--metadata-path", help="MLMD SQLite file. Default: artifacts/<model>/metadata.sqlite.", callback=_path
    ),
]
# The model base directory (holds <model>/<version>/), one name everywhere: `--model-base-dir`, the
# config's `model_base_dir`, LEXFLOW_MODEL_BASE_DIR. `--serving-dir` and `serving_dir` are its old names.
ModelBaseDir = Annotated[
    Optional[Path],
    typer.Option(
        "--model-base-dir",
        "--serving-dir",
        help="The model base directory: holds <model>/<version>/, where pushes go. Default: the config's "
        "model_base_dir (run, retrain) or LEXFLOW_MODEL_BASE_DIR (the gateway's commands), else artifacts/serving. "
        "(--serving-dir: old name.)",
        callback=_path,
    ),
]
DatabaseUrl = Annotated[
    Optional[str],
    typer.Option(
        "--database-url",
        help="Feedback store (SQLAlchemy URL). Default: LEXFLOW_DATABASE_URL, else the model's "
        "artifacts/<model>/feedback.sqlite.",
        callback=_database_url,
    ),
]
ReportsDir = Annotated[
    Optional[Path],
    typer.Option(
        "--reports-dir",
        help="Where reports go. Default: LEXFLOW_REPORTS_DIR, else artifacts/<model>/reports.",
        callback=_path,
    ),
]
ConfigFile = Annotated[
    Optional[Path],
    typer.Option("--config", help="YAML/JSON file with PipelineConfig fields (pipeline/config.py).", callback=_path),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show TFX/Beam/TF logs.")]

# The model's settings, shared by `lexflow run` and `lexflow compile` (PipelineConfig validates them).
Schema = Annotated[
    Optional[Path],
    typer.Option("--schema", help="Schema to import. Default: schema/<dataset>/schema.pbtxt, else a TFDV draft."),
]
InputPattern = Annotated[
    Optional[str],
    typer.Option(
        "--input-pattern", help="Glob under the data root, e.g. 'train.csv'. Default: span-{SPAN}/*.csv or *.csv."
    ),
]
TrainSteps = Annotated[
    Optional[int],
    typer.Option(
        "--train-steps",
        help="Training steps with --no-search (the model search sizes its own), or the encoder's with --encoder.",
    ),
]
Search = Annotated[
    Optional[bool],
    typer.Option(
        "--search/--no-search",
        help="Model search before training (default on): family and regularisation chosen on the eval split. "
        "--no-search trains the `train` settings as given.",
    ),
]
BeamArgs = Annotated[Optional[list[str]], typer.Option("--beam-arg", help="Extra Beam pipeline argument (repeatable).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Re-run every component (no cached results).")]
