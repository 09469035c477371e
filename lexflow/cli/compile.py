"""`lexflow compile` (and `python kubeflow_runner.py`): the pipeline compiled for Kubeflow Pipelines.

The pipeline is `pipeline.create_pipeline(config)`, the one `lexflow run` runs; only the runner
configuration differs. TFX's KubeflowV2DagRunner turns it into a KFP v2 pipeline spec (schema 2.1.0):

- `--output x.yaml` (default): the PipelineSpec, what the KFP UI and `kfp.Client` upload;
- `--output x.json`: the PipelineJob (spec + runtime config), what Vertex AI Pipelines takes.

Every component runs in `--image` (built from ./Dockerfile, the project at `--image-project-root`) through
`python -m lexflow.runs.kubeflow.entrypoint`, reads data from `--data-root`, writes artifacts under the
run's pipeline root and pushes blessed models to `--model-base-dir`; Beam runs in the component's pod
(DirectRunner) unless `--beam-arg`s name another runner. This is the command line only; the work is in
lexflow/runs/kubeflow/. See docs/kubeflow.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from core.errors import UserError
from lexflow.cli import options as opt
from lexflow.cli.common import console, err_console, fail, load_config
from lexflow.runs.kubeflow.compile import IMAGE_PROJECT_ROOT

DEFAULT_OUTPUT = Path("lexflow_pipeline.yaml")

if TYPE_CHECKING:
    from lexflow.runs.kubeflow.compile import Compiled
    from pipeline.config import PipelineConfig


# Places as the pods see them, kept verbatim (PipelineConfig checks them for a Kubeflow target).
Image = Annotated[
    Optional[str],
    typer.Option(
        help="Image every component runs in, built from ./Dockerfile (e.g. gcr.io/PROJECT/lexflow:0.1.0). Required.",
    ),
]
PodPipelineRoot = Annotated[
    Optional[str],
    typer.Option(
        help="Bucket URI for TFX artifacts: gs://..., s3://..., minio://... (KFP takes the run's; Vertex AI this one). "
        "Required (here or in --config).",
    ),
]
PodDataRoot = Annotated[
    Optional[str],
    typer.Option(
        help="Spans (span-<N>/*.csv) as the pods see them: an absolute path on a volume of kubeflow.volumes "
        "(--config) such as /data/demo, or gs://... Required (here or in --config).",
    ),
]
PodModelBaseDir = Annotated[
    Optional[str],
    typer.Option(
        "--model-base-dir",
        "--serving-dir",
        help="Model base dir for pushes (<dir>/<model-name>/<version>/) as the pods see them: an absolute path on "
        "a volume of kubeflow.volumes (--config) that TF Serving mounts too, such as /models, or gs://... "
        "Required (here or in --config). (--serving-dir: old name.)",
    ),
]
Schema = Annotated[
    Optional[Path],
    typer.Option(
        help="Curated schema, a file of this project (the image has it too). Default: schema/<dataset>/schema.pbtxt.",
    ),
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Compile with KFP caching off for every component.")]
Output = Annotated[
    Path,
    typer.Option("--output", "-o", help="Pipeline file: .yaml (KFP PipelineSpec) or .json (PipelineJob, Vertex AI)."),
]
ImageProjectRoot = Annotated[
    str, typer.Option(help="Where the image holds this project (./Dockerfile copies it there).")
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show TFX logs.")]


def compile_for_kubeflow(
    image: Image = None,
    pipeline_root: PodPipelineRoot = None,
    data_root: PodDataRoot = None,
    model_base_dir: PodModelBaseDir = None,
    schema: Schema = None,
    input_pattern: opt.InputPattern = None,
    model_name: opt.ModelName = None,
    train_steps: opt.TrainSteps = None,
    search: opt.Search = None,
    beam_arg: opt.BeamArgs = None,
    no_cache: NoCache = False,
    output: Output = DEFAULT_OUTPUT,
    image_project_root: ImageProjectRoot = IMAGE_PROJECT_ROOT,
    config_file: opt.ConfigFile = None,
    verbose: Verbose = False,
) -> None:
    """Compile the lexflow pipeline for Kubeflow Pipelines (KFP v2 pipeline spec, TFX KubeflowV2DagRunner)."""
    from lexflow.runs.kubeflow.compile import compile_pipeline

    if not image:
        raise fail("--image is required: the pipeline image every component runs in (see docs/kubeflow.md)")
    config = load_config(
        config_file,
        "kubeflow",
        pipeline_root=pipeline_root,
        data_root=data_root,
        model_base_dir=model_base_dir,
        schema_path=schema,
        input_pattern=input_pattern,
        model_name=model_name,
        **{
            "train.train_steps": train_steps,
            "tuning.enabled": search,
            "beam.extra_args": beam_arg or None,
            "enable_cache": False if no_cache else None,
        },
    )
    if not verbose:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    try:
        compiled = compile_pipeline(config, image, output, image_project_root)
    except UserError as exc:
        raise fail(str(exc)) from None
    _report(compiled, config, image, output)


def _report(compiled: Compiled, config: PipelineConfig, image: str, output: Path) -> None:
    for warning in compiled.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    for note in compiled.notes:
        err_console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    if compiled.pipeline_name != config.pipeline_name:
        console.print(f"pipeline name: {compiled.pipeline_name} (Kubeflow's spelling of {config.pipeline_name})")
    console.print(
        f"schema: {compiled.schema_in_image} (in the image)  input: {compiled.input_base}/{compiled.input_pattern}",
        soft_wrap=True,
    )
    console.print(f"wrote {compiled.output.absolute()}: {compiled.tasks} tasks, image {image}", soft_wrap=True)
    if output.suffix == ".json":
        console.print(f"pipeline root: {config.pipeline_root} (in the PipelineJob's runtimeConfig)", soft_wrap=True)
    else:
        # The open-source KFP backend takes the root from the run, never from the spec (docs/kubeflow.md).
        console.print(
            f"pipeline root: give {config.pipeline_root} when you create the run (KFP does not read it from the spec)",
            soft_wrap=True,
        )
