"""What the Evaluator measured and decided, as pandas tables (for notebooks/evaluation.ipynb).

The evaluation is found through MLMD (the Evaluator execution, its input models and its
output artifacts), never by guessing directory names. Class ids become label names through
the label vocabulary of the transform graph each model was trained with.

TFMA reports the baseline's per-class metrics by class id. Each model maps labels to ids
through its own vocabulary (ordered by frequency, so a new span can reorder it), so per-class
comparisons here join on label names and compute the differences themselves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

import ml_metadata as mlmd
import pandas as pd

from lexflow import metadata as md
from lexflow.errors import UserError

CANDIDATE = "candidate"
BASELINE = "baseline"
OVERALL = "overall"
EVALUATOR_NODE = "Evaluator"
# Metric names as TFMA writes them, shown under short names.
ACCURACY = "sparse_categorical_accuracy"
EXAMPLE_COUNT = "example_count"
F1 = "f1_score"
HEADLINE = {EXAMPLE_COUNT: "example_count", ACCURACY: "accuracy", "macro_f1": "macro_f1"}
PER_CLASS = {"precision": "precision", "recall": "recall", F1: "f1"}


@dataclass(frozen=True)
class ModelRef:
    artifact_id: int
    uri: str
    label_names: list[str]  # class-id order


@dataclass(frozen=True)
class EvaluatorRun:
    """One Evaluator execution and what it consumed and produced."""

    execution_id: int
    state: str
    evaluation_uri: str
    blessed: Optional[bool]
    model: ModelRef
    baseline: Optional[ModelRef]  # None: no blessed model existed yet (the first run)


# --- finding the evaluation in MLMD -------------------------------------------------------

def label_vocabulary(transform_graph_uri: str) -> list[str]:
    import tensorflow_transform as tft

    from trainer import features as F

    names = tft.TFTransformOutput(transform_graph_uri).vocabulary_by_name(F.LABEL_VOCAB)
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]


def model_ref(store: mlmd.MetadataStore, model) -> ModelRef:
    trainer = md.producer_execution(store, model.id)
    graphs = md.input_artifacts(store, trainer.id, "transform_graph") if trainer is not None else []
    labels = label_vocabulary(graphs[0].uri) if graphs else []
    return ModelRef(artifact_id=model.id, uri=model.uri, label_names=labels)


def evaluator_run(store: mlmd.MetadataStore, execution) -> EvaluatorRun:
    evaluation = md.output_artifacts(store, execution.id, "evaluation")
    if md.state_name(execution) == "CACHED" and evaluation:
        # A cached execution records its (reused) outputs but not its inputs: read the execution
        # that produced the evaluation.
        original = md.producer_execution(store, evaluation[0].id)
        if original is not None and original.id != execution.id:
            execution = original
            evaluation = md.output_artifacts(store, execution.id, "evaluation")
    inputs = md.input_artifacts_by_key(store, execution.id)
    blessing = md.output_artifacts(store, execution.id, "blessing")
    if not evaluation or not inputs.get("model"):
        raise UserError(f"Evaluator execution {execution.id} has no evaluation or no model recorded")
    baseline = inputs.get("baseline_model") or []
    return EvaluatorRun(
        execution_id=execution.id,
        state=md.state_name(execution),
        evaluation_uri=evaluation[0].uri,
        blessed=bool(md.custom_property(blessing[0], "blessed")) if blessing else None,
        model=model_ref(store, inputs["model"][0]),
        baseline=model_ref(store, baseline[0]) if baseline else None,
    )


def latest_evaluator_execution(store: mlmd.MetadataStore, pipeline_name: str):
    """The newest Evaluator execution that finished (a cached one re-uses its predecessor's outputs)."""
    done = [e for e in md.node_executions(store, pipeline_name, EVALUATOR_NODE) if md.state_name(e) in ("COMPLETE", "CACHED")]
    if not done:
        raise UserError(f"pipeline {pipeline_name!r} has no finished Evaluator execution in this metadata store")
    return done[-1]


def evaluator_execution_for_version(store: mlmd.MetadataStore, version: str):
    """The Evaluator execution whose blessing let `version` be pushed."""
    from lexflow.lineage import version_lineage

    pusher_id = version_lineage(store, version).pusher_execution
    blessings = md.input_artifacts(store, pusher_id, "model_blessing")
    evaluator = md.producer_execution(store, blessings[0].id) if blessings else None
    if evaluator is None:
        raise UserError(f"version {version}: its Pusher execution records no blessing")
    return evaluator


def find_evaluator_run(store: mlmd.MetadataStore, pipeline_name: str = "lexflow", version: Optional[str] = None) -> EvaluatorRun:
    execution = (
        evaluator_execution_for_version(store, version) if version else latest_evaluator_execution(store, pipeline_name)
    )
    return evaluator_run(store, execution)


# --- TFMA output as tables ----------------------------------------------------------------

def slice_of(slice_key) -> tuple[str, str]:
    """(feature, value) of a single-feature slice; ("overall", "") for the whole eval set."""
    if not slice_key.single_slice_keys:
        return OVERALL, ""
    features, values = [], []
    for single in slice_key.single_slice_keys:
        kind = single.WhichOneof("kind")
        value = getattr(single, kind) if kind else ""
        features.append(single.column)
        values.append(value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))
    return " x ".join(features), " x ".join(values)


def metrics_frame(metrics_for_slices: Iterable) -> pd.DataFrame:
    """TFMA MetricsForSlice protos -> one long table, one row per scalar metric value.

    Columns: feature, value (the slice), model (candidate/baseline), output, metric,
    class_id (None for whole-model metrics), is_diff, metric_value.
    """
    from pipeline.eval_config import MACRO_F1_KEY_MATCH

    rows = []
    for metrics_for_slice in metrics_for_slices:
        feature, value = slice_of(metrics_for_slice.slice_key)
        for kv in metrics_for_slice.metric_keys_and_values:
            if not kv.value.HasField("double_value"):
                continue  # confusion matrices and other structured values live in the plots
            key = kv.key
            name = "macro_f1" if MACRO_F1_KEY_MATCH(key) else key.name
            rows.append(
                {
                    "feature": feature,
                    "value": value,
                    # A single-model evaluation (no baseline) writes an empty model name.
                    "model": key.model_name or CANDIDATE,
                    "output": key.output_name,
                    "metric": name,
                    "class_id": key.sub_key.class_id.value if key.sub_key.HasField("class_id") else None,
                    "is_diff": bool(key.is_diff),
                    "metric_value": kv.value.double_value.value,
                }
            )
    columns = ["feature", "value", "model", "output", "metric", "class_id", "is_diff", "metric_value"]
    return pd.DataFrame(rows, columns=columns)


def load_metrics_frame(evaluation_uri: str) -> pd.DataFrame:
    import tensorflow_model_analysis as tfma

    return metrics_frame(tfma.load_metrics(evaluation_uri))


def _headline(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole-model metrics (no class id) under their short names, per slice, model and is_diff."""
    rows = frame[frame["class_id"].isna() & frame["metric"].isin(list(HEADLINE))].copy()
    rows["metric"] = rows["metric"].map(HEADLINE)
    return rows


def has_baseline(frame: pd.DataFrame) -> bool:
    return bool((frame["model"] == BASELINE).any())


def overall_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows: example_count, accuracy, macro_f1. Columns: candidate [, baseline, diff].

    `diff` is TFMA's own candidate-minus-baseline value: the number the change thresholds
    were checked against.
    """
    rows = _headline(frame[frame["feature"] == OVERALL])
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
    rows = _headline(frame[~frame["is_diff"]])
    table = rows.pivot_table(index=["feature", "value"], columns=["model", "metric"], values="metric_value", aggfunc="first")
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
        (frame["model"] == model) & ~frame["is_diff"] & frame["class_id"].notna()
        & frame["metric"].isin(list(PER_CLASS)) & (frame["feature"] == feature) & (frame["value"] == value)
    ].copy()
    rows["label"] = [
        label_names[int(i)] if int(i) < len(label_names) else f"class {int(i)}" for i in rows["class_id"]
    ]
    table = rows.pivot_table(index="label", columns="metric", values="metric_value", aggfunc="first").rename(columns=PER_CLASS)
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
    table = table.reindex([n for n in label_names if n in table.index] + [n for n in table.index if n not in label_names])
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
            if (kv.key.model_name or CANDIDATE) != model or not kv.value.HasField("multi_class_confusion_matrix_at_thresholds"):
                continue
            matrices = kv.value.multi_class_confusion_matrix_at_thresholds.matrices
            for entry in matrices[0].entries if matrices else []:
                counts[(entry.actual_class_id, entry.predicted_class_id)] = entry.num_weighted_examples

    def name(i: int) -> str:
        return label_names[i] if 0 <= i < len(label_names) else f"class {i}"

    ids = sorted({i for pair in counts for i in pair} | set(range(len(label_names))))
    table = pd.DataFrame(0, index=[name(i) for i in ids], columns=[name(i) for i in ids], dtype=int)
    for (actual, predicted), n in counts.items():
        table.loc[name(actual), name(predicted)] = int(round(n))
    table.index.name, table.columns.name = "actual", "predicted"
    return table


# --- the blessing decision ----------------------------------------------------------------

def _threshold_text(threshold) -> str:
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


def validation_failures(validation_result) -> pd.DataFrame:
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


def thresholds(eval_config) -> pd.DataFrame:
    """The blessing thresholds as the Evaluator applied them (from the evaluation's own config).

    On the first run the Evaluator removes change thresholds: there is nothing to compare to.
    """
    from pipeline.metrics import MACRO_F1_NAME, MacroF1

    rows = []
    for spec in eval_config.metrics_specs:
        for metric in spec.metrics:
            name = metric.class_name + (" (macro average)" if spec.aggregate.macro_average else "")
            name = MACRO_F1_NAME if metric.class_name == MacroF1.__name__ else name
            for per_slice in metric.per_slice_thresholds:
                slices = ", ".join(slice_of_spec(s) for s in per_slice.slicing_specs) or "every slice"
                rows.append({"metric": name, "slices": slices, "threshold": _threshold_text(per_slice.threshold)})
            if metric.HasField("threshold"):
                rows.append({"metric": name, "slices": "every slice", "threshold": _threshold_text(metric.threshold)})
    return pd.DataFrame(rows, columns=["metric", "slices", "threshold"])


def slice_of_spec(spec) -> str:
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
            return (
                "First run: the Evaluator had no baseline (no blessed model existed yet), so the model "
                "was judged on the absolute thresholds alone and there is nothing to compare with."
            )
        return (
            f"Compared with the baseline (the latest blessed model, artifact {self.run.baseline.artifact_id}: "
            f"{self.run.baseline.uri}). `diff` = candidate - baseline."
        )

    def verdict(self) -> str:
        if self.run.blessed is None:
            return "No blessing recorded for this Evaluator execution."
        if self.run.blessed:
            return "BLESSED: every threshold passed; the Pusher may push this model."
        return f"NOT BLESSED: {len(self.failures)} threshold(s) failed; the model was not pushed."


def _eval_config(evaluation_uri: str):
    # TFMA writes the config it actually ran with next to the metrics; its loader lives in
    # the writers module (tfma.load_eval_result reads it the same way).
    from tensorflow_model_analysis.writers import eval_config_writer

    return eval_config_writer.load_eval_run(evaluation_uri)[0]


def build_report(store: mlmd.MetadataStore, pipeline_name: str = "lexflow", version: Optional[str] = None) -> EvaluationReport:
    import tensorflow_model_analysis as tfma

    run = find_evaluator_run(store, pipeline_name, version)
    frame = load_metrics_frame(run.evaluation_uri)
    labels = run.model.label_names
    baseline_labels = run.baseline.label_names if run.baseline else None
    validation = tfma.load_validation_result(run.evaluation_uri)
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
        confusion=confusion_matrix(tfma.load_plots(run.evaluation_uri), labels),
        thresholds=thresholds(_eval_config(run.evaluation_uri)),
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
