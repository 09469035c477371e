"""The one typed configuration object of the pipeline.

Everything a run can vary lives here: paths, data layout, text preprocessing, model
hyper-parameters, evaluation thresholds and Beam options. Runners build a
`PipelineConfig` (defaults < config file < command-line overrides) and hand it to
`pipeline.create_pipeline`; Transform and Trainer receive their parts through
`custom_config`, so the module code never reads constants of its own.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_ROOT = REPO_ROOT / "data" / "demo"
DEFAULT_WORK_DIR = Path("artifacts")


class _Strict(BaseModel):
    # Unknown keys in a config file are typos, not extensions: reject them.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, validate_default=True)


class TransformParams(_Strict):
    """Text preprocessing inside the Transform graph (and so inside the served model)."""

    max_tokens: int = Field(400, ge=8, description="Tokens kept per document (truncation by slicing).")
    ngram_max: int = Field(2, ge=1, le=3, description="Word n-grams up to this width (1 = unigrams).")
    vocab_size: int = Field(60_000, ge=100, description="Most frequent n-grams kept; the rest share one OOV id.")
    min_df: int = Field(2, ge=1, description="Drop n-grams seen in fewer training documents than this.")
    length_buckets: list[int] = Field(
        [20, 60], description="Token-count boundaries of the `length_bucket` evaluation slice."
    )


class TrainParams(_Strict):
    """Keras model and training loop."""

    train_steps: int = Field(800, ge=1)
    eval_steps: int = Field(50, ge=1)
    batch_size: int = Field(32, ge=1)
    hidden_units: int = Field(512, ge=8)
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    input_dropout: float = Field(0.2, ge=0.0, lt=1.0, description="Dropout on TF-IDF input weights.")
    learning_rate: float = Field(1e-3, gt=0.0)
    class_weighting: Literal["none", "sqrt", "balanced"] = Field(
        "sqrt", description="Loss weight per class from label frequencies (macro-F1 vs. accuracy trade-off)."
    )
    seed: int = 42


class EvalThresholds(_Strict):
    """Blessing gate of the Evaluator."""

    min_accuracy: float = Field(0.6, ge=0.0, le=1.0)
    min_macro_f1: float = Field(0.5, ge=0.0, le=1.0)
    # "No worse than the last blessed model", with a small tolerance so that retraining on
    # the same data does not flip-flop on noise.
    max_accuracy_drop: float = Field(0.01, ge=0.0, le=1.0)
    max_macro_f1_drop: float = Field(0.01, ge=0.0, le=1.0)


class BeamParams(_Strict):
    # in_memory: on demo-sized data (thousands of rows) worker start-up dominates; measured
    # here, a whole run took 75 s in_memory vs. 107 s multi_processing. Switch for big data.
    direct_running_mode: Literal["in_memory", "multi_threading", "multi_processing"] = "in_memory"
    direct_num_workers: int = Field(0, ge=0, description="0 = one worker per core.")
    extra_args: list[str] = Field(default_factory=list, description="Appended verbatim, e.g. --runner=DataflowRunner.")

    def pipeline_args(self) -> list[str]:
        if any(a.startswith("--runner") for a in self.extra_args):
            return list(self.extra_args)
        return [
            f"--direct_running_mode={self.direct_running_mode}",
            f"--direct_num_workers={self.direct_num_workers}",
            *self.extra_args,
        ]


class PipelineConfig(_Strict):
    pipeline_name: str = Field("lexflow", pattern=r"^[A-Za-z0-9_\-]+$")
    model_name: str = Field("lexflow", pattern=r"^[A-Za-z0-9_\-]+$", description="Name under the serving dir.")
    data_root: Path = DEFAULT_DATA_ROOT
    input_pattern: Optional[str] = Field(
        None, description="Glob under data_root; default: 'span-{SPAN}/*.csv' if span dirs exist, else '*.csv'."
    )
    dataset_name: Optional[str] = Field(None, description="Names the curated schema; default: data_root's folder name.")
    schema_path: Optional[Path] = Field(None, description="Curated schema; default: schema/<dataset_name>/schema.pbtxt.")
    pipeline_root: Path = DEFAULT_WORK_DIR / "pipeline"
    metadata_path: Path = DEFAULT_WORK_DIR / "metadata.sqlite"
    serving_dir: Path = DEFAULT_WORK_DIR / "serving"
    eval_fraction: float = Field(0.2, gt=0.0, lt=1.0, description="Share of hash buckets held out for evaluation.")
    slice_features: list[str] = Field(
        default_factory=lambda: ["source"], description="Raw features to slice metrics by, when the schema has them."
    )
    enable_cache: bool = True
    transform: TransformParams = Field(default_factory=TransformParams)
    train: TrainParams = Field(default_factory=TrainParams)
    thresholds: EvalThresholds = Field(default_factory=EvalThresholds)
    beam: BeamParams = Field(default_factory=BeamParams)

    @field_validator("data_root", "pipeline_root", "metadata_path", "serving_dir", "schema_path")
    @classmethod
    def _absolute(cls, value: Optional[Path]) -> Optional[Path]:
        # TFX stores paths in MLMD; relative ones would mean different things per cwd.
        return None if value is None else Path(value).expanduser().absolute()

    @model_validator(mode="after")
    def _fill_dataset_name(self) -> "PipelineConfig":
        if self.dataset_name is None:
            object.__setattr__(self, "dataset_name", self.data_root.name)
        return self

    @property
    def model_base_dir(self) -> Path:
        """TF Serving's base path: <serving_dir>/<model_name>/<version>/."""
        return self.serving_dir / self.model_name

    def module_custom_config(self) -> dict[str, Any]:
        """What Transform and Trainer receive (JSON-serialisable, part of the cache key)."""
        return {
            "transform": self.transform.model_dump(),
            "train": self.train.model_dump(),
        }

    @classmethod
    def load(cls, path: Optional[Path] = None, **overrides: Any) -> "PipelineConfig":
        """Defaults, then a YAML/JSON file, then non-None keyword overrides (dotted keys allowed)."""
        data: dict[str, Any] = {}
        if path is not None:
            data = _read_config_file(Path(path))
        for key, value in overrides.items():
            if value is None:
                continue
            target = data
            *parents, leaf = key.split(".")
            for part in parents:
                target = target.setdefault(part, {})
            target[leaf] = value
        return cls.model_validate(data)


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix in {".yaml", ".yml"}:
        import yaml

        data = yaml.safe_load(text) or {}
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"config file {path}: top level must be a mapping")
    return data
