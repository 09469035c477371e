"""TFMA metrics the stock set lacks or makes expensive, all read from ONE multi-class confusion matrix.

`MacroF1`: TFMA's `F1Score` with `macro_average` gives NaN for a class that is neither in the
labels nor in the predictions of a slice (F1 = 0/0), and the NaN poisons the average: the
aggregate is NaN, the blessing threshold fails, and a good model is not pushed. That happens
whenever an eval split is small against a long-tailed label set (measured: CUAD, 37 classes, 10 %
eval split: two classes had no eval rows; the model scored 0.87 accuracy and was refused).
`MacroF1` averages F1 over the classes that occur in the slice, as a label or as a prediction,
like scikit-learn's `f1_score(average="macro")`. A class that is predicted but never true
counts with F1 0 (a false alarm is an error); a class that is true but never predicted counts
with F1 0 (a miss is an error).

`ArgmaxAccuracy` and `PerClassMetrics` replace Keras' `SparseCategoricalAccuracy` and a second
MetricsSpec that binarized the one-hot decision over every class id with `F1Score`, `Precision`
and `Recall`: that was 3 x N-classes combiners per model and slice, each fed every row, so the
Evaluator's cost grew with classes times rows (BENCHMARKS.md, "Pipeline cost"). They write the
same metric names (`sparse_categorical_accuracy`, `f1_score`, `precision`, `recall` with a
class-id sub key) that the reports read.

All of them read the argmax decision from TFMA's multi-class confusion matrix at threshold 0
(the same matrix the MultiClassConfusionMatrixPlot shows; TFMA computes it once), so they score
what the served `label` output answers.

The Evaluator imports this module by name (`MetricConfig.module`), so it must stay importable
wherever the pipeline runs (the project is installed in the pipeline image).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import NamedTuple, Optional

from tensorflow_model_analysis.metrics import metric_types, metric_util
from tensorflow_model_analysis.metrics import multi_class_confusion_matrix_metrics as mccm
from tensorflow_model_analysis.proto import config_pb2

MACRO_F1_NAME = "macro_f1"
# The names Keras' and TFMA's stock metrics wrote: the reports (lexflow/metadata/evaluation.py) read these.
ACCURACY_NAME = "sparse_categorical_accuracy"
F1_NAME, PRECISION_NAME, RECALL_NAME = "f1_score", "precision", "recall"
# At threshold 0 every example counts under its argmax class (scores are > 0).
_ARGMAX_THRESHOLD = 0.0

Counts = dict[tuple[int, int], float]  # (actual class, predicted class) -> examples


class ClassScores(NamedTuple):
    precision: float
    recall: float
    f1: float


def per_class_from_counts(entries: Counts) -> dict[int, ClassScores]:
    """{(actual, predicted): count} -> precision, recall, F1 of each class that occurs (as a label or
    a prediction), as scikit-learn's `precision_recall_fscore_support(zero_division=0)`: a ratio
    with nothing to count (a class never predicted has no precision) is 0, never NaN.

    A predicted class of -1 (TFMA: no score above the threshold) is a miss for the actual class.
    """
    tp: dict[int, float] = defaultdict(float)
    fp: dict[int, float] = defaultdict(float)
    fn: dict[int, float] = defaultdict(float)
    for (actual, predicted), count in entries.items():
        if actual == predicted:
            tp[actual] += count
            continue
        fn[actual] += count
        if predicted >= 0:
            fp[predicted] += count
    classes = sorted(c for c in {*tp, *fp, *fn} if c >= 0 and tp[c] + fp[c] + fn[c] > 0)
    return {c: _scores(tp[c], fp[c], fn[c]) for c in classes}


def _scores(tp: float, fp: float, fn: float) -> ClassScores:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn)  # the caller keeps only classes with tp + fp + fn > 0
    return ClassScores(precision, recall, f1)


def macro_f1_from_counts(entries: Counts) -> float:
    """{(actual class, predicted class): count} -> macro-F1 over the classes that occur."""
    scores = per_class_from_counts(entries)
    if not scores:
        return float("nan")  # an empty slice has no F1
    return sum(s.f1 for s in scores.values()) / len(scores)


def accuracy_from_counts(entries: Counts) -> float:
    """Share of examples whose argmax is the label (no prediction, -1, is wrong); NaN for no examples."""
    total = sum(entries.values())
    if not total:
        return float("nan")
    return sum(count for (actual, predicted), count in entries.items() if actual == predicted) / total


def _argmax_computations(
    derive: Callable[[Counts, metric_types.MetricKey], dict],
    name: str,
    eval_config: Optional[config_pb2.EvalConfig],
    model_name: str,
    output_name: str,
    example_weighted: bool,
) -> metric_types.MetricComputations:
    """The confusion matrix computation (shared: TFMA de-duplicates identical ones) and one derived
    computation that turns its counts into metric values; `key` is the metric's own key."""
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name, example_weighted=example_weighted
    )
    computations = mccm.multi_class_confusion_matrices(
        thresholds=[_ARGMAX_THRESHOLD],
        eval_config=eval_config,
        model_name=model_name,
        output_name=output_name,
        example_weighted=example_weighted,
    )
    matrices_key = computations[-1].keys[-1]

    def result(metrics: dict) -> dict:
        matrix = metrics[matrices_key].get(_ARGMAX_THRESHOLD, {})
        counts = {(k.actual_class_id, k.predicted_class_id): float(v) for k, v in matrix.items()}
        return derive(counts, key)

    computations.append(metric_types.DerivedMetricComputation(keys=[key], result=result))
    return computations


def _macro_f1(
    name: str = MACRO_F1_NAME,
    eval_config: Optional[config_pb2.EvalConfig] = None,
    model_name: str = "",
    output_name: str = "",
    example_weighted: bool = False,
) -> metric_types.MetricComputations:
    def derive(counts: Counts, key: metric_types.MetricKey) -> dict:
        return {key: macro_f1_from_counts(counts)}

    return _argmax_computations(derive, name, eval_config, model_name, output_name, example_weighted)


def _accuracy(
    name: str = ACCURACY_NAME,
    eval_config: Optional[config_pb2.EvalConfig] = None,
    model_name: str = "",
    output_name: str = "",
    example_weighted: bool = False,
) -> metric_types.MetricComputations:
    def derive(counts: Counts, key: metric_types.MetricKey) -> dict:
        return {key: accuracy_from_counts(counts)}

    return _argmax_computations(derive, name, eval_config, model_name, output_name, example_weighted)


def per_class_values(counts: Counts, key: metric_types.MetricKey) -> dict:
    """f1_score / precision / recall keys with a class-id sub key (as TFMA's binarized metrics wrote
    them), for each class that occurs in the slice."""
    values = {}
    for class_id, scores in per_class_from_counts(counts).items():
        sub_key = metric_types.SubKey(class_id=class_id)
        for name, value in ((F1_NAME, scores.f1), (PRECISION_NAME, scores.precision), (RECALL_NAME, scores.recall)):
            values[_with(key, name, sub_key)] = value
    return values


def _with(key: metric_types.MetricKey, name: str, sub_key: metric_types.SubKey) -> metric_types.MetricKey:
    return metric_types.MetricKey(
        name=name,
        model_name=key.model_name,
        output_name=key.output_name,
        sub_key=sub_key,
        example_weighted=key.example_weighted,
    )


def _per_class(
    name: str = F1_NAME,
    eval_config: Optional[config_pb2.EvalConfig] = None,
    model_name: str = "",
    output_name: str = "",
    example_weighted: bool = False,
) -> metric_types.MetricComputations:
    return _argmax_computations(per_class_values, name, eval_config, model_name, output_name, example_weighted)


class MacroF1(metric_types.Metric):
    """Macro-averaged F1 of the argmax decision over the classes present in the slice."""

    def __init__(self, name: str = MACRO_F1_NAME):
        # merge_per_key_computations calls _macro_f1 once per model (candidate, baseline) and output.
        super().__init__(metric_util.merge_per_key_computations(_macro_f1), name=name)


class ArgmaxAccuracy(metric_types.Metric):
    """Accuracy of the argmax decision, under Keras' name (`sparse_categorical_accuracy`)."""

    def __init__(self, name: str = ACCURACY_NAME):
        super().__init__(metric_util.merge_per_key_computations(_accuracy), name=name)


class PerClassMetrics(metric_types.Metric):
    """F1, precision and recall of each class's argmax decision (keys f1_score/precision/recall, sub key
    class_id). For reports: a threshold on it would name only `f1_score` without a class."""

    def __init__(self, name: str = F1_NAME):
        super().__init__(metric_util.merge_per_key_computations(_per_class), name=name)


for _metric in (MacroF1, ArgmaxAccuracy, PerClassMetrics):
    metric_types.register_metric(_metric)
