"""`lexflow retrain`: the retrain policy, and the export + pipeline run when it fires."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer

from core.errors import UserError
from lexflow.cli import options as opt
from lexflow.cli.common import check_inputs, console, err_console, fail, load_config, open_feedback_store
from lexflow.cli.model import announce, require_known, trained_model

if TYPE_CHECKING:
    from feedback import FeedbackStore
    from lexflow.runs.retrain import RetrainReport
    from pipeline.config import PipelineConfig


def retrain(
    data_root: opt.DataRoot = None,
    model_name: opt.ModelName = None,
    pipeline_root: opt.PipelineRoot = None,
    model_base_dir: opt.ModelBaseDir = None,
    metadata_path: opt.MetadataPath = None,
    database_url: opt.DatabaseUrl = None,
    force: bool = typer.Option(False, "--force", help="Export and retrain even if no trigger fires."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only evaluate and print the policy."),
    watch_mode: bool = typer.Option(False, "--watch", help="Keep checking every retrain.watch_interval_seconds."),
    interval: Optional[float] = typer.Option(
        None, help="Seconds between checks in --watch mode (overrides the config)."
    ),
    max_cycles: Optional[int] = typer.Option(None, help="Stop --watch after this many checks."),
    config_file: opt.ConfigFile = None,
    verbose: opt.Verbose = False,
) -> None:
    """Evaluate the retrain policy; if it fires, export feedback as a new span and run the pipeline."""
    config = load_config(
        config_file,
        data_root=data_root,
        model_name=model_name,
        pipeline_root=pipeline_root,
        model_base_dir=model_base_dir,
        metadata_path=metadata_path,
        **{"retrain.watch_interval_seconds": interval},
    )
    # The dataset's model's store: the one its gateway (LEXFLOW_MODEL_NAME=<model>) writes feedback to.
    model = trained_model(config, model_name, database_url)
    announce(model)
    require_known(model, config.metadata_path)  # a model named on its own must exist already
    # The data before TensorFlow loads; each run checks again (the exported span too, and the outputs).
    check_inputs(config, outputs=False)
    store = open_feedback_store(model.store_url)

    from lexflow.runs.local_run import quiet_logs

    quiet_logs(verbose)
    if not _check_policy(config, store, watch_mode, force, dry_run, max_cycles):
        raise typer.Exit(1)


def _check_policy(
    config: PipelineConfig,
    store: FeedbackStore,
    watch_mode: bool,
    force: bool,
    dry_run: bool,
    max_cycles: Optional[int],
) -> bool:
    """Once, or every watch interval: whether every retrain that ran went well."""
    from lexflow.runs import retrain as rt

    failed = False

    def show(report: RetrainReport) -> None:
        nonlocal failed
        render_retrain(report)
        failed = failed or not report.ok

    try:
        if watch_mode:
            every = config.retrain.watch_interval_seconds
            console.print(f"watching: checking the retrain policy every {every:g} s (Ctrl-C stops)")
            rt.watch(config, store, show, max_cycles, on_status=console.print, on_decision=render_decision)
        else:
            report = rt.retrain(
                config, store, force=force, dry_run=dry_run, on_status=console.print, on_decision=render_decision
            )
            show(report)
    except UserError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        console.print("stopped")
    return not failed


def render_decision(report: RetrainReport) -> None:
    """What the policy decided and why, printed before anything is exported or run."""
    decision = report.decision
    verdict = "[yellow]retrain[/] (" + "; ".join(decision.reasons) + ")" if decision.retrain else "no trigger fired"
    console.print("retrain policy: " + verdict, soft_wrap=True)
    for check in decision.checks:
        console.print(f"  - {check}", soft_wrap=True)
    for note in report.notes:
        console.print(f"  note: {note}")


def render_retrain(report: RetrainReport) -> None:
    """The run's outcome (the decision was printed when it was made)."""
    from lexflow.reports.run_summary import render

    if report.summary is not None and report.summary.components:
        render(report.summary, console)
        if report.summary.blessed is False:
            console.print("[yellow]the new model did not pass the Evaluator; the served version is unchanged[/]")
    if report.error:
        err_console.print(f"[red]error:[/] {report.error}", soft_wrap=True)
