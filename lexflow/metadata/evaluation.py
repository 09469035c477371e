"""Reading an evaluation back: which Evaluator run judged a model (MLMD), and what TFMA wrote.

The one place that reads TFMA's output (metrics, plots, validation result, the eval config it
ran with) and maps class ids to label names (each model's own label vocabulary, from the
transform graph it was trained with). The run summary and the evaluation notebook both read
through here.

The evaluation is found through MLMD (the Evaluator execution, its input models and its
output artifacts), never by guessing directory names. TFMA reports the baseline's per-class
metrics by class id; each model maps labels to ids through its own vocabulary (ordered by
frequency, so a new span can reorder it), so callers join per-class values on label names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import ml_metadata as mlmd
import pandas as pd
from ml_metadata.proto import metadata_store_pb2

from core.errors import UserError
from lexflow.metadata import store as md

CANDIDATE = "candidate"
BASELINE = "baseline"
OVERALL = "overall"
EVALUATOR_NODE = "Evaluator"
LATEST_RUN = md.LATEST_RUN
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
    baseline: Optional[ModelRef]  # None: nothing comparable was in production (e.g. the first run)
    selection: str = ""  # why this run was chosen (select_evaluator_execution)
    baseline_note: str = ""  # what ProductionBaseline found (on the blessing), e.g. a label-set change


def label_vocabulary(transform_graph_uri: str) -> list[str]:
    import tensorflow_transform as tft

    from trainer import features as F

    names = tft.TFTransformOutput(transform_graph_uri).vocabulary_by_name(F.LABEL_VOCAB)
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]


def model_ref(store: mlmd.MetadataStore, model: metadata_store_pb2.Artifact) -> ModelRef:
    trainer = md.producer_execution(store, model.id)
    graphs = md.input_artifacts(store, trainer.id, "transform_graph") if trainer is not None else []
    if graphs:
        labels = label_vocabulary(graphs[0].uri)
    else:  # a copy of a served model (ProductionBaseline): its own assets hold the label vocabulary
        labels = saved_model_labels(f"{model.uri}/Format-Serving")
    return ModelRef(artifact_id=model.id, uri=model.uri, label_names=labels)


def saved_model_labels(model_dir: str) -> list[str]:
    """A SavedModel's label names, from its copy of the Transform label vocabulary."""
    from trainer import features as F

    path = Path(model_dir) / "assets" / F.LABEL_VOCAB
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line] if path.is_file() else []


def evaluator_run(store: mlmd.MetadataStore, execution: metadata_store_pb2.Execution) -> EvaluatorRun:
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
    baseline = md.compared_baseline(inputs.get("baseline_model") or [])
    return EvaluatorRun(
        execution_id=execution.id,
        state=md.state_name(execution),
        evaluation_uri=evaluation[0].uri,
        blessed=bool(md.custom_property(blessing[0], "blessed")) if blessing else None,
        baseline_note=str(md.custom_property(blessing[0], "note") or "") if blessing else "",
        model=model_ref(store, inputs["model"][0]),
        baseline=model_ref(store, baseline[0]) if baseline else None,
    )


def latest_evaluator_execution(store: mlmd.MetadataStore, pipeline_name: str) -> Optional[metadata_store_pb2.Execution]:
    """The newest Evaluator execution that finished (a cached one re-uses its predecessor's outputs)."""
    done = [
        e
        for e in md.node_executions(store, pipeline_name, EVALUATOR_NODE)
        if md.state_name(e) in ("COMPLETE", "CACHED")
    ]
    if not done:
        raise UserError(f"pipeline {pipeline_name!r} has no finished Evaluator execution in this metadata store")
    return done[-1]


def evaluator_execution_for_version(store: mlmd.MetadataStore, version: str) -> Optional[metadata_store_pb2.Execution]:
    """The Evaluator execution whose blessing let `version` be pushed."""
    from lexflow.metadata.lineage import version_lineage

    pusher_id = version_lineage(store, version).pusher_execution
    blessings = md.input_artifacts(store, pusher_id, "model_blessing")
    evaluator = md.producer_execution(store, blessings[0].id) if blessings else None
    if evaluator is None:
        raise UserError(f"version {version}: its Pusher execution records no blessing")
    return evaluator


def evaluator_execution_of_run(
    store: mlmd.MetadataStore, pipeline_name: str, run_id: str
) -> Optional[metadata_store_pb2.Execution]:
    """The Evaluator execution of one pipeline run (`run_id`: the run context's name, as the run summary prints it)."""
    run = store.get_context_by_type_and_name(md.PIPELINE_RUN, run_id)
    if run is None:
        recent = sorted(store.get_contexts_by_type(md.PIPELINE_RUN), key=lambda c: c.id)[-5:]
        known = ", ".join(c.name for c in reversed(recent)) or "none"
        raise UserError(f"no pipeline run {run_id!r} in this metadata store (newest runs: {known})")
    for execution in store.get_executions_by_context(run.id):
        finished = md.state_name(execution) in ("COMPLETE", "CACHED")
        if finished and md.node_id_of(store, execution.id, pipeline_name) == EVALUATOR_NODE:
            return execution
    raise UserError(f"pipeline run {run_id!r} has no finished Evaluator execution")


def select_evaluator_execution(
    store: mlmd.MetadataStore, pipeline_name: str = "lexflow", version: Optional[str] = None, run: Optional[str] = None
) -> tuple[Any, str]:
    """(Evaluator execution, what it is) for a version, a run (`latest`: the newest, which may have
    refused its candidate), or by default the model that serves: the newest pushed version."""
    if version:
        return evaluator_execution_for_version(store, version), f"the evaluation that let version {version} be pushed"
    if run == LATEST_RUN:
        return latest_evaluator_execution(store, pipeline_name), "the latest Evaluator run (LEXFLOW_RUN=latest)"
    if run:
        return evaluator_execution_of_run(store, pipeline_name, run), f"the Evaluator run of pipeline run {run}"
    from lexflow.metadata.lineage import version_lineage

    try:
        served = version_lineage(store).version
    except UserError:  # nothing pushed yet: the latest run is all there is
        return latest_evaluator_execution(store, pipeline_name), "the latest Evaluator run (no version pushed yet)"
    return evaluator_execution_for_version(store, served), f"the served model: version {served}, the newest pushed"


def find_evaluator_run(
    store: mlmd.MetadataStore, pipeline_name: str = "lexflow", version: Optional[str] = None, run: Optional[str] = None
) -> EvaluatorRun:
    execution, selection = select_evaluator_execution(store, pipeline_name, version, run)
    return dataclasses.replace(evaluator_run(store, execution), selection=selection)


def slice_of(slice_key: Any) -> tuple[str, str]:
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


def load_eval_config(evaluation_uri: str) -> Any:
    # TFMA writes the config it actually ran with next to the metrics; its loader lives in
    # the writers module (tfma.load_eval_result reads it the same way).
    from tensorflow_model_analysis.writers import eval_config_writer

    return eval_config_writer.load_eval_run(evaluation_uri)[0]


def load_plots(evaluation_uri: str) -> list[Any]:
    import tensorflow_model_analysis as tfma

    return list(tfma.load_plots(evaluation_uri))


def load_validation(evaluation_uri: str) -> Any:
    import tensorflow_model_analysis as tfma

    return tfma.load_validation_result(evaluation_uri)


def headline(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole-model metrics (no class id) under their short names, per slice, model and is_diff."""
    rows = frame[frame["class_id"].isna() & frame["metric"].isin(list(HEADLINE))].copy()
    rows["metric"] = rows["metric"].map(HEADLINE)
    return rows
