"""Compile the lexflow pipeline for Kubeflow Pipelines: `python kubeflow_runner.py --image IMAGE ... [--help]`.

The pipeline is `pipeline.create_pipeline(config)`, the one `local_runner.py` runs; only the runner
configuration differs. TFX's KubeflowV2DagRunner turns it into a KFP v2 pipeline spec:

- `--output x.yaml` (default): the PipelineSpec, what the KFP UI and `kfp.Client().upload_pipeline` take;
- `--output x.json`: the PipelineJob (spec + runtime config), what Vertex AI Pipelines takes.

Every component runs in `--image` (built from ./Dockerfile, the project at `--image-project-root`),
reads data from `--data-root`, writes artifacts under `--pipeline-root` and pushes blessed models to
`--serving-dir`; Beam runs in the component's pod (DirectRunner) unless `--beam-arg`s name another runner.
See docs/kubeflow.md.
"""

import core.tf_env  # noqa: F401  (must precede TensorFlow)

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Optional

import typer

from core.errors import UserError
from core.workspace import is_uri
from lexflow.cli.common import console, err_console, fail, load_config

IMAGE_PROJECT_ROOT = "/pipeline"  # where ./Dockerfile copies the repository
DEFAULT_OUTPUT = Path("lexflow_pipeline.yaml")
OUTPUT_SUFFIXES = (".yaml", ".yml", ".json")
# Locations the pipeline's pods read or write: (PipelineConfig field, command-line option).
LOCATIONS = (("pipeline_root", "--pipeline-root"), ("data_root", "--data-root"), ("serving_dir", "--serving-dir"))
# Beam runners that run user code outside the component's pod, and what each one cannot start without.
_RUNNER_NEEDS = {
    "DataflowRunner": ("project", "region", "temp_location"),
    "PortableRunner": ("job_endpoint",),
}
_WORKER_IMAGE_OPTIONS = ("sdk_container_image", "environment_config", "environment_option", "environment_options")


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


def schema_path_in_image(schema: Path, image_project_root: str) -> str:
    """Where the image (./Dockerfile copies the project to `image_project_root`) holds `schema`."""
    from core.workspace import PROJECT_ROOT as REPO_ROOT

    try:
        relative = Path(schema).resolve().relative_to(REPO_ROOT)
    except ValueError:
        raise UserError(
            f"schema {schema} is outside the project ({REPO_ROOT}), so the pipeline image does not have it: "
            "put it under schema/<dataset>/ and rebuild the image"
        ) from None
    return str(PurePosixPath(image_project_root) / relative.as_posix())


def _request_resources(pipeline, config) -> None:
    """Runner configuration: each task's CPU and memory requests and limits (config.resources)."""
    from kfp.pipeline_spec import pipeline_spec_pb2

    resource_spec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec
    for node in pipeline.components:
        task = config.resources.for_node(node.id)
        node.with_platform_config(
            resource_spec(
                cpu_request=task.cpu_request,
                cpu_limit=task.cpu_limit,
                memory_request=task.memory_request_gb,
                memory_limit=task.memory_limit_gb,
            )
        )


def _point_schema_import_at(pipeline, schema_file: str) -> None:
    """ImportSchemaGen runs in the image: give it the schema's in-image path.

    create_pipeline reads the schema locally (label domain, slice features), so config.schema_path
    stays the local file and only the importer's `schema_file` changes.
    """
    from tfx import v1 as tfx

    importers = [node for node in pipeline.components if isinstance(node, tfx.components.ImportSchemaGen)]
    if len(importers) != 1:
        raise RuntimeError(f"expected one ImportSchemaGen in the pipeline, found {len(importers)}")
    importers[0].exec_properties["schema_file"] = schema_file


@dataclass(frozen=True)
class Compiled:
    output: Path
    schema_in_image: str
    input_pattern: str
    tasks: int
    notes: tuple[str, ...] = ()


def compile_pipeline(config, image: str, output: Path, image_project_root: str = IMAGE_PROJECT_ROOT) -> Compiled:
    """Compile `create_pipeline(config)` for KFP v2 into `output` (.yaml PipelineSpec or .json PipelineJob).

    `config` locations are as the pods see them (bucket URIs or absolute in-pod paths); its schema is
    a local file of this project, which the image holds under `image_project_root`.
    Raises UserError for anything the user can fix.
    """
    from core.spans import SPAN_PATTERN
    from lexflow.runs.schemas import curated_schema_path, resolve_schema

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

    if config.schema_path is None and not curated_schema_path(config.dataset_name).is_file():
        # The data root is read by the pods, not here: the local draft-a-schema path cannot look at it,
        # and a draft would not be in the image anyway.
        where = "is remote" if is_uri(str(config.data_root)) else "is a path inside the pipeline's pods"
        raise UserError(
            f"no curated schema for dataset '{config.dataset_name}' ({curated_schema_path(config.dataset_name)}) "
            f"and no --schema; the data root {config.data_root} {where}, so none can be drafted here: "
            "run `lexflow schema draft` on a local copy of the data, review and check in the schema, rebuild the image"
        )
    resolved = resolve_schema(config)  # as local_run does; never drafts here (checked above)
    schema_in_image = schema_path_in_image(resolved.path, image_project_root)
    # The data root is not listed from here: spans are the documented layout (--input-pattern for others).
    config = config.model_copy(
        update={"schema_path": resolved.path, "input_pattern": config.input_pattern or SPAN_PATTERN}
    )
    notes = check_beam_args(config.beam.extra_args)

    from tfx import v1 as tfx

    from pipeline import create_pipeline

    # KubeflowV2DagRunner (TFX 1.16) cannot compile resolver functions: one ExampleGen reads every span.
    pipeline = create_pipeline(config)
    _request_resources(pipeline, config)
    _point_schema_import_at(pipeline, schema_in_image)
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=image),
    )
    job = runner.run(pipeline, write_out=False)
    # ExampleGen lists the data root when it runs (no driver runs on KFP to fingerprint the files),
    # so KFP's cache key cannot see new spans: it must run every time.
    job["pipelineSpec"]["root"]["dag"]["tasks"]["ExampleGen"].pop("cachingOptions", None)
    # The .json carries the root in runtimeConfig; the .yaml spec alone would fall back to the
    # cluster's default root, so record it as the KFP SDK does for @dsl.pipeline(pipeline_root=...).
    job["pipelineSpec"]["defaultPipelineRoot"] = str(config.pipeline_root)
    _write(job, output)
    tasks = len(job["pipelineSpec"]["root"]["dag"]["tasks"])
    return Compiled(output, schema_in_image, config.input_pattern, tasks, tuple(notes))


def _write(job: dict, output: Path) -> None:
    import json

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


def main(
    image: Optional[str] = typer.Option(
        None,
        help="Image every component runs in, built from ./Dockerfile (e.g. gcr.io/PROJECT/lexflow:0.1.0). Required.",
    ),
    pipeline_root: Optional[str] = typer.Option(
        None, help="Bucket URI for TFX artifacts: gs://..., s3://..., minio://... Required (here or in --config)."
    ),
    data_root: Optional[str] = typer.Option(
        None,
        help="Spans (span-<N>/*.csv) as the pods see them: a bucket URI, or an absolute path in the image "
        "such as /pipeline/data/demo. Required (here or in --config).",
    ),
    serving_dir: Optional[str] = typer.Option(
        None,
        help="Model base dir for pushes (<dir>/<model-name>/<version>/): a bucket URI or an absolute in-pod "
        "path. Required (here or in --config).",
    ),
    schema: Optional[Path] = typer.Option(
        None,
        help="Curated schema, a file of this project (the image has it too). Default: schema/<dataset>/schema.pbtxt.",
    ),
    input_pattern: Optional[str] = typer.Option(
        None, help="Glob under the data root. Default: span-{SPAN}/*.csv (e.g. '*.csv' for a flat folder)."
    ),
    model_name: Optional[str] = typer.Option(None, help="Model name under the serving dir."),
    train_steps: Optional[int] = typer.Option(None, help="Training steps."),
    beam_arg: list[str] = typer.Option(
        [], help="Beam pipeline argument (repeatable), e.g. --beam-arg=--runner=DataflowRunner."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Compile with KFP caching off for every component."),
    output: Path = typer.Option(
        DEFAULT_OUTPUT,
        "--output",
        "-o",
        help="Pipeline file: .yaml (KFP PipelineSpec) or .json (PipelineJob, Vertex AI).",
    ),
    image_project_root: str = typer.Option(
        IMAGE_PROJECT_ROOT, help="Where the image holds this project (./Dockerfile copies it there)."
    ),
    config_file: Optional[Path] = typer.Option(None, "--config", help="YAML/JSON file with PipelineConfig fields."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show TFX logs."),
) -> None:
    """Compile the lexflow pipeline for Kubeflow Pipelines (KFP v2 pipeline spec, TFX KubeflowV2DagRunner)."""
    from pipeline.config import _read_config_file

    if not image:
        raise fail("--image is required: the pipeline image every component runs in (see docs/kubeflow.md)")
    given = {"pipeline_root": pipeline_root, "data_root": data_root, "serving_dir": serving_dir}
    config = load_config(
        config_file,
        **given,
        schema_path=schema,
        input_pattern=input_pattern,
        model_name=model_name,
        **{
            "train.train_steps": train_steps,
            "beam.extra_args": beam_arg or None,
            "enable_cache": False if no_cache else None,
        },
    )
    # Checked on the values as given: validation makes relative paths absolute (to this machine's cwd).
    from_file = _read_config_file(config_file) if config_file else {}
    for field, option in LOCATIONS:
        value = given[field] or from_file.get(field)
        if value is None:
            raise fail(f"{option} is required (or {field} in --config): the location as the pipeline's pods see it")
        if not is_uri(str(value)) and not PurePosixPath(str(value)).is_absolute():
            raise fail(
                f"{option} {value}: a relative path means nothing inside the pipeline's pods; "
                "give a bucket URI (gs://..., s3://...) or an absolute in-pod path"
            )

    if not verbose:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    try:
        compiled = compile_pipeline(config, image, output, image_project_root)
    except UserError as exc:
        raise fail(str(exc)) from None
    for note in compiled.notes:
        err_console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    console.print(
        f"schema: {compiled.schema_in_image} (in the image)  input: {config.data_root}/{compiled.input_pattern}",
        soft_wrap=True,
    )
    console.print(
        f"wrote {compiled.output.absolute()}: {compiled.tasks} tasks, image {image}, "
        f"pipeline root {config.pipeline_root}",
        soft_wrap=True,
    )


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command(help=main.__doc__)(main)

if __name__ == "__main__":
    app()
