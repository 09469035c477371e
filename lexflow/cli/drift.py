"""`lexflow drift`: drift reports in the reports directory, where the gateway serves them.

`lexflow drift --live` measures recent predictions against the training window and writes a new
report plus the verdict behind the gateway's `lexflow_drift_detected`; `lexflow drift` copies a
pipeline run's DriftCheck report (newest span vs. the previous one) there.
"""

from __future__ import annotations

from typing import Optional

import typer

from core.errors import UserError
from lexflow.cli import options as opt
from lexflow.cli.common import console, fail, load_config, open_feedback_store
from lexflow.cli.model import announce, require_known, trained_model


def drift(
    live: bool = typer.Option(False, "--live", help="Live traffic (recent predictions) vs. the training window."),
    last: int = typer.Option(1000, min=1, help="--live: how many of the newest predictions to measure."),
    span: Optional[int] = typer.Option(None, help="Without --live: the report of this span (default: the newest)."),
    reports_dir: opt.ReportsDir = None,
    data_root: opt.DataRoot = None,
    model_name: opt.ModelName = None,
    metadata_path: opt.MetadataPath = None,
    database_url: opt.DatabaseUrl = None,
    config_file: opt.ConfigFile = None,
) -> None:
    """Write a drift report (self-contained HTML) to the reports directory the gateway serves."""
    if live and span is not None:
        raise fail("--span names a pipeline run's report; --live measures live traffic: use one of them")
    from lexflow.reports import drift_reports

    config = load_config(config_file, data_root=data_root, metadata_path=metadata_path, model_name=model_name)
    # The gateway's settings (LEXFLOW_*) for this model: the CLI writes where its gateway serves from.
    model = trained_model(config, model_name, database_url)
    announce(model, store=live)
    target = reports_dir or model.settings.reports_dir
    try:
        if live:
            require_known(model, config.metadata_path)
            report = drift_reports.live_report(config, open_feedback_store(model.store_url), target, last)
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
