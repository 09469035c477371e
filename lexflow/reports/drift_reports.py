"""Drift reports in the reports directory (core/reports.py), where the gateway serves them from.

- `live_report`: recent predictions (the feedback store) vs. the training window (the data root's
  CSVs of the spans the served model was trained on), measured by DriftCheck's own code
  (`components.drift_check.drift`) and drawn by its report (`components.drift_check.report`);
  the verdict goes next to it for the gateway's `lexflow_drift_detected`.
- `publish_run_report`: a pipeline run's DriftCheck report (newest span vs. the previous one),
  copied from its artifact directory.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from components.drift_check.drift import DriftResult, Sample, Thresholds, measure_drift
from components.drift_check.report import render_report
from core import reports
from core.atomic_file import write_text_atomically
from core.errors import UserError
from core.spans import csv_files, resolve_input_pattern, span_files
from feedback import FeedbackStore
from lexflow.metadata import drift as drift_md
from lexflow.metadata import lineage as lin
from lexflow.metadata import store as md
from pipeline.config import PipelineConfig

if TYPE_CHECKING:
    import ml_metadata as mlmd

KEEP_LIVE_REPORTS = 50  # older live reports are deleted: a scheduled `lexflow drift --live` must not fill the disk


@dataclass(frozen=True)
class TrainingWindow:
    spans: list[int]  # empty for a flat (unspanned) data root
    sample: Sample
    source: str  # how the window was chosen, for the report


@dataclass(frozen=True)
class LiveReport:
    path: Path
    verdict_path: Path
    result: DriftResult
    window: TrainingWindow
    skipped_without_text: int


def _read_csvs(paths: list[Path]) -> Sample:
    rows: list[dict[str, str]] = []
    for path in paths:
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                rows.extend(r for r in csv.DictReader(handle) if r.get("text"))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise UserError(f"{path}: cannot read it as CSV ({exc})") from None
    return Sample([r["text"] for r in rows], [r.get("label") or "" for r in rows])


def _served_spans(config: PipelineConfig) -> Optional[tuple[str, list[int]]]:
    """(version, spans) of the newest pushed version, when the metadata store knows one."""
    if not config.metadata_path.is_file():
        return None
    try:
        info = lin.version_lineage(md.open_store(config.metadata_path))
    except UserError:
        return None
    return info.version, info.spans


def training_window(config: PipelineConfig) -> TrainingWindow:
    """The rows the served model learned from: its spans (MLMD), else the config's span window."""
    data_root = config.local_path("data_root")
    if not data_root.is_dir():
        raise UserError(f"data root {data_root} does not exist or is not a directory")
    pattern = resolve_input_pattern(data_root, config.input_pattern)
    on_disk = span_files(data_root, pattern)
    if not on_disk:
        files = csv_files(data_root, pattern)
        if not files:
            raise UserError(f"data root {data_root}: no CSV files match '{pattern}'")
        return TrainingWindow([], _read_csvs(files), f"every CSV under {data_root}")
    served = _served_spans(config)
    if served is not None and set(served[1]) & set(on_disk):
        spans = sorted(set(served[1]) & set(on_disk))
        source = f"spans {', '.join(map(str, spans))}: what served version {served[0]} was trained on"
    else:
        spans = sorted(on_disk)[-config.spans.window :] if config.spans.window else sorted(on_disk)
        source = f"spans {', '.join(map(str, spans))} (the config's span window; no pushed version in metadata)"
    return TrainingWindow(spans, _read_csvs([p for s in spans for p in on_disk[s]]), source)


def recent_predictions(store: FeedbackStore, last: int) -> tuple[Sample, int]:
    """The newest `last` predictions with their text (labels: what the model predicted), and how
    many of those newest rows had no text to measure (the gateway ran with store_text off)."""
    from sqlalchemy import select

    from feedback.tables import PredictionRow

    query = select(PredictionRow.text, PredictionRow.label).order_by(PredictionRow.created_at.desc()).limit(last)
    with store.session() as session:
        rows = session.execute(query).all()
    kept = [(text, label) for text, label in rows if text]
    return Sample([t for t, _ in kept], [label for _, label in kept]), len(rows) - len(kept)


def _prune_live_reports(directory: Path, keep: int) -> None:
    live = [r for r in reports.list_reports(directory) if r.name.startswith(reports.LIVE_PREFIX)]
    for old in live[keep:]:
        (directory / old.name).unlink(missing_ok=True)


def live_report(
    config: PipelineConfig,
    store: FeedbackStore,
    reports_dir: Path,
    last: int = 1000,
    now: Optional[datetime] = None,
) -> LiveReport:
    """Measure live traffic against the training window; write the HTML report and the verdict."""
    now = now or datetime.now(timezone.utc)
    live, without_text = recent_predictions(store, last)
    if not live.texts:
        raise UserError(
            "no predictions with their text in the feedback store"
            + (f" ({without_text} without text: the gateway runs with LEXFLOW_STORE_TEXT off)" if without_text else "")
        )
    window = training_window(config)
    result = measure_drift(live, window.sample, Thresholds(**config.drift.thresholds()))
    notes = [
        (
            f"Live traffic: the newest {len(live.texts)} predictions; its labels are the model's predictions, "
            "so the label measure compares what the model answers with the labels it was trained on."
        ),
        f"Training window: {window.source}.",
    ]
    if without_text:
        notes.append(f"{without_text} of the newest predictions had no stored text and are not measured.")
    html = render_report(
        result, live, window.sample, "live traffic", "training window", "lexflow drift report: live traffic", notes, now
    )
    name = f"{reports.LIVE_PREFIX}{now.strftime('%Y%m%dT%H%M%SZ')}{reports.REPORT_SUFFIX}"
    path = _write(reports_dir, name, html)
    verdict = reports.DriftVerdict(
        drifted=result.drifted,
        report=name,
        generated_at=now.isoformat(timespec="seconds"),
        current_rows=result.current_rows,
        baseline_rows=result.baseline_rows,
        measures=result.to_dict()["measures"],
    )
    verdict_path = reports.write_verdict(reports_dir, verdict)
    _prune_live_reports(reports_dir, KEEP_LIVE_REPORTS)
    return LiveReport(path, verdict_path, result, window, without_text)


def _write(directory: Path, name: str, text: str) -> Path:
    path = Path(directory) / name
    try:
        write_text_atomically(path, text)
    except OSError as exc:
        raise UserError(f"reports directory {directory}: cannot write {name} ({exc.strerror or exc})") from None
    return path


def publish_run_report(
    store: mlmd.MetadataStore, reports_dir: Path, span: Optional[int] = None
) -> tuple[drift_md.DriftReportRef, Path]:
    """Copy a run's DriftCheck report (default: the newest; else the newest for `span`) to the reports directory."""
    found = [r for r in drift_md.drift_reports(store) if span is None or r.span == span]
    if not found:
        raise UserError(
            "no DriftCheck report in this metadata store" + (f" for span {span}" if span is not None else "")
        )
    ref = found[0]
    source = Path(ref.html)
    if not source.is_file():
        raise UserError(f"DriftCheck report of span {ref.span} has no {source.name} (a run before reports existed?)")
    against = f"-vs-{ref.baseline_span}" if ref.baseline_span is not None else ""
    name = f"{reports.RUN_PREFIX}{ref.span}{against}{reports.REPORT_SUFFIX}"
    return ref, _write(reports_dir, name, source.read_text(encoding="utf-8"))
