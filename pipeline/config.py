"""The one typed configuration object of the pipeline.

Everything a run can vary lives here: paths, data layout, text preprocessing, model
hyper-parameters, evaluation thresholds and Beam options. Runners build a
`PipelineConfig` (defaults < config file < command-line overrides) and hand it to
`pipeline.create_pipeline`. Each component gets only the part it uses, so only that part is in
its cache key: Transform its `transform` section, the ModelSearch `transform`, `train` and
`tuning`, the Trainer `transform` and `train` (`trainer/params.py`), the Evaluator the
thresholds; retrain-policy settings reach no component.
Relative paths follow the workspace rule (`core/workspace.py`).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Optional

from pydantic import Field, ValidationInfo, field_validator, model_validator

from core import workspace
from core.errors import UserError
from core.strict import StrictModel
from core.workspace import Location, is_uri
from trainer.encoder.params import EncoderParams
from trainer.params import TrainParams, TransformParams, TuningParams

# Validation context of `PipelineConfig.load`: the override keys given (command-line options), and the
# orchestrator the run is for.
GIVEN, TARGET, KUBEFLOW = "given", "target", "kubeflow"
# Places a Kubeflow run's pods read or write: (field, command-line option).
POD_LOCATIONS = (
    ("pipeline_root", "--pipeline-root"),
    ("data_root", "--data-root"),
    ("model_base_dir", "--model-base-dir"),
)
# Old names of fields, still read from config files and overrides (docs/architecture.md, "Names").
FIELD_ALIASES = {"serving_dir": "model_base_dir"}


class EvalThresholds(StrictModel):
    """Blessing gate of the Evaluator."""

    min_accuracy: float = Field(0.6, ge=0.0, le=1.0)
    min_macro_f1: float = Field(0.5, ge=0.0, le=1.0)
    # "No worse than the model in production" (ProductionBaseline), with a small tolerance so that retraining on
    # the same data does not flip-flop on noise.
    max_accuracy_drop: float = Field(0.01, ge=0.0, le=1.0)
    max_macro_f1_drop: float = Field(0.01, ge=0.0, le=1.0)


class BeamParams(StrictModel):
    # in_memory: on demo-sized data (thousands of rows) worker start-up dominates; measured
    # here, a whole run took 75 s in_memory vs. 107 s multi_processing. Switch for big data.
    direct_running_mode: Literal["in_memory", "multi_threading", "multi_processing"] = "in_memory"
    direct_num_workers: int = Field(
        0,
        ge=0,
        description="0 = one per core (locally; one in in_memory mode) or as many as each task's CPU and memory "
        "limits allow (Kubeflow).",
    )
    # Beam's default (dill) pickles each component's Beam graph noticeably slower than cloudpickle:
    # measured on the demo, 58.9 s -> 52.4 s for the whole run (BENCHMARKS.md, "Pipeline cost").
    pickle_library: Literal["cloudpickle", "dill", "default"] = "cloudpickle"
    worker_memory_gb: float = Field(
        2.0,
        gt=0.0,
        description="Memory one DirectRunner worker needs; on Kubeflow a task runs at most "
        "memory_limit_gb / worker_memory_gb workers.",
    )
    extra_args: list[str] = Field(default_factory=list, description="Appended verbatim, e.g. --runner=DataflowRunner.")

    @property
    def runner(self) -> str:
        # The last --runner wins, as in Beam's own argument parsing.
        runners = [a.partition("=")[2] for a in self.extra_args if a.startswith("--runner=")]
        return runners[-1] if runners else "DirectRunner"

    def pipeline_args(self) -> list[str]:
        if self.runner != "DirectRunner":
            return list(self.extra_args)
        args = [
            f"--direct_running_mode={self.direct_running_mode}",
            f"--direct_num_workers={self.local_workers()}",
            f"--pickle_library={self.pickle_library}",
            *self.extra_args,
        ]
        if not names_worker_dependencies(args):
            # Without one of these, every TFX Beam executor packages TFX into a `tfx_ephemeral` sdist
            # under /tmp/tmpXXXX/build (tfx/utils/dependency_utils.py `make_beam_dependency_flags`),
            # ~49 MB left behind per component run, for workers the DirectRunner does not have: its
            # workers are this interpreter (or subprocesses of it), and it stages nothing.
            args.append(f"--setup_file={workspace.PROJECT_ROOT / 'setup.py'}")
        return args

    def local_workers(self) -> int:
        """`direct_num_workers` as this machine's run gets it. in_memory has one worker: Beam's FnApiRunner
        given N cuts every bundle into N parts run by N embedded workers in threads of the same process
        (the GIL shared, each DoFn set up N times); measured on the demo, 67.6 s with N = 2 cores vs.
        58.9 s with 1."""
        if self.direct_num_workers == 0 and self.direct_running_mode == "in_memory":
            return 1
        return self.direct_num_workers

    def workers_for(self, task: TaskResources) -> int:
        """DirectRunner workers in one Kubeflow task: no more than its CPU limit and its memory limit allow
        (`direct_num_workers: 0` would mean one per core of the node, whatever the pod may use)."""
        fits = max(1, min(math.floor(task.cpu_limit), math.floor(task.memory_limit_gb / self.worker_memory_gb)))
        return min(self.direct_num_workers, fits) if self.direct_num_workers else fits


# Beam options TFX takes as "the workers' dependencies are given" (tfx/utils/dependency_utils.py).
WORKER_DEPENDENCY_OPTIONS = (
    "extra_package",
    "extra_packages",
    "setup_file",
    "requirements_file",
    "sdk_container_image",
    "worker_harness_container_image",
)


def names_worker_dependencies(args: list[str]) -> bool:
    return any(a[2:].partition("=")[0] in WORKER_DEPENDENCY_OPTIONS and a.partition("=")[2] for a in args)


class SpanParams(StrictModel):
    """Which ingested spans (corpus = span 0, each feedback export one more) train and evaluate a model."""

    window: int = Field(
        0, ge=0, description="Latest N spans to train and evaluate on; 0 = all (the corpus plus all feedback)."
    )


class DriftParams(StrictModel):
    """DriftCheck: a new span against the previous one (and pending feedback against the data, for retrain)."""

    label_linf: float = Field(0.2, gt=0.0, le=1.0, description="L-infinity distance of label distributions.")
    length_jsd: float = Field(0.2, gt=0.0, le=1.0, description="Jensen-Shannon divergence of token counts.")
    # Small samples read as more divergent (measured: 45 in-distribution rows 0.10, 200 rows 0.02,
    # 200 rows in a shifted drafting style 0.29), hence the margin.
    vocabulary_jsd: float = Field(0.15, gt=0.0, le=1.0, description="Jensen-Shannon divergence of token distributions.")
    oov_rate: float = Field(0.2, gt=0.0, le=1.0, description="Share of new tokens unseen in the previous span.")
    fail_on_drift: bool = Field(
        False, description="Stop the run on drift (default: report it; feedback is expected to shift)."
    )

    def thresholds(self) -> dict[str, float]:
        return self.model_dump(exclude={"fail_on_drift"})


class RetrainPolicy(StrictModel):
    """When `lexflow retrain` runs the pipeline: any one trigger is enough."""

    min_new_feedback: int = Field(200, ge=1, description="Feedback rows not yet exported.")
    accuracy_window: int = Field(200, ge=1, description="Live accuracy is measured over the last N feedback items...")
    min_accuracy_feedback: int = Field(50, ge=1, description="...once at least this many of them judge a prediction.")
    min_live_accuracy: float = Field(0.8, ge=0.0, le=1.0, description="Retrain when live accuracy falls below this.")
    on_drift: bool = Field(True, description="Retrain when pending feedback drifts from the latest span.")
    min_drift_rows: int = Field(50, ge=1, description="Pending feedback rows needed before drift is measured.")
    watch_interval_seconds: float = Field(300.0, gt=0.0, description="How often `lexflow retrain --watch` checks.")


class TaskResources(StrictModel):
    """CPU (cores) and memory (GB, decimal as Kubernetes' "G") of one pipeline task's pod on Kubeflow."""

    cpu_request: float = Field(0.5, gt=0.0)
    cpu_limit: float = Field(1.0, gt=0.0)
    memory_request_gb: float = Field(1.0, gt=0.0)
    memory_limit_gb: float = Field(2.0, gt=0.0)

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> TaskResources:
        if self.cpu_limit < self.cpu_request or self.memory_limit_gb < self.memory_request_gb:
            raise ValueError("a limit below its request")
        return self


def _heavy() -> TaskResources:
    return TaskResources(cpu_request=1.0, cpu_limit=2.0, memory_request_gb=4.0, memory_limit_gb=8.0)


class ResourceParams(StrictModel):
    """Requests and limits of each task on Kubeflow (ignored by the local runner): Transform, Trainer
    and Evaluator hold the data and the model in memory and are sized on their own."""

    default: TaskResources = Field(default_factory=TaskResources, description="Every other task.")
    transform: TaskResources = Field(default_factory=_heavy)
    trainer: TaskResources = Field(default_factory=_heavy)
    evaluator: TaskResources = Field(default_factory=_heavy)

    def for_node(self, node_id: str) -> TaskResources:
        # The model search trains models as the Trainer does: it gets the Trainer's resources.
        heavy = {"Transform": self.transform, "ModelSearch": self.trainer, "Trainer": self.trainer}
        return {**heavy, "Evaluator": self.evaluator}.get(node_id, self.default)


# Where the KFP driver and launcher mount their own volumes in every task's pod (kubeflow/pipelines
# backend/src/v2/compiler/argocompiler/container.go, component/constants.go; 2.3-2.17): a volume of ours
# there would collide with theirs.
KFP_RESERVED_PATHS = ("/kfp-launcher", "/gcs", "/s3", "/minio", "/.local", "/.cache", "/.config", "/kfp-workspace")
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"  # KFP 2.0 names each pod volume after its claim: a label
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


class VolumeMount(StrictModel):
    """A PersistentVolumeClaim every task of the compiled pipeline mounts (kfp-kubernetes' `mount_pvc`)."""

    claim: str = Field(pattern=_DNS_LABEL, max_length=63, description="The PVC's name, in the run's namespace.")
    mount_path: str = Field(description="Absolute path inside every task's pod.")

    @field_validator("mount_path")
    @classmethod
    def _in_pod_path(cls, value: str) -> str:
        path = PurePosixPath(value)
        if not path.is_absolute() or ".." in path.parts or str(path) == "/":
            raise ValueError(f"{value}: an absolute path inside the pods, not / (e.g. /data)")
        if any(path.is_relative_to(r) or PurePosixPath(r).is_relative_to(path) for r in KFP_RESERVED_PATHS):
            raise ValueError(f"{value}: the KFP launcher mounts its own volumes at {', '.join(KFP_RESERVED_PATHS)}")
        return str(path)


class SecretEnv(StrictModel):
    """Keys of a Kubernetes Secret as environment variables of every task (kfp-kubernetes' `use_secret_as_env`)."""

    secret: str = Field(
        pattern=_DNS_SUBDOMAIN, max_length=253, description="The Secret's name, in the run's namespace."
    )
    env: dict[str, str] = Field(min_length=1, description="Secret key -> environment variable.")

    @field_validator("env")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, variable in value.items():
            if not re.fullmatch(r"[-._a-zA-Z0-9]+", key):
                raise ValueError(f"'{key}' is not a Secret key ([-._a-zA-Z0-9]+)")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
                raise ValueError(f"'{variable}' is not an environment variable name")
        return value


class KubeflowParams(StrictModel):
    """What the compiled pipeline's pods get from Kubernetes (the spec's platform config; ignored locally).

    The loop's shared storage: the data root and the model base dir as in-pod paths on ReadWriteMany
    volumes that the gateways and TF Serving mount too (deploy/kubeflow, docs/kubeflow.md)."""

    volumes: list[VolumeMount] = Field(default_factory=list)
    secrets_as_env: list[SecretEnv] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> KubeflowParams:
        claims = [v.claim for v in self.volumes]
        paths = [v.mount_path for v in self.volumes]
        variables = [name for s in self.secrets_as_env for name in s.env.values()]
        for what, names in (("claim", claims), ("mount_path", paths), ("environment variable", variables)):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{what} {twice[0]} given twice")
        return self

    def volume_of(self, path: str) -> Optional[VolumeMount]:
        """The declared volume an in-pod path lies on, if any."""
        inside = [v for v in self.volumes if PurePosixPath(path).is_relative_to(v.mount_path)]
        return max(inside, key=lambda v: len(v.mount_path), default=None)


def kubeflow_pipeline_name(name: str) -> str:
    """`name` as TFX's Kubeflow compiler and the KFP API server take it ([a-z0-9][a-z0-9-]{0,127}):
    lowercase, every other character a hyphen (`cuad_clauses` -> `cuad-clauses`); "" when nothing is left."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:128].rstrip("-")


class PipelineConfig(StrictModel):
    pipeline_name: str = Field("", pattern=r"^[A-Za-z0-9_\-]+$", description="Default: the model name.")
    model_name: str = Field(
        "",
        pattern=r"^[A-Za-z0-9_\-]+$",
        description="Name under the model base dir; default: the dataset's name (`lexflow` for the embedded demo).",
    )
    data_root: Location = workspace.DEFAULT_DATA_ROOT
    input_pattern: Optional[str] = Field(
        None, description="Glob under data_root; default: 'span-{SPAN}/*.csv' if span dirs exist, else '*.csv'."
    )
    dataset_name: str = Field(
        "", description="Names the curated schema (and by default the model); default: data_root's folder name."
    )
    schema_path: Optional[Path] = Field(
        None, description="Curated schema; default: schema/<dataset_name>/schema.pbtxt."
    )
    # Each model has its own pipeline root and metadata store (artifacts/<model_name>/...) and its own
    # model directory (<model_base_dir>/<model_name>/), so one dataset's run never touches another's.
    pipeline_root: Location = Field(Path(""), description="Default: artifacts/<model_name>/pipeline.")
    metadata_path: Path = Field(Path(""), description="Default: artifacts/<model_name>/metadata.sqlite.")
    model_base_dir: Location = Field(
        workspace.DEFAULT_SERVING_DIR,
        description="The model base directory: holds <model_name>/<version>/ (old name: serving_dir).",
    )
    eval_fraction: float = Field(
        0.2,
        gt=0.0,
        lt=1.0,
        description="Share of hash buckets held out for evaluation where the data gives no eval rows.",
    )
    validation_fraction: float = Field(
        0.2,
        gt=0.0,
        lt=1.0,
        description="Share of the training side's hash buckets held out for validation: the model search and the "
        "temperature are chosen on it, never on the eval split; the final model then trains on train + validation.",
    )
    slice_features: list[str] = Field(
        default_factory=lambda: ["source"], description="Raw features to slice metrics by, when the schema has them."
    )
    enable_cache: bool = True
    transform: TransformParams = Field(default_factory=TransformParams)
    train: TrainParams = Field(default_factory=TrainParams)
    encoder: Optional[EncoderParams] = Field(
        None,
        description="A pretrained BERT checkpoint to fine-tune instead of the TF-IDF model (trainer/encoder/); "
        "None = the TF-IDF model. Its train_steps/eval_steps replace train's.",
    )
    tuning: TuningParams = Field(default_factory=TuningParams)
    thresholds: EvalThresholds = Field(default_factory=EvalThresholds)
    beam: BeamParams = Field(default_factory=BeamParams)
    spans: SpanParams = Field(default_factory=SpanParams)
    drift: DriftParams = Field(default_factory=DriftParams)
    retrain: RetrainPolicy = Field(default_factory=RetrainPolicy)
    resources: ResourceParams = Field(default_factory=ResourceParams)
    kubeflow: KubeflowParams = Field(default_factory=KubeflowParams)
    allow_label_change: bool = Field(
        False, description="Push a blessed model whose label set differs from the model in production."
    )

    @field_validator("data_root", "pipeline_root", "metadata_path", "model_base_dir", "schema_path", mode="plain")
    @classmethod
    def _absolute(cls, value: Any, info: ValidationInfo) -> Optional[Location]:
        if value is None and info.field_name == "schema_path":
            return None
        if not isinstance(value, (str, Path)):
            raise ValueError("expected a path")
        # TFX stores paths in MLMD: relative ones would mean different things per working directory.
        if info.field_name in ("data_root", "pipeline_root", "model_base_dir"):
            return workspace.resolve_location(value)
        return workspace.resolve(value)

    @model_validator(mode="before")
    @classmethod
    def _isolated_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        """Names and places derived from the dataset, unless given: the demo dataset's model is
        `lexflow`; any other dataset names its model after its folder."""
        if not isinstance(data, dict):
            return data
        data = _renamed(dict(data))
        if (info.context or {}).get(TARGET) == KUBEFLOW:
            _check_pod_locations(data)  # as given: validation makes relative paths absolute here
        data_root = data.get("data_root") or workspace.DEFAULT_DATA_ROOT
        data["dataset_name"] = data.get("dataset_name") or workspace.dataset_name(data_root)
        data["model_name"] = data.get("model_name") or workspace.model_name_for(data["dataset_name"])
        data.setdefault("pipeline_name", data["model_name"])
        data["pipeline_root"] = data.get("pipeline_root") or workspace.pipeline_root(data["model_name"])
        data["metadata_path"] = data.get("metadata_path") or workspace.metadata_path(data["model_name"])
        return data

    @model_validator(mode="after")
    def _options_agree(self, info: ValidationInfo) -> PipelineConfig:
        """What the command-line options (`load`'s overrides) mean together: one check for every command."""
        context = info.context or {}
        given = context.get(GIVEN, frozenset())
        if self.encoder is not None:
            if ("tuning.enabled" in given and self.tuning.enabled) or "tuning.time_budget_seconds" in given:
                # The search chooses among the TF-IDF families; an encoder is the model itself.
                raise ValueError(
                    "--search/--search-budget: no model search runs with an encoder (the encoder is the model)"
                )
            # With an encoder the step options count its steps (validated as train's were).
            if "train.train_steps" in given:
                self.encoder.train_steps = self.train.train_steps
            if "train.eval_steps" in given:
                self.encoder.eval_steps = self.train.eval_steps
            if context.get(TARGET) == KUBEFLOW:
                # The checkpoint is a folder on this machine; the pods have no such path, and the image carries none.
                raise ValueError(
                    f"encoder: {self.encoder.checkpoint} is a local checkpoint; Kubeflow runs take no encoder yet"
                )
        elif "train.train_steps" in given and self.tuning.enabled:
            # The search sizes the steps of the model it chooses: the option would be silently ignored.
            raise ValueError(
                f"--train-steps {self.train.train_steps}: the model search sizes its own steps; "
                "add --no-search to train as given"
            )
        return self

    @property
    def model_dir(self) -> Location:
        """This model's directory, TF Serving's base path: <model_base_dir>/<model_name>/<version>/."""
        return self.model_base_dir / self.model_name

    @property
    def serving_dir(self) -> Location:
        """The old name of `model_base_dir` (kept for callers and config files written before)."""
        return self.model_base_dir

    def local_path(self, field: Literal["data_root", "pipeline_root", "model_base_dir"]) -> Path:
        """A location the local runner reads or writes; a bucket URI is a user error there."""
        location = getattr(self, field)
        if not isinstance(location, Path):
            what = field.replace("_", " ")
            raise UserError(
                f"{what} {location} is a bucket URI: the local runner reads and writes local paths "
                "(compile for Kubeflow with kubeflow_runner.py to use object storage)"
            )
        return location

    def transform_custom_config(self) -> dict[str, Any]:
        """What `preprocessing_fn` receives (JSON; Transform's cache key): trainer settings are not in it."""
        config: dict[str, Any] = {"transform": self.transform.model_dump(mode="json")}
        if self.encoder is not None:
            config.update(self.encoder.custom_config(for_transform=True))
        return config

    def trainer_custom_config(self) -> dict[str, Any]:
        """What `run_fn` receives (JSON; the Trainer's cache key): the Transform settings it reads back too."""
        config = {"transform": self.transform.model_dump(mode="json"), "train": self.train.model_dump(mode="json")}
        if self.encoder is not None:
            config.update(self.encoder.custom_config(for_transform=False))
        return config

    def train_and_eval_steps(self) -> tuple[int, int]:
        """The Trainer's train_args / eval_args: the encoder's when one is configured."""
        section = self.encoder if self.encoder is not None else self.train
        return section.train_steps, section.eval_steps

    def runs_model_search(self) -> bool:
        """Whether a ModelSearch precedes the Trainer: an encoder is an explicit model choice (the
        search chooses among the TF-IDF families), so with one the Trainer trains it as configured."""
        return self.tuning.enabled and self.encoder is None

    def search_custom_config(self) -> dict[str, Any]:
        """What `tuner_fn` receives (JSON; the ModelSearch's cache key): the Trainer's settings and the search's."""
        return {**self.trainer_custom_config(), "tuning": self.tuning.model_dump(mode="json")}

    @classmethod
    def load(cls, path: Optional[Path] = None, /, **overrides: Any) -> PipelineConfig:
        """Defaults, then a YAML/JSON file, then non-None keyword overrides (dotted keys allowed)."""
        return cls.model_validate(_merged(path, overrides))

    @classmethod
    def from_options(
        cls, path: Optional[Path] = None, target: Literal["local", "kubeflow"] = "local", /, **options: Any
    ) -> PipelineConfig:
        """A command line's config: as `load`, with the options as overrides, checked together by the
        validators (`_options_agree`; for a Kubeflow `target` also the places the pods use)."""
        given = frozenset(key for key, value in options.items() if value is not None)
        return cls.model_validate(_merged(path, options), context={GIVEN: given, TARGET: target})


def _merged(path: Optional[Path], overrides: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = _renamed(_read_config_file(Path(path))) if path is not None else {}
    for given, value in overrides.items():
        if value is None:
            continue
        section = data
        *parents, leaf = FIELD_ALIASES.get(given, given).split(".")
        for part in parents:
            section = section.setdefault(part, {})
        section[leaf] = value
    return data


def _renamed(data: dict[str, Any]) -> dict[str, Any]:
    """Old field names read as the new ones; the new name wins when a file or call gives both."""
    for old, new in FIELD_ALIASES.items():
        if old in data:
            value = data.pop(old)
            if data.get(new) is None:
                data[new] = value
    return data


def _check_pod_locations(data: dict[str, Any]) -> None:
    """Kubeflow: each place the pods read or write is given, as a bucket URI or an absolute in-pod path."""
    for field, option in POD_LOCATIONS:
        value = data.get(field)
        if value is None or str(value) == "":
            raise ValueError(
                f"{option} is required (or {field} in --config): the location as the pipeline's pods see it"
            )
        if not is_uri(str(value)) and not PurePosixPath(str(value)).is_absolute():
            raise ValueError(
                f"{option} {value}: a relative path means nothing inside the pipeline's pods; "
                "give a bucket URI (gs://..., s3://...) or an absolute in-pod path"
            )


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
