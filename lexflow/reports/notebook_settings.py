"""Which pipeline run the notebooks read: LEXFLOW_* environment variables, else the shared defaults.

Paths follow the workspace rule (`core/workspace.py`); a notebook's working directory is
`notebooks/`, so each notebook points LEXFLOW_HOME at the repository root before reading these.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from core import workspace

MODEL_NAME = "LEXFLOW_MODEL_NAME"
DATA_ROOT = "LEXFLOW_DATA_ROOT"
METADATA_PATH = "LEXFLOW_METADATA_PATH"
PIPELINE_ROOT = "LEXFLOW_PIPELINE_ROOT"
PIPELINE_NAME = "LEXFLOW_PIPELINE_NAME"
MODEL_VERSION = "LEXFLOW_MODEL_VERSION"
SPAN = "LEXFLOW_SPAN"
RUN = "LEXFLOW_RUN"


@dataclass(frozen=True)
class NotebookSettings:
    metadata_path: Path
    pipeline_root: Path
    pipeline_name: str
    model_version: Optional[str]  # None: the newest pushed version (the model that serves)
    span: Optional[int]  # None: every span the store knows
    run: Optional[str] = None  # a pipeline run id, or "latest" (whose candidate may have been refused)
    model_name: str = workspace.DEFAULT_MODEL_NAME

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> NotebookSettings:
        env = os.environ if environ is None else environ
        span = env.get(SPAN, "").strip()
        # The model as every command names it: LEXFLOW_MODEL_NAME, else the one LEXFLOW_DATA_ROOT trains.
        data_root = env.get(DATA_ROOT)
        model = env.get(MODEL_NAME) or (
            workspace.model_name_for(workspace.dataset_name(data_root)) if data_root else workspace.DEFAULT_MODEL_NAME
        )
        return cls(
            metadata_path=workspace.resolve(env.get(METADATA_PATH) or workspace.metadata_path(model)),
            pipeline_root=workspace.resolve(env.get(PIPELINE_ROOT) or workspace.pipeline_root(model)),
            pipeline_name=env.get(PIPELINE_NAME) or model,
            model_name=model,
            model_version=env.get(MODEL_VERSION, "").strip() or None,
            span=int(span) if span else None,
            run=env.get(RUN, "").strip() or None,
        )

    def describe(self) -> str:
        return "\n".join(
            [
                f"model:                   {self.model_name}",
                f"metadata (MLMD, SQLite): {self.metadata_path}",
                f"pipeline root:           {self.pipeline_root}",
                f"pipeline name:           {self.pipeline_name}",
                f"model version:           {self.model_version or 'the served one (newest pushed)'}",
                f"pipeline run:            {self.run or '-'}",
            ]
        )
