"""`lexflow retrain`: the retrain policy, and the export + pipeline run when it fires."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer

from core.errors import UserError
from lexflow.cli import options as opt
from lexflow.cli.common import console, err_console, fail, gateway_settings, load_config, open_feedback_store

if TYPE_CHECKING:
    from lexflow.runs.retrain import RetrainReport


def retrain(
    data_root: opt.DataRoot = None,
    model_name: opt.ModelName = None,
    pipeline_root: opt.PipelineRoot = None,
    serving_dir: opt.ServingDir = None,
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
    from lexflow.runs import retrain as rt
    from lexflow.runs.local_run import quiet_logs

    config = load_config(
        config_file,
        data_root=data_root,
        model_name=model_name,
        pipeline_root=pipeline_root,
        serving_dir=serving_dir,
        metadata_path=metadata_path,
        **{"retrain.watch_interval_seconds": interval},
    )
    quiet_logs(verbose)
    # The dataset's model's store: the one its gateway (LEXFLOW_MODEL_NAME=<model>) writes feedback to.
    store = open_feedback_store(gateway_settings(model_name=config.model_name, database_url=database_url).database_url)
    failed = False

    def show(report: RetrainReport) -> None:
        nonlocal failed
        render_retrain(report)
        failed = failed or not report.ok

    try:
        if watch_mode:
            every = config.retrain.watch_interval_seconds
            console.print(f"watching: checking the retrain policy every {every:g} s (Ctrl-C stops)")
            rt.watch(config, store, show, max_cycles=max_cycles, on_status=console.print)
        else:
            show(rt.retrain(config, store, force=force, dry_run=dry_run, on_status=console.print))
    except UserError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        console.print("stopped")
    if failed:
        raise typer.Exit(1)


def render_retrain(report: RetrainReport) -> None:
    from lexflow.reports.run_summary import render

    decision = report.decision
    verdict = "[yellow]retrain[/] (" + "; ".join(decision.reasons) + ")" if decision.retrain else "no trigger fired"
    console.print("retrain policy: " + verdict, soft_wrap=True)
    for check in decision.checks:
        console.print(f"  - {check}", soft_wrap=True)
    for note in report.notes:
        console.print(f"  note: {note}")
    if report.exported_span is not None:
        console.print(f"exported {report.exported_rows} feedback rows as span {report.exported_span}")
    if report.summary is not None and report.summary.components:
        render(report.summary, console)
        if report.summary.blessed is False:
            console.print("[yellow]the new model did not pass the Evaluator; the served version is unchanged[/]")
    if report.error:
        err_console.print(f"[red]error:[/] {report.error}", soft_wrap=True)
