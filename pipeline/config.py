"""The one typed configuration object of the pipeline.

Everything a run can vary lives here: paths, data layout, text preprocessing, model
hyper-parameters, evaluation thresholds and Beam options. Runners build a
`PipelineConfig` (defaults < config file < command-line overrides) and hand it to
`pipeline.create_pipeline`; Transform and Trainer receive their parts through
`custom_config`, so the module code never reads constants of its own.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, field_validator, model_validator
from pydantic_core import core_schema

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_ROOT = REPO_ROOT / "data" / "demo"
DEFAULT_WORK_DIR = Path("artifacts")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def is_uri(value: Any) -> bool:
    """gs://, s3://, minio://, ...: a location in object storage, not a local path."""
    return isinstance(value, str) and bool(_SCHEME.match(value))


class Uri(str):
    """An object-storage location, kept verbatim (Path would collapse "gs://b" to "gs:/b").

    Supports the two Path operations the pipeline uses on locations: `/` and `.name`.
    """

    def __truediv__(self, other: object) -> "Uri":
        return Uri(f"{self.rstrip('/')}/{other}")

    @property
    def name(self) -> str:
        return self.rstrip("/").rsplit("/", 1)[-1]

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls, core_schema.str_schema())


# A local path (made absolute) or, for what a remote orchestrator's pods read and write, a URI.
Location = Union[Uri, Path]


class _Strict(BaseModel):
    # Unknown keys in a config file are typos, not extensions: reject them.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, validate_default=True)


class TransformParams(_Strict):
    """Text preprocessing inside the Transform graph (and so inside the served model)."""

    max_tokens: int = Field(400, ge=8, description="Tokens kept per document (truncation by slicing).")
    ngram_max: int = Field(2, ge=1, le=3, description="Word n-grams up to this width (1 = unigrams).")
    vocab_size: int = Field(60_000, ge=100, description="Most frequent n-grams kept; the rest share one OOV id.")
    min_df: int = Field(2, ge=1, description="Drop n-grams seen in fewer training documents than this.")
    char_ngrams: Optional[tuple[int, int]] = Field(
        None, description="Also character n-grams of each word, padded with a space on both sides (scikit-learn's "
        "char_wb), of widths lo..hi, e.g. [2, 5]; None = words only. They catch inflections and rare spellings "
        "that word n-grams split into one-off terms (measured: +0.01-0.03 macro-F1 on the legal benchmarks).",
    )
    char_vocab_size: int = Field(200_000, ge=100, description="Most frequent character n-grams kept (with char_ngrams).")
    sublinear_tf: bool = Field(
        True, description="Term weight 1 + ln(count) instead of count (scored better on the legal benchmarks)."
    )
    length_buckets: list[int] = Field(
        [20, 60], description="Token-count boundaries of the `length_bucket` evaluation slice."
    )

    @field_validator("char_ngrams")
    @classmethod
    def _char_widths(cls, value: Optional[tuple[int, int]]) -> Optional[tuple[int, int]]:
        if value is not None and not 1 <= value[0] <= value[1] <= 8:
            raise ValueError(f"char_ngrams must be [lo, hi] with 1 <= lo <= hi <= 8, got {list(value)}")
        return value


class TrainParams(_Strict):
    """Keras model and training loop."""

    train_steps: int = Field(800, ge=1)
    eval_steps: int = Field(50, ge=1)
    batch_size: int = Field(32, ge=1)
    hidden_units: int = Field(512, ge=0, description="Width of the hidden layer; 0 = a linear model over the n-grams.")
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    input_dropout: float = Field(0.2, ge=0.0, lt=1.0, description="Dropout on TF-IDF input weights.")
    learning_rate: float = Field(1e-3, gt=0.0)
    lr_decay: Literal["none", "cosine"] = Field(
        "none", description="cosine: decay the learning rate to 0 over train_steps, so Adam settles at the "
        "optimum instead of wandering around it (less run-to-run noise for the linear SVM head)."
    )
    class_weighting: Union[Literal["none", "sqrt", "balanced"], Annotated[float, Field(ge=0.0, le=2.0)]] = Field(
        "sqrt", description="Loss weight per class from label frequencies (macro-F1 vs. accuracy trade-off); "
        "a number p weighs class c by (N / (C * n_c)) ** p (above 1 favours rare classes more than 'balanced')."
    )
    loss: Literal["crossentropy", "squared_hinge"] = Field(
        "crossentropy", description="squared_hinge: a one-vs-rest linear SVM (with hidden_units 0 and l2 > 0); scores are then sigmoid(margin)."
    )
    l2: float = Field(0.0, ge=0.0, description="L2 penalty on the n-gram weights, added to the mean example loss.")
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


class SpanParams(_Strict):
    """Which ingested spans (corpus = span 0, each feedback export one more) train and evaluate a model."""

    window: int = Field(
        0, ge=0, description="Latest N spans to train and evaluate on; 0 = all (the corpus plus all feedback)."
    )


class DriftParams(_Strict):
    """DriftCheck: a new span against the previous one (and pending feedback against the data, for retrain)."""

    label_linf: float = Field(0.2, gt=0.0, le=1.0, description="L-infinity distance of label distributions.")
    length_jsd: float = Field(0.2, gt=0.0, le=1.0, description="Jensen-Shannon divergence of token counts.")
    # Small samples read as more divergent (measured: 45 in-distribution rows 0.10, 200 rows 0.02,
    # 200 rows in a shifted drafting style 0.29), hence the margin.
    vocabulary_jsd: float = Field(0.15, gt=0.0, le=1.0, description="Jensen-Shannon divergence of token distributions.")
    oov_rate: float = Field(0.2, gt=0.0, le=1.0, description="Share of new tokens unseen in the previous span.")
    fail_on_drift: bool = Field(False, description="Stop the run on drift (default: report it; feedback is expected to shift).")

    def thresholds(self) -> dict[str, float]:
        return self.model_dump(exclude={"fail_on_drift"})


class RetrainPolicy(_Strict):
    """When `lexflow retrain` runs the pipeline: any one trigger is enough."""

    min_new_feedback: int = Field(200, ge=1, description="Feedback rows not yet exported.")
    accuracy_window: int = Field(200, ge=1, description="Live accuracy is measured over the last N feedback items...")
    min_accuracy_feedback: int = Field(50, ge=1, description="...once at least this many of them judge a prediction.")
    min_live_accuracy: float = Field(0.8, ge=0.0, le=1.0, description="Retrain when live accuracy falls below this.")
    on_drift: bool = Field(True, description="Retrain when pending feedback drifts from the latest span.")
    min_drift_rows: int = Field(50, ge=1, description="Pending feedback rows needed before drift is measured.")
    watch_interval_seconds: float = Field(300.0, gt=0.0, description="How often `lexflow retrain --watch` checks.")


class PipelineConfig(_Strict):
    pipeline_name: str = Field("lexflow", pattern=r"^[A-Za-z0-9_\-]+$")
    model_name: str = Field("lexflow", pattern=r"^[A-Za-z0-9_\-]+$", description="Name under the serving dir.")
    data_root: Location = DEFAULT_DATA_ROOT
    input_pattern: Optional[str] = Field(
        None, description="Glob under data_root; default: 'span-{SPAN}/*.csv' if span dirs exist, else '*.csv'."
    )
    dataset_name: Optional[str] = Field(None, description="Names the curated schema; default: data_root's folder name.")
    schema_path: Optional[Path] = Field(None, description="Curated schema; default: schema/<dataset_name>/schema.pbtxt.")
    pipeline_root: Location = DEFAULT_WORK_DIR / "pipeline"
    metadata_path: Path = DEFAULT_WORK_DIR / "metadata.sqlite"
    serving_dir: Location = DEFAULT_WORK_DIR / "serving"
    eval_fraction: float = Field(0.2, gt=0.0, lt=1.0, description="Share of hash buckets held out for evaluation.")
    slice_features: list[str] = Field(
        default_factory=lambda: ["source"], description="Raw features to slice metrics by, when the schema has them."
    )
    enable_cache: bool = True
    transform: TransformParams = Field(default_factory=TransformParams)
    train: TrainParams = Field(default_factory=TrainParams)
    thresholds: EvalThresholds = Field(default_factory=EvalThresholds)
    beam: BeamParams = Field(default_factory=BeamParams)
    spans: SpanParams = Field(default_factory=SpanParams)
    drift: DriftParams = Field(default_factory=DriftParams)
    retrain: RetrainPolicy = Field(default_factory=RetrainPolicy)

    @field_validator("data_root", "pipeline_root", "metadata_path", "serving_dir", "schema_path", mode="plain")
    @classmethod
    def _absolute(cls, value: Any, info) -> Optional[Union[Path, Uri]]:
        if value is None and info.field_name == "schema_path":
            return None
        if is_uri(value) and info.field_name in ("data_root", "pipeline_root", "serving_dir"):
            return Uri(value)
        if not isinstance(value, (str, Path)):
            raise ValueError("expected a path")
        # TFX stores paths in MLMD; relative ones would mean different things per cwd.
        return Path(value).expanduser().absolute()

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
            "transform": self.transform.model_dump(mode="json"),
            "train": self.train.model_dump(mode="json"),
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
