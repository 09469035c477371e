"""`lexflow retrain`: the retrain policy, and the export + pipeline run when it fires."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from pydantic import ValidationError

from core.errors import UserError
from lexflow.cli.common import console, err_console, fail, load_config, validation_message

if TYPE_CHECKING:
    from lexflow.runs.retrain import RetrainReport


def retrain(
    data_root: Optional[Path] = typer.Option(
        None, help="Span folder the feedback is exported into (span-<N>/). Default: data/demo."
    ),
    pipeline_root: Optional[Path] = typer.Option(
        None, help="Where TFX writes artifacts. Default: artifacts/<model>/pipeline."
    ),
    serving_dir: Optional[Path] = typer.Option(
        None, help="Model base dir the gateway serves. Default: artifacts/serving."
    ),
    metadata_path: Optional[Path] = typer.Option(
        None, help="MLMD SQLite file. Default: artifacts/<model>/metadata.sqlite."
    ),
    database_url: Optional[str] = typer.Option(
        None, help="Feedback store (SQLAlchemy URL). Default: LEXFLOW_DATABASE_URL / the gateway's default."
    ),
    force: bool = typer.Option(False, "--force", help="Export and retrain even if no trigger fires."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only evaluate and print the policy."),
    watch_mode: bool = typer.Option(False, "--watch", help="Keep checking every retrain.watch_interval_seconds."),
    interval: Optional[float] = typer.Option(
        None, help="Seconds between checks in --watch mode (overrides the config)."
    ),
    max_cycles: Optional[int] = typer.Option(None, help="Stop --watch after this many checks."),
    config_file: Optional[Path] = typer.Option(
        None, "--config", help="YAML/JSON file with PipelineConfig fields (retrain policy under `retrain`)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show TFX/Beam/TF logs."),
) -> None:
    """Evaluate the retrain policy; if it fires, export feedback as a new span and run the pipeline."""
    from lexflow.runs import retrain as rt
    from lexflow.runs.local_run import quiet_logs

    config = load_config(
        config_file,
        data_root=data_root,
        pipeline_root=pipeline_root,
        serving_dir=serving_dir,
        metadata_path=metadata_path,
        **{"retrain.watch_interval_seconds": interval},
    )
    quiet_logs(verbose)
    store = _open_store(database_url)
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


def _open_store(database_url: Optional[str]):
    from feedback import FeedbackStore
    from serving.settings import ServingSettings

    try:
        url = database_url or ServingSettings().database_url
        return FeedbackStore(url)
    except ValidationError as exc:
        raise fail(validation_message(exc, "settings")) from None
    except Exception as exc:  # SQLAlchemy: bad URL, unreachable server
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise fail(f"feedback store: cannot open it ({type(exc).__name__}: {first})") from None


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
