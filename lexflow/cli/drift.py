"""`lexflow drift`: drift reports in the reports directory, where the gateway serves them.

`lexflow drift --live` measures recent predictions against the training window and writes a new
report plus the verdict behind the gateway's `lexflow_drift_detected`; `lexflow drift` copies a
pipeline run's DriftCheck report (newest span vs. the previous one) there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError

from core import workspace
from core.errors import UserError
from lexflow.cli.common import console, fail, load_config, validation_message


def drift(
    live: bool = typer.Option(False, "--live", help="Live traffic (recent predictions) vs. the training window."),
    last: int = typer.Option(1000, min=1, help="--live: how many of the newest predictions to measure."),
    span: Optional[int] = typer.Option(None, help="Without --live: the report of this span (default: the newest)."),
    reports_dir: Optional[Path] = typer.Option(
        None, help="Where reports go. Default: LEXFLOW_REPORTS_DIR, else artifacts/<model>/reports."
    ),
    data_root: Optional[Path] = typer.Option(None, help="--live: the training data's spans. Default: data/demo."),
    model_name: Optional[str] = typer.Option(None, help="The model (default: named after the data root, as runs do)."),
    metadata_path: Optional[Path] = typer.Option(
        None, help="MLMD SQLite file. Default: artifacts/<model>/metadata.sqlite."
    ),
    database_url: Optional[str] = typer.Option(
        None, help="--live: the feedback store (SQLAlchemy URL). Default: LEXFLOW_DATABASE_URL / the gateway's."
    ),
    config_file: Optional[Path] = typer.Option(
        None, "--config", help="YAML/JSON with PipelineConfig fields (thresholds under `drift`, spans under `spans`)."
    ),
) -> None:
    """Write a drift report (self-contained HTML) to the reports directory the gateway serves."""
    if live and span is not None:
        raise fail("--span names a pipeline run's report; --live measures live traffic: use one of them")
    from lexflow.reports import drift_reports

    config = load_config(config_file, data_root=data_root, metadata_path=metadata_path, model_name=model_name)
    # The gateway's settings (LEXFLOW_*) for this model: the CLI writes where its gateway serves from.
    settings = _gateway_settings(config.model_name)
    target = workspace.resolve(reports_dir) if reports_dir else settings.reports_dir
    try:
        if live:
            url = workspace.database_url(database_url) if database_url else settings.database_url
            report = drift_reports.live_report(config, _open_store(url), target, last)
            console.print(f"training window: {report.window.source}", soft_wrap=True)
            console.print(report.result.describe(), soft_wrap=True)
            console.print(f"wrote {report.path} (verdict: {report.verdict_path})")
            return
        from lexflow.metadata.store import open_store

        ref, path = drift_reports.publish_run_report(open_store(config.metadata_path), target, span)
    except UserError as exc:
        raise fail(str(exc)) from None
    console.print(ref.summary, soft_wrap=True)
    console.print(f"wrote {path} (from {ref.html})")


def _gateway_settings(model_name: str):
    from serving.settings import ServingSettings

    try:
        return ServingSettings(model_name=model_name)
    except ValidationError as exc:
        raise fail(validation_message(exc, "settings")) from None


def _open_store(url: str):
    from feedback import FeedbackStore

    try:
        return FeedbackStore(url)
    except Exception as exc:  # SQLAlchemy: bad URL, unreachable server
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise fail(f"feedback store: cannot open it ({type(exc).__name__}: {first})") from None
