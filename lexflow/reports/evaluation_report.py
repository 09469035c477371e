"""What the Evaluator measured and decided, as pandas tables (for notebooks/evaluation.ipynb).

The evaluation and its metrics are read through `lexflow.metadata.evaluation`; this module
shapes them into the tables a person reads. Per-class comparisons join the candidate and the
baseline on label NAMES (each model has its own label vocabulary) and compute the differences.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import ml_metadata as mlmd
import pandas as pd

from lexflow.metadata.evaluation import (
    BASELINE,
    CANDIDATE,
    HEADLINE,
    OVERALL,
    PER_CLASS,
    EvaluatorRun,
    find_evaluator_run,
    headline,
    load_eval_config,
    load_metrics_frame,
    load_plots,
    load_validation,
    slice_of,
)


def has_baseline(frame: pd.DataFrame) -> bool:
    return bool((frame["model"] == BASELINE).any())


def overall_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows: example_count, accuracy, macro_f1. Columns: candidate [, baseline, diff].

    `diff` is TFMA's own candidate-minus-baseline value: the number the change thresholds
    were checked against.
    """
    rows = headline(frame[frame["feature"] == OVERALL])
    table = rows[~rows["is_diff"]].pivot_table(index="metric", columns="model", values="metric_value", aggfunc="first")
    if has_baseline(frame):
        diffs = rows[rows["is_diff"]].set_index("metric")["metric_value"]
        table["diff"] = diffs.reindex(table.index)
    order = [m for m in HEADLINE.values() if m in table.index]
    columns = [c for c in (CANDIDATE, BASELINE, "diff") if c in table.columns]
    table = table.loc[order, columns]
    table.columns.name = None
    return table


def slice_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per slice (overall first): example_count, accuracy, macro_f1 of the candidate,
    and with a baseline, its accuracy/macro_f1 and the differences."""
    rows = headline(frame[~frame["is_diff"]])
    table = rows.pivot_table(
        index=["feature", "value"], columns=["model", "metric"], values="metric_value", aggfunc="first"
    )
    result = pd.DataFrame(index=table.index)
    for metric in HEADLINE.values():
        if (CANDIDATE, metric) in table.columns:
            result[metric] = table[(CANDIDATE, metric)]
    if has_baseline(frame):
        for metric in ("accuracy", "macro_f1"):
            if (BASELINE, metric) in table.columns and metric in result:
                result[f"baseline_{metric}"] = table[(BASELINE, metric)]
                result[f"{metric}_diff"] = result[metric] - result[f"baseline_{metric}"]
    keys = sorted(result.index, key=lambda k: (k[0] != OVERALL, k))
    return result.loc[keys]


def _per_class_of(frame: pd.DataFrame, model: str, label_names: list[str], feature: str, value: str) -> pd.DataFrame:
    rows = frame[
        (frame["model"] == model)
        & ~frame["is_diff"]
        & frame["class_id"].notna()
        & frame["metric"].isin(list(PER_CLASS))
        & (frame["feature"] == feature)
        & (frame["value"] == value)
    ].copy()
    rows["label"] = [label_names[int(i)] if int(i) < len(label_names) else f"class {int(i)}" for i in rows["class_id"]]
    table = rows.pivot_table(index="label", columns="metric", values="metric_value", aggfunc="first").rename(
        columns=PER_CLASS
    )
    table = table[[c for c in PER_CLASS.values() if c in table.columns]]
    table.columns.name = None
    return table


def per_class_metrics(
    frame: pd.DataFrame,
    label_names: list[str],
    baseline_label_names: Optional[list[str]] = None,
    feature: str = OVERALL,
    value: str = "",
) -> pd.DataFrame:
    """Precision, recall and F1 per label name (rows in candidate vocabulary order).

    With a baseline, adds baseline_* columns and *_diff columns, matched by label NAME
    through each model's own vocabulary.
    """
    table = _per_class_of(frame, CANDIDATE, label_names, feature, value)
    table = table.reindex(
        [n for n in label_names if n in table.index] + [n for n in table.index if n not in label_names]
    )
    if has_baseline(frame):
        base = _per_class_of(frame, BASELINE, baseline_label_names or label_names, feature, value)
        for metric in list(PER_CLASS.values()):
            if metric in table and metric in base:
                table[f"baseline_{metric}"] = base[metric].reindex(table.index)
                table[f"{metric}_diff"] = table[metric] - table[f"baseline_{metric}"]
    return table


def confusion_matrix(plots_for_slices: Iterable, label_names: list[str], model: str = CANDIDATE) -> pd.DataFrame:
    """Overall multi-class confusion matrix: rows actual label, columns predicted label."""
    counts: dict[tuple[int, int], float] = {}
    for plots in plots_for_slices:
        if slice_of(plots.slice_key)[0] != OVERALL:
            continue
        for kv in plots.plot_keys_and_values:
            if (kv.key.model_name or CANDIDATE) != model or not kv.value.HasField(
                "multi_class_confusion_matrix_at_thresholds"
            ):
                continue
            matrices = kv.value.multi_class_confusion_matrix_at_thresholds.matrices
            for entry in matrices[0].entries if matrices else []:
                counts[(entry.actual_class_id, entry.predicted_class_id)] = entry.num_weighted_examples

    def name(i: int) -> str:
        return label_names[i] if 0 <= i < len(label_names) else f"class {i}"

    ids = sorted({i for pair in counts for i in pair} | set(range(len(label_names))))
    table = pd.DataFrame(0, index=[name(i) for i in ids], columns=[name(i) for i in ids], dtype=int)
    for (actual, predicted), n in counts.items():
        table.loc[name(actual), name(predicted)] = round(n)
    table.index.name, table.columns.name = "actual", "predicted"
    return table


# --- the blessing decision ----------------------------------------------------------------


def _threshold_text(threshold: Any) -> str:
    parts = []
    value = threshold.value_threshold
    if value.HasField("lower_bound"):
        parts.append(f">= {value.lower_bound.value:g}")
    if value.HasField("upper_bound"):
        parts.append(f"<= {value.upper_bound.value:g}")
    change = threshold.change_threshold
    if change.HasField("absolute"):
        parts.append(f"change vs baseline >= {change.absolute.value:g}")
    if change.HasField("relative"):
        parts.append(f"relative change >= {change.relative.value:g}")
    return ", ".join(parts)


def validation_failures(validation_result: Any) -> pd.DataFrame:
    """Why a model was not blessed: one row per failed threshold (empty when it passed)."""
    from pipeline.eval_config import MACRO_F1_KEY_MATCH

    rows = []
    for per_slice in validation_result.metric_validations_per_slice:
        feature, value = slice_of(per_slice.slice_key)
        for failure in per_slice.failures:
            key = failure.metric_key
            name = "macro_f1" if MACRO_F1_KEY_MATCH(key) else HEADLINE.get(key.name, key.name)
            metric_value = failure.metric_value
            number = metric_value.double_value.value if metric_value.HasField("double_value") else math.nan
            rows.append(
                {
                    "slice": OVERALL if feature == OVERALL else f"{feature}={value}",
                    "metric": name,
                    "compared": "change vs baseline" if key.is_diff else "value",
                    "metric_value": number,
                    "threshold": _threshold_text(failure.metric_threshold),
                    "message": failure.message,
                }
            )
    return pd.DataFrame(rows, columns=["slice", "metric", "compared", "metric_value", "threshold", "message"])


def thresholds(eval_config: Any) -> pd.DataFrame:
    """The blessing thresholds as the Evaluator applied them (from the evaluation's own config).

    On the first run the Evaluator removes change thresholds: there is nothing to compare to.
    """
    from pipeline.metrics import ACCURACY_NAME, MACRO_F1_NAME, ArgmaxAccuracy, MacroF1

    ours = {MacroF1.__name__: MACRO_F1_NAME, ArgmaxAccuracy.__name__: HEADLINE[ACCURACY_NAME]}
    rows = []
    for spec in eval_config.metrics_specs:
        for metric in spec.metrics:
            name = metric.class_name + (" (macro average)" if spec.aggregate.macro_average else "")
            name = ours.get(metric.class_name, name)
            for per_slice in metric.per_slice_thresholds:
                slices = ", ".join(slice_of_spec(s) for s in per_slice.slicing_specs) or "every slice"
                rows.append({"metric": name, "slices": slices, "threshold": _threshold_text(per_slice.threshold)})
            if metric.HasField("threshold"):
                rows.append({"metric": name, "slices": "every slice", "threshold": _threshold_text(metric.threshold)})
    return pd.DataFrame(rows, columns=["metric", "slices", "threshold"])


def slice_of_spec(spec: Any) -> str:
    keys = list(spec.feature_keys) + [f"{k}={v}" for k, v in spec.feature_values.items()]
    return ", ".join(keys) or OVERALL


# --- everything a notebook shows ----------------------------------------------------------


@dataclass
class EvaluationReport:
    run: EvaluatorRun
    overall: pd.DataFrame
    slices: pd.DataFrame
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    thresholds: pd.DataFrame
    validation_ok: bool
    failures: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def has_baseline(self) -> bool:
        return self.run.baseline is not None

    def baseline_note(self) -> str:
        if self.run.baseline is None:
            why = self.run.baseline_note or "no version in production yet"
            return (
                f"First run or nothing comparable in production ({why}): the Evaluator had no baseline, so "
                "the model was judged on the absolute thresholds alone and there is nothing to compare with."
            )
        return (
            f"Compared with the model in production ({self.run.baseline_note or 'baseline'}; artifact "
            f"{self.run.baseline.artifact_id}: {self.run.baseline.uri}). `diff` = candidate - baseline."
        )

    def verdict(self) -> str:
        if self.run.blessed is None:
            return "No blessing recorded for this Evaluator execution."
        if self.run.blessed:
            return "BLESSED: every threshold passed; the Pusher may push this model."
        return f"NOT BLESSED: {len(self.failures)} threshold(s) failed; the model was not pushed."


def build_report(
    store: mlmd.MetadataStore,
    pipeline_name: str = "lexflow",
    version: Optional[str] = None,
    pipeline_run: Optional[str] = None,
) -> EvaluationReport:
    """What the Evaluator decided for `version`, for `pipeline_run` (a run id or "latest"), or by
    default for the model that serves (the newest pushed version)."""
    run = find_evaluator_run(store, pipeline_name, version, pipeline_run)
    frame = load_metrics_frame(run.evaluation_uri)
    labels = run.model.label_names
    baseline_labels = run.baseline.label_names if run.baseline else None
    validation = load_validation(run.evaluation_uri)
    notes = []
    if baseline_labels is not None and baseline_labels != labels:
        notes.append(
            "The baseline's label vocabulary orders classes differently (or holds other labels); "
            "per-class comparisons are matched by label name."
        )
    return EvaluationReport(
        run=run,
        overall=overall_metrics(frame),
        slices=slice_metrics(frame),
        per_class=per_class_metrics(frame, labels, baseline_labels),
        confusion=confusion_matrix(load_plots(run.evaluation_uri), labels),
        thresholds=thresholds(load_eval_config(run.evaluation_uri)),
        validation_ok=bool(validation.validation_ok),
        failures=validation_failures(validation),
        notes=notes,
    )


def outside_root(uri: str, pipeline_root: Path) -> bool:
    """True when an artifact is not under the pipeline root the notebook was pointed at."""
    try:
        Path(uri).resolve().relative_to(Path(pipeline_root).resolve())
        return False
    except ValueError:
        return True
