"""The retrain policy and `lexflow retrain`: feedback -> new span -> pipeline -> (blessed) push.

Triggers (any one; thresholds in PipelineConfig.retrain):
- enough feedback not yet exported;
- live accuracy below a floor over the last N pending feedback items that judged a prediction
  (pending only: exported feedback has been trained on, so counting it would re-trigger forever);
- the pending feedback drifts from the newest span (DriftCheck's measures, same thresholds).
The pipeline then decides what reaches serving: the Evaluator compares the new model with the last
blessed one on the same window of spans, and only a blessed model is pushed; a gateway polling the
model base dir picks it up without restart.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from components.drift_check.drift import DriftResult, Sample, Thresholds, measure_drift
from core.errors import UserError
from core.spans import resolve_input_pattern, span_files
from lexflow.reports.run_summary import RunSummary
from pipeline.config import PipelineConfig

if TYPE_CHECKING:
    from feedback import FeedbackStore


@dataclass
class Decision:
    retrain: bool
    reasons: list[str]  # triggers that fired
    checks: list[str]  # every trigger, with its measured value
    pending: int
    live_accuracy: Optional[float] = None
    drift: Optional[DriftResult] = None


@dataclass
class RetrainReport:
    decision: Decision
    exported_span: Optional[int] = None
    exported_rows: int = 0
    summary: Optional[RunSummary] = None  # when the pipeline ran
    error: Optional[str] = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def newest_span_sample(config: PipelineConfig) -> tuple[Optional[int], Sample]:
    data_root = config.local_path("data_root")
    spans = span_files(data_root, resolve_input_pattern(data_root, config.input_pattern))
    if not spans:
        return None, Sample([], [])
    newest = max(spans)
    rows: list[dict[str, str]] = []
    for path in spans[newest]:
        with path.open(newline="", encoding="utf-8") as handle:
            rows.extend(r for r in csv.DictReader(handle) if r.get("text"))
    return newest, Sample.from_rows(rows)


def evaluate_policy(config: PipelineConfig, store: FeedbackStore) -> Decision:
    from feedback.export import pending_feedback

    policy = config.retrain
    pending = pending_feedback(store)
    reasons, checks = [], []

    fired = len(pending) >= policy.min_new_feedback
    checks.append(f"new feedback {len(pending)} (trigger at {policy.min_new_feedback})")
    if fired:
        reasons.append(f"{len(pending)} new feedback rows >= {policy.min_new_feedback}")

    judged = [r for r in pending[-policy.accuracy_window :] if r.predicted_label is not None]
    accuracy = sum(r.label == r.predicted_label for r in judged) / len(judged) if judged else None
    if accuracy is not None and len(judged) >= policy.min_accuracy_feedback:
        checks.append(
            f"live accuracy {accuracy:.3f} over {len(judged)} judged predictions (floor {policy.min_live_accuracy})"
        )
        if accuracy < policy.min_live_accuracy:
            reasons.append(f"live accuracy {accuracy:.3f} < {policy.min_live_accuracy}")
    else:
        checks.append(f"live accuracy: {len(judged)} judged predictions, need {policy.min_accuracy_feedback}")

    drift = None
    if policy.on_drift and len(pending) >= policy.min_drift_rows:
        span, baseline = newest_span_sample(config)
        drift = measure_drift(
            Sample([r.text for r in pending], [r.label for r in pending]),
            baseline,
            Thresholds(**config.drift.thresholds()),
        )
        checks.append(f"drift vs. span {span}: {drift.describe()}")
        if drift.drifted:
            reasons.append(
                "pending feedback drifted: "
                + ", ".join(
                    f"{m.feature} {m.metric.lower()} {m.value:.3f} > {m.threshold:g}" for m in drift.drifted_measures()
                )
            )
    elif policy.on_drift:
        checks.append(f"drift: {len(pending)} pending rows, need {policy.min_drift_rows}")
    untrained = untrained_spans(config)
    if untrained:
        spans = ", ".join(map(str, untrained))
        checks.append(f"spans on disk the last run did not train on: {spans}")
        reasons.append(f"span{'s' if len(untrained) > 1 else ''} {spans} exported but never trained on")
    else:
        checks.append("every span on disk was in the last run's window")
    return Decision(bool(reasons), reasons, checks, len(pending), accuracy, drift)


def untrained_spans(config: PipelineConfig) -> list[int]:
    """Spans newer than any the last run trained on: exported (e.g. through the gateway's
    /v1/feedback/export) or written after it, and never ingested. Empty before the first run."""
    from lexflow.runs.local_run import trained_spans

    trained = trained_spans(config)
    if not trained:
        return []
    data_root = config.local_path("data_root")
    on_disk = span_files(data_root, resolve_input_pattern(data_root, config.input_pattern))
    return sorted(span for span in on_disk if span > max(trained))


def retrain(
    config: PipelineConfig,
    store: FeedbackStore,
    force: bool = False,
    dry_run: bool = False,
    on_status: Optional[Callable[[str], None]] = None,
    on_decision: Optional[Callable[[RetrainReport], None]] = None,
) -> RetrainReport:
    """Evaluate the policy; when it fires (or `force`), export feedback as a new span and run the pipeline.

    `on_decision` sees the report as soon as the policy has decided, before any export or run."""
    from core.spans import SPAN_PATTERN
    from feedback.export import export_feedback
    from lexflow.runs.local_run import PipelineFailed, run_local

    data_root = config.local_path("data_root")
    if resolve_input_pattern(data_root, config.input_pattern) != SPAN_PATTERN:
        raise UserError(
            f"data root {data_root} is not in the span layout (span-<N>/*.csv): feedback exports become new "
            f"spans, so retraining needs it; move its CSVs into {data_root / 'span-0'}/ (nothing was exported)"
        )
    decision = evaluate_policy(config, store)
    report = RetrainReport(decision)
    if dry_run:
        report.notes.append("dry run: nothing exported, pipeline not run")
    elif force and not decision.retrain:
        report.notes.append("forced: no trigger fired")
    if on_decision:
        on_decision(report)
    if dry_run or not (decision.retrain or force):
        return report
    exported = export_feedback(store, config.local_path("data_root"))
    report.exported_span, report.exported_rows = exported.span, exported.rows
    if on_status:
        on_status(
            f"exported {exported.rows} feedback rows as span {exported.span}"
            if exported.span is not None
            else "no new feedback to export; retraining on the existing spans"
        )
    try:
        report.summary = run_local(config, on_status=on_status)
    except PipelineFailed as exc:
        report.error, report.summary = str(exc), exc.summary
    return report


def watch(
    config: PipelineConfig,
    store: FeedbackStore,
    on_report: Callable[[RetrainReport], None],
    max_cycles: Optional[int] = None,
    sleep: Callable[[float], None] = time.sleep,
    on_status: Optional[Callable[[str], None]] = None,
    on_decision: Optional[Callable[[RetrainReport], None]] = None,
) -> None:
    """Check the policy every `retrain.watch_interval_seconds` (forever, or `max_cycles` times)."""
    cycle = 0
    while max_cycles is None or cycle < max_cycles:
        on_report(retrain(config, store, on_status=on_status, on_decision=on_decision))
        cycle += 1
        if max_cycles is None or cycle < max_cycles:
            sleep(config.retrain.watch_interval_seconds)
