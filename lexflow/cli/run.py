"""`lexflow run` (and `python local_runner.py`): the whole pipeline, locally."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from core.errors import UserError
from lexflow.cli import options as opt
from lexflow.cli.common import check_inputs, console, fail, load_config
from lexflow.cli.model import announce, trained_model
from pipeline.config import PipelineConfig

SearchBudget = Annotated[
    Optional[float],
    typer.Option(
        help="Seconds for the model search's trials (tuning.time_budget_seconds): later trials start only while "
        "their estimated cost fits; start-up and the first trial always run.",
    ),
]
Encoder = Annotated[
    Optional[Path],
    typer.Option(
        help="A local BERT checkpoint directory (config.json, vocab.txt, model.safetensors) to fine-tune "
        "instead of the TF-IDF model; settings under `encoder:` in --config.",
    ),
]

AllowLabelChange = Annotated[
    bool,
    typer.Option(
        "--allow-label-change", help="Push a blessed model whose label set differs from the one in production."
    ),
]


def run(
    data_root: opt.DataRoot = None,
    pipeline_root: opt.PipelineRoot = None,
    model_base_dir: opt.ModelBaseDir = None,
    metadata_path: opt.MetadataPath = None,
    schema: opt.Schema = None,
    input_pattern: opt.InputPattern = None,
    model_name: opt.ModelName = None,
    train_steps: opt.TrainSteps = None,
    search: opt.Search = None,
    search_budget: SearchBudget = None,
    eval_steps: Optional[int] = typer.Option(None, help="Validation steps during training."),
    encoder: Encoder = None,
    min_accuracy: Optional[float] = typer.Option(None, help="Blessing: absolute accuracy threshold."),
    min_macro_f1: Optional[float] = typer.Option(None, help="Blessing: absolute macro-F1 threshold."),
    beam_arg: opt.BeamArgs = None,
    no_cache: opt.NoCache = False,
    allow_label_change: AllowLabelChange = False,
    config_file: opt.ConfigFile = None,
    verbose: opt.Verbose = False,
) -> None:
    """Run the whole pipeline locally (LocalDagRunner, Beam DirectRunner, SQLite MLMD)."""
    config = load_config(
        config_file,
        data_root=data_root,
        pipeline_root=pipeline_root,
        model_base_dir=model_base_dir,
        metadata_path=metadata_path,
        schema_path=schema,
        input_pattern=input_pattern,
        model_name=model_name,
        **{
            "encoder.checkpoint": str(encoder) if encoder is not None else None,
            "train.train_steps": train_steps,
            "train.eval_steps": eval_steps,
            "tuning.enabled": search,
            "tuning.time_budget_seconds": search_budget,
            "thresholds.min_accuracy": min_accuracy,
            "thresholds.min_macro_f1": min_macro_f1,
            "beam.extra_args": beam_arg or None,
            "enable_cache": False if no_cache else None,
            "allow_label_change": True if allow_label_change else None,
        },
    )
    announce(trained_model(config, model_name), store=False)
    check_inputs(config)  # before TensorFlow loads: a bad input is an error line within a second or two

    _run_and_render(config, verbose)


def _run_and_render(config: PipelineConfig, verbose: bool) -> None:
    from lexflow.reports.run_summary import render
    from lexflow.runs.local_run import PipelineFailed, quiet_logs, run_local

    quiet_logs(verbose)
    try:
        with console.status("running the lexflow pipeline (ExampleGen -> ... -> Pusher)"):
            summary = run_local(config, on_status=console.print, preflight=False)
    except UserError as exc:
        raise fail(str(exc)) from None
    except PipelineFailed as exc:
        if exc.summary is not None and exc.summary.components:
            render(exc.summary, console)
        raise fail(str(exc), code=exc.exit_code) from None
    render(summary, console)
