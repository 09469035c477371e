"""A TFMA metric the stock set lacks: macro-F1 that stays defined when a class is absent.

TFMA's `F1Score` with `macro_average` gives NaN for a class that is neither in the labels nor
in the predictions of a slice (F1 = 0/0), and the NaN poisons the average: the aggregate is
NaN, the blessing threshold fails, and a good model is not pushed. That happens whenever an
eval split is small against a long-tailed label set (measured: CUAD, 37 classes, 10 % eval
split: two classes had no eval rows; the model scored 0.87 accuracy and was refused).

`MacroF1` averages F1 over the classes that occur in the slice, as a label or as a prediction,
like scikit-learn's `f1_score(average="macro")`. A class that is predicted but never true
counts with F1 0 (a false alarm is an error); a class that is true but never predicted counts
with F1 0 (a miss is an error). It reads the argmax decision from TFMA's multi-class confusion
matrix at threshold 0, so it scores what the served `label` output answers.

The Evaluator imports this module by name (`MetricConfig.module`), so it must stay importable
wherever the pipeline runs (the project is installed in the pipeline image).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Optional

from tensorflow_model_analysis.metrics import metric_types, metric_util
from tensorflow_model_analysis.metrics import multi_class_confusion_matrix_metrics as mccm
from tensorflow_model_analysis.proto import config_pb2

MACRO_F1_NAME = "macro_f1"
# At threshold 0 every example counts under its argmax class (scores are > 0).
_ARGMAX_THRESHOLD = 0.0


def macro_f1_from_counts(entries: dict[tuple[int, int], float]) -> float:
    """{(actual class, predicted class): count} -> macro-F1 over the classes that occur.

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
    classes = {c for c in (*tp, *fp, *fn) if c >= 0 and tp[c] + fp[c] + fn[c] > 0}
    if not classes:
        return float("nan")  # an empty slice has no F1
    return sum(2 * tp[c] / (2 * tp[c] + fp[c] + fn[c]) for c in classes) / len(classes)


def _macro_f1(
    name: str = MACRO_F1_NAME,
    eval_config: Optional[config_pb2.EvalConfig] = None,
    model_name: str = "",
    output_name: str = "",
    example_weighted: bool = False,
) -> metric_types.MetricComputations:
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
        return {key: macro_f1_from_counts(counts)}

    computations.append(metric_types.DerivedMetricComputation(keys=[key], result=result))
    return computations


class MacroF1(metric_types.Metric):
    """Macro-averaged F1 of the argmax decision over the classes present in the slice."""

    def __init__(self, name: str = MACRO_F1_NAME):
        # merge_per_key_computations calls _macro_f1 once per model (candidate, baseline) and output.
        super().__init__(metric_util.merge_per_key_computations(_macro_f1), name=name)


metric_types.register_metric(MacroF1)
