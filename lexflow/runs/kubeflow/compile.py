"""Compile `pipeline.create_pipeline(config)` into a KFP v2 pipeline spec (TFX KubeflowV2DagRunner).

What the compiled spec must be to run on the open-source KFP 2.x backend as well as on Vertex AI
(the evidence, file by file, is in docs/kubeflow.md):
- schema version 2.1.0 (`use_pipeline_spec_2_1`): the KFP API server accepts nothing else, and only
  then do TFX's tasks read their parameters from `parameterValues`, the field the KFP driver fills;
- every task's command is our entry point (lexflow.runs.kubeflow.entrypoint), which adapts the KFP
  launcher's ExecutorInput for TFX's entry point;
- CPU and memory requests and limits on every task, in the fields every KFP 2.x release reads
  (floats, memory in decimal GB) and in the quantity strings 2.4+ prefers;
- no KFP caching for ExampleGen, which reads files its cache key cannot see.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401  (must precede TensorFlow)

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Optional

from core.errors import UserError
from core.workspace import is_uri
from pipeline.config import BeamParams, PipelineConfig, TaskResources

IMAGE_PROJECT_ROOT = "/pipeline"  # where ./Dockerfile copies the repository
OUTPUT_SUFFIXES = (".yaml", ".yml", ".json")
ENTRYPOINT_MODULE = "lexflow.runs.kubeflow.entrypoint"
ENTRYPOINT_COMMAND = ["python", "-m", ENTRYPOINT_MODULE]
EXAMPLE_GEN = "ExampleGen"
# Data root and serving dir are opened by TF itself (tf.io.gfile), not copied by the KFP launcher:
# TF 2.16 opens gs:// (S3 needs tensorflow-io, which the image does not carry).
READABLE_SCHEMES = ("gs://",)
# Beam runners that run user code outside the component's pod, and what each one cannot start without.
_RUNNER_NEEDS = {
    "DataflowRunner": ("project", "region", "temp_location"),
    "PortableRunner": ("job_endpoint",),
}
_WORKER_IMAGE_OPTIONS = ("sdk_container_image", "environment_config", "environment_option", "environment_options")
_DEPENDENCY_OPTIONS = ("extra_package", "extra_packages", "setup_file", "requirements_file")


@dataclass(frozen=True)
class Compiled:
    output: Path
    schema_in_image: str
    input_base: str
    input_pattern: str
    tasks: int
    notes: tuple[str, ...] = ()


def check_beam_args(args: list[str]) -> list[str]:
    """Fail on Beam arguments a remote runner cannot start with; return notes worth printing."""
    options: dict[str, Optional[str]] = {}
    for arg in args:
        if not arg.startswith("--") or len(arg) < 3:
            raise UserError(f"beam arg '{arg}' is not a --option (write e.g. --beam-arg=--runner=DataflowRunner)")
        name, _, value = arg[2:].partition("=")
        options[name] = value or None
    runner = options.get("runner")
    missing = [f"--{name}" for name in _RUNNER_NEEDS.get(runner or "", ()) if not options.get(name)]
    if missing:
        raise UserError(f"beam runner {runner} needs {', '.join(missing)} (pass each as --beam-arg=--NAME=VALUE)")
    if runner == "DataflowRunner" and not is_uri(options["temp_location"]):
        raise UserError(f"beam --temp_location={options['temp_location']}: Dataflow needs a gs:// location")
    notes = []
    if runner and runner != "DirectRunner" and not any(options.get(o) for o in _WORKER_IMAGE_OPTIONS):
        # Transform's graph uses tensorflow-text ops and the trainer package: the default Beam worker lacks both.
        notes.append(
            f"beam runner {runner} without a worker image: add --beam-arg=--sdk_container_image=IMAGE "
            "(Dataflow) or --beam-arg=--environment_type=DOCKER --beam-arg=--environment_config=IMAGE "
            "(portable runners) with the pipeline image"
        )
    return notes


def with_worker_image(beam: BeamParams, image: str) -> BeamParams:
    """Beam settings for the pods: the in-pod DirectRunner's "workers" are the pod itself, in this image.

    Unless told the worker image, TFX packages itself into a temporary sdist for remote Beam workers at
    the start of every Beam task (tfx/utils/dependency_utils.py `make_beam_dependency_flags`): seconds of
    copying and a `setup.py sdist` per task that no DirectRunner uses. Naming the pipeline image as the
    worker image is true and skips it; a remote runner's own worker image options are left as given.
    """
    options = {arg[2:].partition("=")[0] for arg in beam.extra_args}
    runner = next((a.partition("=")[2] for a in beam.extra_args if a.startswith("--runner=")), "DirectRunner")
    if runner != "DirectRunner" or options & {*_WORKER_IMAGE_OPTIONS, *_DEPENDENCY_OPTIONS}:
        return beam
    return beam.model_copy(update={"extra_args": [*beam.extra_args, f"--sdk_container_image={image}"]})


def schema_path_in_image(schema: Path, image_project_root: str) -> str:
    """Where the image (./Dockerfile copies the project to `image_project_root`) holds `schema`."""
    from core.workspace import PROJECT_ROOT

    try:
        relative = Path(schema).resolve().relative_to(PROJECT_ROOT)
    except ValueError:
        raise UserError(
            f"schema {schema} is outside the project ({PROJECT_ROOT}), so the pipeline image does not have it: "
            "put it under schema/<dataset>/ and rebuild the image"
        ) from None
    return str(PurePosixPath(image_project_root) / relative.as_posix())


def container_resources(task: TaskResources) -> dict[str, Any]:
    """A task's `deploymentSpec` resources, in both spellings the KFP driver reads.

    Floats (cpu cores; memory in GB, which the driver formats as "%vG", decimal) are read by every
    2.x release; the `resource*` Kubernetes quantities by 2.4 and later, where they win. The KFP SDK
    (2.10+) writes both the same way for the same reason.
    """
    return {
        "cpuRequest": task.cpu_request,
        "cpuLimit": task.cpu_limit,
        "memoryRequest": task.memory_request_gb,
        "memoryLimit": task.memory_limit_gb,
        "resourceCpuRequest": f"{task.cpu_request:g}",
        "resourceCpuLimit": f"{task.cpu_limit:g}",
        "resourceMemoryRequest": f"{task.memory_request_gb:g}G",
        "resourceMemoryLimit": f"{task.memory_limit_gb:g}G",
    }


def _point_schema_import_at(pipeline: Any, schema_file: str) -> None:
    """ImportSchemaGen runs in the image: give it the schema's in-image path.

    create_pipeline reads the schema locally (label domain, slice features), so config.schema_path
    stays the local file and only the importer's `schema_file` changes.
    """
    from tfx import v1 as tfx

    importers = [node for node in pipeline.components if isinstance(node, tfx.components.ImportSchemaGen)]
    if len(importers) != 1:
        raise RuntimeError(f"expected one ImportSchemaGen in the pipeline, found {len(importers)}")
    importers[0].exec_properties["schema_file"] = schema_file


def _patch_spec(spec: dict[str, Any], config: PipelineConfig) -> None:
    """What TFX's compiler cannot express, written into the compiled spec (a plain dict)."""
    tasks = spec["root"]["dag"]["tasks"]
    for name, task in tasks.items():
        label = spec["components"][task["componentRef"]["name"]]["executorLabel"]
        container = spec["deploymentSpec"]["executors"][label]["container"]
        container["resources"] = container_resources(config.resources.for_node(name))
    # ExampleGen lists the data root when it runs, so KFP's cache key (its parameters) cannot see new
    # spans: it must run every time. Its new output artifacts then re-key every task downstream.
    tasks[EXAMPLE_GEN].pop("cachingOptions", None)
    # Vertex AI and the KFP SDK read this; the open-source backend takes the run's root instead.
    spec["defaultPipelineRoot"] = str(config.pipeline_root)


def check_config(config: PipelineConfig, image: str, output: Path, image_project_root: str) -> None:
    if not image or any(c.isspace() for c in image):
        raise UserError(f"--image '{image}' is not an image reference (e.g. gcr.io/PROJECT/lexflow:0.1.0)")
    if not PurePosixPath(image_project_root).is_absolute():
        raise UserError(f"--image-project-root {image_project_root} must be an absolute path inside the image")
    if not is_uri(str(config.pipeline_root)):
        raise UserError(
            f"pipeline root {config.pipeline_root} must be a bucket URI (gs://, s3://, minio://): "
            "Kubeflow keeps artifacts in object storage"
        )
    for field, option in (("data_root", "--data-root"), ("serving_dir", "--serving-dir")):
        location = str(getattr(config, field))
        if is_uri(location) and not location.startswith(READABLE_SCHEMES):
            raise UserError(
                f"{option} {location}: the pods open it with TensorFlow, which in the pipeline image reads "
                f"{', '.join(READABLE_SCHEMES)} and local paths (no s3:// or minio://): use one of those, or an "
                "absolute in-pod path such as a mounted volume"
            )
    if output.suffix not in OUTPUT_SUFFIXES:
        raise UserError(f"--output {output}: use .yaml (KFP PipelineSpec) or .json (PipelineJob, e.g. Vertex AI)")


def compile_pipeline(
    config: PipelineConfig, image: str, output: Path, image_project_root: str = IMAGE_PROJECT_ROOT
) -> Compiled:
    """Compile `create_pipeline(config)` for KFP v2 into `output` (.yaml PipelineSpec or .json PipelineJob).

    `config` locations are as the pods see them (bucket URIs or absolute in-pod paths); its schema is
    a local file of this project, which the image holds under `image_project_root`.
    Raises UserError for anything the user can fix.
    """
    from core.spans import SPAN_PATTERN
    from lexflow.runs.schemas import curated_schema_path, resolve_schema

    check_config(config, image, output, image_project_root)
    if config.schema_path is None and not curated_schema_path(config.dataset_name).is_file():
        # The data root is read by the pods, not here: the local draft-a-schema path cannot look at it,
        # and a draft would not be in the image anyway.
        where = "is remote" if is_uri(str(config.data_root)) else "is a path inside the pipeline's pods"
        raise UserError(
            f"no curated schema for dataset '{config.dataset_name}' ({curated_schema_path(config.dataset_name)}) "
            f"and no --schema; the data root {config.data_root} {where}, so none can be drafted here: "
            "run `lexflow schema draft` on a local copy of the data, review and check in the schema, rebuild the "
            "image (or name the data root after a dataset in schema/, e.g. .../demo)"
        )
    resolved = resolve_schema(config)  # as local_run does; never drafts here (checked above)
    schema_in_image = schema_path_in_image(resolved.path, image_project_root)
    # The data root is not listed from here: spans are the documented layout (--input-pattern for others).
    config = config.model_copy(
        update={"schema_path": resolved.path, "input_pattern": config.input_pattern or SPAN_PATTERN}
    )
    notes = check_beam_args(config.beam.extra_args)
    config = config.model_copy(update={"beam": with_worker_image(config.beam, image)})

    from tfx import v1 as tfx

    from pipeline import create_pipeline

    pipeline = create_pipeline(config)
    _point_schema_import_at(pipeline, schema_in_image)
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=image, default_commands=ENTRYPOINT_COMMAND, use_pipeline_spec_2_1=True
        ),
    )
    job = runner.run(pipeline, write_out=False)
    spec = job["pipelineSpec"]
    _patch_spec(spec, config)
    _write(job, output)
    params = spec["root"]["dag"]["tasks"][EXAMPLE_GEN]["inputs"]["parameters"]
    return Compiled(
        output,
        schema_in_image,
        input_base=params["input_base"]["runtimeValue"]["constant"],
        input_pattern=params["input_pattern"]["runtimeValue"]["constant"],
        tasks=len(spec["root"]["dag"]["tasks"]),
        notes=tuple(notes),
    )


def _write(job: dict[str, Any], output: Path) -> None:
    import yaml

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if output.suffix == ".json":
            text = json.dumps(job, indent=2, sort_keys=True)
        else:
            header = (
                f"# lexflow: KFP v2 PipelineSpec compiled by kubeflow_runner.py ({job['pipelineSpec']['sdkVersion']})\n"
            )
            text = header + yaml.safe_dump(job["pipelineSpec"], sort_keys=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
