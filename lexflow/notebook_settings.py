"""Which pipeline run the notebooks read: environment variables, else the local runner's defaults.

A notebook's working directory is wherever Jupyter was started (often `notebooks/`), so the
defaults are resolved against the repository root, never the current directory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from pipeline.config import REPO_ROOT, PipelineConfig

METADATA_PATH = "LEXFLOW_METADATA_PATH"
PIPELINE_ROOT = "LEXFLOW_PIPELINE_ROOT"
PIPELINE_NAME = "LEXFLOW_PIPELINE_NAME"
MODEL_VERSION = "LEXFLOW_MODEL_VERSION"
SPAN = "LEXFLOW_SPAN"


def _default(field: str) -> Path:
    return REPO_ROOT / PipelineConfig.model_fields[field].default


def _path(value: Optional[str], default: Path) -> Path:
    if not value:
        return default
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


@dataclass(frozen=True)
class NotebookSettings:
    metadata_path: Path
    pipeline_root: Path
    pipeline_name: str
    model_version: Optional[str]  # None: the newest pushed version / the latest Evaluator run
    span: Optional[int]  # None: every span the store knows

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "NotebookSettings":
        env = os.environ if environ is None else environ
        span = env.get(SPAN, "").strip()
        return cls(
            metadata_path=_path(env.get(METADATA_PATH), _default("metadata_path")),
            pipeline_root=_path(env.get(PIPELINE_ROOT), _default("pipeline_root")),
            pipeline_name=env.get(PIPELINE_NAME) or PipelineConfig.model_fields["pipeline_name"].default,
            model_version=env.get(MODEL_VERSION, "").strip() or None,
            span=int(span) if span else None,
        )

    def describe(self) -> str:
        return "\n".join(
            [
                f"metadata (MLMD, SQLite): {self.metadata_path}",
                f"pipeline root:           {self.pipeline_root}",
                f"pipeline name:           {self.pipeline_name}",
                f"model version:           {self.model_version or 'latest'}",
            ]
        )
