"""`lexflow run` (and `python local_runner.py`): the whole pipeline, locally."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from core.errors import UserError
from lexflow.cli.common import console, fail, load_config


def run(
    data_root: Optional[Path] = typer.Option(
        None, help="Folder of spans (span-<N>/*.csv) or of CSVs. Default: data/demo."
    ),
    pipeline_root: Optional[Path] = typer.Option(
        None, help="Where TFX writes artifacts. Default: artifacts/<model>/pipeline."
    ),
    serving_dir: Optional[Path] = typer.Option(
        None, help="Model base dir; pushes go to <dir>/<model-name>/<version>/. Default: artifacts/serving."
    ),
    metadata_path: Optional[Path] = typer.Option(
        None, help="MLMD SQLite file. Default: artifacts/<model>/metadata.sqlite."
    ),
    schema: Optional[Path] = typer.Option(
        None, help="Schema to import. Default: schema/<dataset>/schema.pbtxt, else a TFDV draft."
    ),
    input_pattern: Optional[str] = typer.Option(None, help="Glob under the data root, e.g. 'train.csv'."),
    model_name: Optional[str] = typer.Option(None, help="Model name under the serving dir."),
    train_steps: Optional[int] = typer.Option(
        None,
        help="Training steps when the model search is off (`tuning: {enabled: false}`; the search sizes its own), "
        "or the encoder's with --encoder.",
    ),
    search: Optional[bool] = typer.Option(
        None,
        "--search/--no-search",
        help="Model search before training (default on): family and regularisation chosen on the eval split. "
        "--no-search trains the `train` settings as given.",
    ),
    search_budget: Optional[float] = typer.Option(
        None,
        help="Seconds for the model search's trials (tuning.time_budget_seconds): later trials start only while "
        "their estimated cost fits; start-up and the first trial always run.",
    ),
    eval_steps: Optional[int] = typer.Option(None, help="Validation steps during training."),
    encoder: Optional[Path] = typer.Option(
        None,
        help="A local BERT checkpoint directory (config.json, vocab.txt, model.safetensors) to fine-tune "
        "instead of the TF-IDF model; settings under `encoder:` in --config.",
    ),
    min_accuracy: Optional[float] = typer.Option(None, help="Blessing: absolute accuracy threshold."),
    min_macro_f1: Optional[float] = typer.Option(None, help="Blessing: absolute macro-F1 threshold."),
    beam_arg: list[str] = typer.Option([], help="Extra Beam pipeline argument (repeatable)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Re-run every component."),
    allow_label_change: bool = typer.Option(
        False, "--allow-label-change", help="Push a blessed model whose label set differs from the one in production."
    ),
    config_file: Optional[Path] = typer.Option(None, "--config", help="YAML/JSON file with PipelineConfig fields."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show TFX/Beam/TF logs."),
) -> None:
    """Run the whole pipeline locally (LocalDagRunner, Beam DirectRunner, SQLite MLMD)."""
    from lexflow.reports.run_summary import render
    from lexflow.runs.local_run import PipelineFailed, quiet_logs, run_local

    config = load_config(
        config_file,
        data_root=data_root,
        pipeline_root=pipeline_root,
        serving_dir=serving_dir,
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
    if config.encoder is not None and (search or search_budget is not None):
        # The search chooses among the TF-IDF families; an encoder is the model itself, so no search runs.
        raise fail("--search/--search-budget: no model search runs with an encoder (the encoder is the model)")
    if config.encoder is not None:  # the step options count the encoder's steps (validated as train's were)
        config.encoder.train_steps = train_steps or config.encoder.train_steps
        config.encoder.eval_steps = eval_steps or config.encoder.eval_steps
    elif train_steps is not None and config.tuning.enabled:
        # The search sizes the steps of the model it chooses: the option would be silently ignored.
        raise fail(
            f"--train-steps {train_steps}: the model search sizes its own steps; add --no-search to train as given"
        )
    quiet_logs(verbose)
    try:
        with console.status("running the lexflow pipeline (ExampleGen -> ... -> Pusher)"):
            summary = run_local(config, on_status=console.print)
    except UserError as exc:
        raise fail(str(exc)) from None
    except PipelineFailed as exc:
        if exc.summary is not None and exc.summary.components:
            render(exc.summary, console)
        raise fail(str(exc), code=exc.exit_code) from None
    render(summary, console)
