"""The one-screen summary of a local run, read back from MLMD and the run's artifacts."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import ml_metadata as mlmd

from components.model_search import REPORT_PROPERTY
from lexflow.metadata import evaluation as ev
from lexflow.metadata import store as md
from lexflow.metadata.drift import html_report
from lexflow.metadata.validation import ValidationScores, rows_per_split, validation_scores
from pipeline.config import PipelineConfig

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


@dataclass
class EvalMetrics:
    accuracy: Optional[float] = None
    macro_f1: Optional[float] = None
    per_class_f1: dict[str, float] = field(default_factory=dict)
    slices: dict[str, dict[str, float]] = field(default_factory=dict)  # slice -> {accuracy, macro_f1}
    baseline_accuracy: Optional[float] = None
    baseline_macro_f1: Optional[float] = None


@dataclass(frozen=True)
class GateCheck:
    """One blessing check of the Evaluator with its numbers (thresholds as the Evaluator applied them)."""

    metric: str  # as printed: "accuracy", "macro-F1"
    value: Optional[float]
    threshold: Optional[float]  # absolute lower bound
    baseline: Optional[float] = None  # the model in production, on the same eval split
    max_drop: Optional[float] = None  # allowed drop against it; None: no comparison (first run)

    @property
    def drop(self) -> Optional[float]:
        return None if self.baseline is None or self.value is None else self.baseline - self.value

    @property
    def failures(self) -> list[str]:
        """Why this check refuses the model, in words with numbers (empty: it passes)."""
        reasons = []
        if self.value is not None and self.threshold is not None and self.value < self.threshold:
            reasons.append(f"{self.metric} {self.value:.3f} below the threshold {self.threshold:.3f}")
        drop = self.drop
        if drop is not None and self.max_drop is not None and drop > self.max_drop:
            reasons.append(
                f"{self.metric} dropped {drop:.3f} against production ({self.baseline:.3f}), "
                f"{self.max_drop:.3f} allowed"
            )
        return reasons

    def describe(self) -> str:
        value = "-" if self.value is None else f"{self.value:.3f}"
        line = f"gate: {self.metric} {value}"
        if self.threshold is not None:
            ok = self.value is not None and self.value >= self.threshold
            line += f"  threshold >= {self.threshold:.3f} {'pass' if ok else 'FAIL'}"
        drop = self.drop
        if drop is not None and self.max_drop is not None:
            ok = drop <= self.max_drop
            line += (
                f"  production {self.baseline:.3f}, drop {drop:+.3f} (allowed {self.max_drop:.3f}) "
                f"{'pass' if ok else 'FAIL'}"
            )
        elif self.max_drop is not None:
            line += f"  (no production model to compare; allowed drop {self.max_drop:.3f})"
        return line


@dataclass
class DriftInfo:
    span: int
    baseline_span: Optional[int]  # None on the first span
    drifted: bool
    summary: str
    report: Optional[str] = None  # the HTML report (components/drift_check/report.py), when written


@dataclass
class RunSummary:
    run_id: str
    components: list[md.ExecutionInfo]
    metrics: Optional[EvalMetrics]
    blessed: Optional[bool]
    pushed_version: Optional[str]
    pushed_path: Optional[str]
    already_served: bool
    metadata_path: Path
    pipeline_root: Path
    schema_path: Optional[Path] = None
    schema_drafted: bool = False
    spans: list[int] = field(default_factory=list)  # the window Transform/Trainer/Evaluator read
    new_span: Optional[int] = None  # the newest span of the window
    drift: Optional[DriftInfo] = None
    baseline_note: Optional[str] = None  # what the Evaluator compared with, or why nothing
    push_refused: Optional[str] = None  # why a blessed model was not published (label set changed)
    single_row_labels: list[str] = field(default_factory=list)  # trained on, but never evaluated
    model_search: Optional[dict[str, Any]] = None  # ModelSearch's report (components/model_search); None: no search
    gate: list[GateCheck] = field(default_factory=list)  # the Evaluator's checks with their numbers
    validation: Optional[ValidationScores] = None  # the model the temperature was fitted on, on the validation split
    split_rows: dict[str, int] = field(default_factory=dict)  # train / validation / eval rows of the window

    @property
    def succeeded(self) -> bool:
        return bool(self.components) and all(c.state in ("COMPLETE", "CACHED") for c in self.components)


def load_eval_metrics(evaluation_uri: str, label_names: list[str]) -> EvalMetrics:
    """The summary's numbers from the Evaluator's output (read through lexflow.metadata.evaluation)."""
    frame = ev.load_metrics_frame(evaluation_uri)
    result = EvalMetrics()
    headline = ev.headline(frame[~frame["is_diff"]])
    for (feature, value, model), group in headline.groupby(["feature", "value", "model"]):
        numbers = dict(zip(group["metric"], group["metric_value"], strict=True))
        if feature == ev.OVERALL and model == ev.BASELINE:
            result.baseline_accuracy, result.baseline_macro_f1 = numbers.get("accuracy"), numbers.get("macro_f1")
        elif feature == ev.OVERALL:
            result.accuracy, result.macro_f1 = numbers.get("accuracy"), numbers.get("macro_f1")
        elif model != ev.BASELINE:
            result.slices[f"{feature}={value}"] = {k: numbers[k] for k in ("accuracy", "macro_f1") if k in numbers}
    per_class = frame[
        (frame["model"] == ev.CANDIDATE)
        & ~frame["is_diff"]
        & frame["class_id"].notna()
        & (frame["metric"] == ev.F1)
        & (frame["feature"] == ev.OVERALL)
    ]
    for class_id, number in zip(per_class["class_id"], per_class["metric_value"], strict=True):
        index = int(class_id)
        result.per_class_f1[label_names[index] if index < len(label_names) else str(index)] = number
    return result


def summarize(config: PipelineConfig, schema_path: Optional[Path] = None, schema_drafted: bool = False) -> RunSummary:
    store = md.open_store(config.metadata_path)
    run = md.latest_run(store, config.pipeline_name)
    components = md.run_executions(store, run, config.pipeline_name) if run else []
    by_component = {c.component: c for c in components}
    summary = RunSummary(
        run_id=run.name if run else "-",
        components=components,
        metrics=None,
        blessed=None,
        pushed_version=None,
        pushed_path=None,
        already_served=False,
        metadata_path=config.metadata_path,
        pipeline_root=config.local_path("pipeline_root"),
        schema_path=schema_path,
        schema_drafted=schema_drafted,
    )
    _read_data(store, by_component.get("ExampleGen"), summary)
    _read_drift(store, by_component.get("DriftCheck"), summary)
    _read_search(store, by_component.get("ModelSearch"), summary)
    _read_validation(store, by_component.get("Trainer"), summary)
    _read_evaluation(store, by_component.get("Evaluator"), _label_names(store, by_component), summary)
    _read_push(store, by_component.get("Pusher"), summary)
    return summary


def _outputs(store: Any, info: Optional[md.ExecutionInfo], key: str) -> list[Any]:
    # A cached execution records the outputs it re-used, so this works for both states.
    return md.output_artifacts(store, info.execution.id, key) if info is not None else []


def _read_data(store: Any, example_gen: Optional[md.ExecutionInfo], summary: RunSummary) -> None:
    for window in _outputs(store, example_gen, "examples"):
        summary.spans = sorted(md.spans_of(window))
        # From the per-label counts (JSON): a label may hold a comma, so not `single_row_labels`.
        counts = json.loads(str(md.custom_property(window, "label_counts") or "{}"))
        summary.single_row_labels = sorted(label for label, splits in counts.items() if sum(splits.values()) == 1)
        summary.split_rows = rows_per_split(window)
    for newest in _outputs(store, example_gen, "newest_examples"):
        summary.new_span = md.span_of(newest)


def _read_drift(store: Any, drift_check: Optional[md.ExecutionInfo], summary: RunSummary) -> None:
    for report in _outputs(store, drift_check, "drift_report"):
        baseline_span = md.custom_property(report, "baseline_span")
        summary.drift = DriftInfo(
            span=md.span_of(report) or 0,
            baseline_span=None if baseline_span in (None, -1) else int(baseline_span),
            drifted=bool(md.custom_property(report, "drifted")),
            summary=str(md.custom_property(report, "summary")),
            report=html_report(report),
        )


def _read_search(store: Any, search: Optional[md.ExecutionInfo], summary: RunSummary) -> None:
    """What the model search chose, its trials and its time: the report on its best_hyperparameters."""
    for chosen in _outputs(store, search, "best_hyperparameters"):
        report = md.custom_property(chosen, REPORT_PROPERTY)
        summary.model_search = json.loads(str(report)) if report else None


def _read_validation(store: Any, trainer: Optional[md.ExecutionInfo], summary: RunSummary) -> None:
    if trainer is not None:
        summary.validation = validation_scores(store, trainer.execution.id)


def _read_evaluation(store: Any, evaluator: Optional[md.ExecutionInfo], labels: list[str], summary: RunSummary) -> None:
    for blessing in _outputs(store, evaluator, "blessing"):
        summary.blessed = bool(md.custom_property(blessing, "blessed"))
        note = md.custom_property(blessing, "note")
        summary.baseline_note = str(note) if note else None
    for evaluation in _outputs(store, evaluator, "evaluation"):
        summary.metrics = load_eval_metrics(evaluation.uri, labels)
        summary.gate = gate_checks(ev.load_eval_config(evaluation.uri), summary.metrics)


# The blessing's metrics (pipeline/eval_config.py) under the names the summary prints; evaluations written
# before pipeline/metrics.py derived accuracy from the confusion matrix name Keras' metric.
GATED = {
    "ArgmaxAccuracy": ("accuracy", "accuracy"),
    "SparseCategoricalAccuracy": ("accuracy", "accuracy"),
    "MacroF1": ("macro-F1", "macro_f1"),
}


def gate_checks(eval_config: Any, metrics: EvalMetrics) -> list[GateCheck]:
    """Each thresholded metric with its value, its threshold and, where the Evaluator compared, the
    production model's value and the drop allowed (the config the evaluation ran with: on a first run
    the Evaluator drops the comparison)."""
    checks = []
    for spec in eval_config.metrics_specs:
        for metric in spec.metrics:
            if metric.class_name not in GATED or not metric.per_slice_thresholds:
                continue
            shown, attribute = GATED[metric.class_name]
            threshold = metric.per_slice_thresholds[0].threshold
            bound = threshold.value_threshold
            lower = bound.lower_bound.value if bound.HasField("lower_bound") else None
            change = threshold.change_threshold
            max_drop = -change.absolute.value if change.HasField("absolute") else None
            checks.append(
                GateCheck(
                    shown,
                    getattr(metrics, attribute),
                    lower,
                    getattr(metrics, f"baseline_{attribute}") if max_drop is not None else None,
                    max_drop,
                )
            )
    return checks


def _read_push(store: Any, pusher: Optional[md.ExecutionInfo], summary: RunSummary) -> None:
    for pushed in _outputs(store, pusher, "pushed_model"):
        refused = md.custom_property(pushed, "refused")
        summary.push_refused = str(refused) if refused else None
        if md.custom_property(pushed, "pushed"):
            summary.pushed_version = str(md.custom_property(pushed, "pushed_version"))
            summary.pushed_path = md.custom_property(pushed, "pushed_destination")
            summary.already_served = bool(md.custom_property(pushed, "already_served"))


def _label_names(store: mlmd.MetadataStore, by_component: dict[str, Any]) -> list[str]:
    """Class names in class-id order: the label vocabulary of this run's transform graph."""
    transform = by_component.get("Transform")
    graphs = md.output_artifacts(store, transform.execution.id, "transform_graph") if transform is not None else []
    return ev.label_vocabulary(graphs[0].uri) if graphs else []


def render(summary: RunSummary, console: Console) -> None:
    _render_components(summary, console)
    _render_data(summary, console)
    _render_scores(summary, console)
    _render_release(summary, console)
    _render_places(summary, console)


def _fmt(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.3f}"


def _render_components(summary: RunSummary, console: Console) -> None:
    from rich.table import Table

    table = Table(title=f"lexflow run {summary.run_id}", title_justify="left")
    table.add_column("component")
    table.add_column("status")
    table.add_column("seconds", justify="right")
    styles = {"COMPLETE": "green", "CACHED": "cyan", "FAILED": "red"}
    for info in summary.components:
        table.add_row(
            info.component, f"[{styles.get(info.state, 'yellow')}]{info.state.lower()}[/]", f"{info.seconds:.1f}"
        )
    console.print(table)


def _render_data(summary: RunSummary, console: Console) -> None:
    if summary.spans:
        console.print(
            f"data: spans {', '.join(map(str, summary.spans))}"
            + (f" (new: span {summary.new_span})" if summary.new_span is not None else "")
        )
    if summary.drift is not None:
        d = summary.drift
        against = f"span {d.span} vs. span {d.baseline_span}" if d.baseline_span is not None else f"span {d.span}"
        console.print(f"drift ({against}): " + (f"[yellow]{d.summary}[/]" if d.drifted else d.summary), soft_wrap=True)
        if d.report:
            console.print(f"drift report: [link=file://{d.report}]{d.report}[/link]", soft_wrap=True)
    if summary.model_search is not None:
        _render_search(summary.model_search, console)


def _render_scores(summary: RunSummary, console: Console) -> None:
    fmt = _fmt
    if summary.validation is not None or summary.metrics is not None:
        console.print(_scores_table(summary, fmt))
    m = summary.metrics
    if m is not None:
        if m.baseline_accuracy is not None:
            console.print(
                f"baseline on eval (the model in production): accuracy {fmt(m.baseline_accuracy)}  "
                f"macro-F1 {fmt(m.baseline_macro_f1)}"
            )
        if m.per_class_f1:
            worst = sorted(m.per_class_f1.items(), key=lambda kv: kv[1])
            # Quoted and ';'-separated: labels may hold commas and spaces.
            console.print("per-class F1 (lowest first): " + "; ".join(f"'{k}' {v:.2f}" for k, v in worst))
        for name, values in sorted(m.slices.items()):
            console.print(
                f"  slice {name}: accuracy {fmt(values.get('accuracy'))}  macro-F1 {fmt(values.get('macro_f1'))}"
            )
    if summary.baseline_note:
        console.print(summary.baseline_note, soft_wrap=True)
    if summary.single_row_labels:
        single = ", ".join(summary.single_row_labels)
        console.print(f"[yellow]labels with a single row (trained on, never evaluated): {single}[/]", soft_wrap=True)


def _render_release(summary: RunSummary, console: Console) -> None:
    for check in summary.gate:
        console.print(check.describe(), soft_wrap=True)
    if summary.blessed is not None:
        reasons = [reason for check in summary.gate for reason in check.failures]
        why = "; ".join(reasons) if reasons else "see the evaluation's validation result"
        console.print(
            "blessed: " + ("[green]yes[/]" if summary.blessed else f"[red]no[/]: {why} (model not pushed)"),
            soft_wrap=True,
        )
    if summary.push_refused:
        console.print(f"[yellow]not pushed: {summary.push_refused}[/]", soft_wrap=True)
    if summary.pushed_version and summary.already_served:
        console.print(f"model unchanged: already served as version {summary.pushed_version} at {summary.pushed_path}")
    elif summary.pushed_version:
        console.print(f"pushed model: version {summary.pushed_version} at {summary.pushed_path}")


def _render_places(summary: RunSummary, console: Console) -> None:
    if summary.schema_drafted:
        console.print(
            f"[yellow]schema: no curated schema for this dataset; used a TFDV draft at {summary.schema_path}[/]"
        )
    elif summary.schema_path:
        console.print(f"schema: {summary.schema_path}")
    console.print(f"metadata (MLMD, SQLite): {summary.metadata_path}")
    console.print(f"pipeline root: {summary.pipeline_root}")


def _scores_table(summary: RunSummary, fmt: Callable[[Optional[float]], str]) -> Table:
    """Validation and eval scores side by side: what the choices were made on, and what blesses."""
    from rich.table import Table

    table = Table(title="scores (choices are made on validation only)", title_justify="left")
    for column in ("split", "rows", "accuracy", "macro-F1", "model scored"):
        table.add_column(column, justify="right" if column in ("rows", "accuracy", "macro-F1") else "left")
    v = summary.validation
    if v is not None:
        table.add_row(
            "validation",
            str(v.rows),
            fmt(v.accuracy),
            fmt(v.macro_f1),
            f"{v.fitted_on}; {v.scaling()}",
        )
    m = summary.metrics
    if m is not None:
        rows = summary.split_rows.get("eval")
        table.add_row(
            "eval",
            "-" if rows is None else str(rows),
            fmt(m.accuracy),
            fmt(m.macro_f1),
            "the served model (the blessing's split)",
        )
    return table


def _render_search(report: dict[str, Any], console: Console) -> None:
    """The search's one-line verdict, then every trial with its validation scores and seconds."""
    console.print(report["summary"], soft_wrap=True)
    chosen = report.get("chosen")
    for number, trial in enumerate(report.get("trials", []), start=1):
        mark = "  <- chosen" if trial == chosen else ""
        console.print(
            f"  trial {number}: {trial['model']}: validation accuracy {trial['validation_accuracy']:.3f}, "
            f"macro-F1 {trial['validation_macro_f1']:.3f}, {trial['seconds']:g} s{mark}",
            soft_wrap=True,
        )
    rule = report.get("selection")
    if rule and len(report.get("trials", [])) > 1:
        console.print(
            f"  choice rule: a trial replaces the choice only if its {rule['objective']} is higher by more than "
            f"{rule['min_gain_se']:g} standard errors and its accuracy within {rule['max_accuracy_drop']:g} "
            "of the best",
            soft_wrap=True,
        )
    if (chosen or {}).get("family") == "ensemble" and report.get("member_rule"):
        _render_member_rule(report["member_rule"], console)
    for skipped in report.get("skipped", []):
        estimate = skipped.get("estimated_seconds")
        cost = f"~{estimate:g} s" if estimate is not None else "unknown cost"
        console.print(f"  not tried (budget): {skipped['model']} ({cost})", soft_wrap=True)


def _render_member_rule(rule: dict[str, Any], console: Console) -> None:
    """Whether the ensemble's members were put to the vote on validation, and how each sub-average scored."""
    if not rule.get("applied"):
        why = {
            "never": "prune_members is never",
            "by_document": "validation rows are hashed, not whole documents (no `document` column)",
        }.get(rule.get("prune_members", ""), "")
        console.print(f"  ensemble members: all kept, not put to validation ({why})", soft_wrap=True)
        return
    console.print("  ensemble members, scored on validation from the same fitted heads:", soft_wrap=True)
    for scored in rule.get("scored", []):
        mark = "  <- chosen" if scored.get("chosen") else ""
        console.print(
            f"    {scored['model']}: accuracy {scored['validation_accuracy']:.3f}, "
            f"macro-F1 {scored['validation_macro_f1']:.3f}{mark}",
            soft_wrap=True,
        )


def lineage_record(summary: RunSummary) -> dict[str, Any]:
    """What the gateway's models page shows of a pushed version's provenance (it cannot read MLMD)."""
    metrics = summary.metrics or EvalMetrics()
    return {
        "run_id": summary.run_id,
        "spans": summary.spans,
        "newest_span": summary.new_span,
        "blessed": summary.blessed,
        "evaluation": {
            "accuracy": metrics.accuracy,
            "macro_f1": metrics.macro_f1,
            "baseline_accuracy": metrics.baseline_accuracy,
            "baseline_macro_f1": metrics.baseline_macro_f1,
            "baseline": summary.baseline_note,
        },
        "validation": summary.validation.record() if summary.validation else None,
        "drift": summary.drift.summary if summary.drift else None,
        "pushed_path": summary.pushed_path,
        "metadata_path": str(summary.metadata_path),
    }


def publish_lineage(summary: RunSummary, reports_dir: Path) -> Optional[Path]:
    """Write the lineage record of a newly pushed version to the reports directory (core/reports.py)."""
    if summary.pushed_version is None or summary.already_served:
        return None
    from core.reports import write_lineage

    return write_lineage(reports_dir, int(summary.pushed_version), lineage_record(summary))
