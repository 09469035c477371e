"""Compile `pipeline.create_pipeline(config)` into a KFP v2 pipeline spec (TFX KubeflowV2DagRunner).

What the compiled spec must be to run on the open-source KFP 2.x backend as well as on Vertex AI
(the evidence, file by file, is in docs/kubeflow.md):
- schema version 2.1.0 (`use_pipeline_spec_2_1`): the KFP API server accepts nothing else, and only
  then do TFX's tasks read their parameters from `parameterValues`, the field the KFP driver fills;
- a pipeline name KFP and TFX accept ([a-z0-9][a-z0-9-]*), derived from the configured one;
- every task's command is our entry point (lexflow.runs.kubeflow.entrypoint), which adapts the KFP
  launcher's ExecutorInput for TFX;
- CPU and memory requests and limits on every task, in the fields every KFP 2.x release reads
  (floats, memory in decimal GB) and in the quantity strings 2.4+ prefers, and Beam's DirectRunner
  workers sized to them (beam.py);
- the volumes and Secret variables of `config.kubeflow` on every task (platform.py), where the data
  root and the serving dir must lie unless they are gs:// URIs;
- no KFP caching for the tasks that read or write what their inputs do not name (caching.py).
"""

from __future__ import annotations

import core.tf_env  # noqa: F401  (must precede TensorFlow)

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from core.errors import UserError
from core.workspace import is_uri
from lexflow.runs.kubeflow.beam import check_beam_args, remote_runner_note, size_direct_workers, with_worker_image
from lexflow.runs.kubeflow.platform import check_locations, platform_spec
from pipeline.config import PipelineConfig, TaskResources, kubeflow_pipeline_name

IMAGE_PROJECT_ROOT = "/pipeline"  # where ./Dockerfile copies the repository
OUTPUT_SUFFIXES = (".yaml", ".yml", ".json")
ENTRYPOINT_MODULE = "lexflow.runs.kubeflow.entrypoint"
ENTRYPOINT_COMMAND = ["python", "-m", ENTRYPOINT_MODULE]
EXAMPLE_GEN = "ExampleGen"


@dataclass(frozen=True)
class Compiled:
    output: Path
    schema_in_image: str
    pipeline_name: str
    input_base: str
    input_pattern: str
    tasks: int
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


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
    from lexflow.runs.kubeflow.caching import run_every_time

    tasks = spec["root"]["dag"]["tasks"]
    for name, task in tasks.items():
        label = spec["components"][task["componentRef"]["name"]]["executorLabel"]
        container = spec["deploymentSpec"]["executors"][label]["container"]
        container["resources"] = container_resources(config.resources.for_node(name))
        size_direct_workers(container, name, config.beam, config.resources)
    run_every_time(spec)
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
    if output.suffix not in OUTPUT_SUFFIXES:
        raise UserError(f"--output {output}: use .yaml (KFP PipelineSpec) or .json (PipelineJob, e.g. Vertex AI)")
    check_locations(config, image_project_root, vertex=output.suffix == ".json")
    if not kubeflow_pipeline_name(config.pipeline_name):
        raise UserError(
            f"pipeline name '{config.pipeline_name}' has no letter or digit, which Kubeflow needs: set "
            "pipeline_name in --config (lowercase letters, digits and hyphens)"
        )
    check_beam_args(config.beam.extra_args)


def _require_curated_schema(config: PipelineConfig) -> None:
    from lexflow.runs.schemas import curated_schema_path

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


def compile_pipeline(
    config: PipelineConfig, image: str, output: Path, image_project_root: str = IMAGE_PROJECT_ROOT
) -> Compiled:
    """Compile `create_pipeline(config)` for KFP v2 into `output` (.yaml PipelineSpec or .json PipelineJob).

    `config` locations are as the pods see them (bucket URIs, or absolute in-pod paths on the volumes of
    `config.kubeflow`); its schema is a local file of this project, which the image holds under
    `image_project_root`. Raises UserError for anything the user can fix.
    """
    from core.spans import SPAN_PATTERN
    from lexflow.runs.kubeflow.caching import ENABLE_CACHING_NOTE, mutable_image_warning
    from lexflow.runs.schemas import resolve_schema

    check_config(config, image, output, image_project_root)
    _require_curated_schema(config)
    resolved = resolve_schema(config)  # as local_run does; never drafts here (checked above)
    schema_in_image = schema_path_in_image(resolved.path, image_project_root)
    name = kubeflow_pipeline_name(config.pipeline_name)
    # The data root is not listed from here: spans are the documented layout (--input-pattern for others).
    config = config.model_copy(
        update={
            "schema_path": resolved.path,
            "input_pattern": config.input_pattern or SPAN_PATTERN,
            "pipeline_name": name,
            "beam": with_worker_image(config.beam, image),
        }
    )
    warnings = tuple(w for w in (mutable_image_warning(image),) if w)
    notes = tuple(n for n in (remote_runner_note(config.beam), ENABLE_CACHING_NOTE) if n)

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
    _write(job, platform_spec(spec, config.kubeflow), output)
    params = spec["root"]["dag"]["tasks"][EXAMPLE_GEN]["inputs"]["parameters"]
    return Compiled(
        output,
        schema_in_image,
        pipeline_name=name,
        input_base=params["input_base"]["runtimeValue"]["constant"],
        input_pattern=params["input_pattern"]["runtimeValue"]["constant"],
        tasks=len(spec["root"]["dag"]["tasks"]),
        warnings=warnings,
        notes=notes,
    )


def _write(job: dict[str, Any], platform: dict[str, Any], output: Path) -> None:
    """The PipelineJob as JSON, or the PipelineSpec as YAML with the platform spec as its second document,
    the layout the KFP SDK writes (kfp/compiler/pipeline_spec_builder.py `write_pipeline_spec_to_file`)."""
    import yaml

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if output.suffix == ".json":
            text = json.dumps(job, indent=2, sort_keys=True)
        else:
            header = (
                f"# lexflow: KFP v2 PipelineSpec compiled by kubeflow_runner.py ({job['pipelineSpec']['sdkVersion']})\n"
            )
            documents = [job["pipelineSpec"], *([platform] if platform else [])]
            text = header + yaml.safe_dump_all(documents, sort_keys=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
