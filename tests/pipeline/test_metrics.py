"""The Evaluator's metrics (pipeline/metrics.py), all from one confusion matrix: scikit-learn's
definitions, never NaN for an absent class, under the metric keys the reports read."""

import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from tensorflow_model_analysis.metrics import metric_types

from pipeline import metrics as M
from pipeline.metrics import accuracy_from_counts, macro_f1_from_counts, per_class_from_counts, per_class_values


def _counts(actual, predicted):
    counts = {}
    for a, p in zip(actual, predicted, strict=True):
        counts[(a, p)] = counts.get((a, p), 0) + 1
    return counts


def test_matches_scikit_learn_on_random_decisions():
    rng = np.random.default_rng(0)
    for _ in range(20):
        actual = rng.integers(0, 6, size=50)
        predicted = np.where(rng.random(50) < 0.6, actual, rng.integers(0, 6, size=50))
        expected = f1_score(actual, predicted, average="macro")
        assert macro_f1_from_counts(_counts(actual.tolist(), predicted.tolist())) == pytest.approx(expected)


def test_a_class_absent_from_labels_and_predictions_is_left_out_not_nan():
    # Classes 0..3 exist in the label vocabulary; class 3 has no eval rows and is never predicted.
    value = macro_f1_from_counts(_counts([0, 0, 1, 2], [0, 0, 1, 1]))
    assert not math.isnan(value)
    assert value == pytest.approx((1.0 + 2 / 3 + 0.0) / 3)


def test_a_class_only_predicted_counts_as_zero():
    assert macro_f1_from_counts(_counts([0, 0], [0, 1])) == pytest.approx((2 / 3 + 0.0) / 2)


def test_no_prediction_is_a_miss_and_an_empty_slice_is_nan():
    assert macro_f1_from_counts({(0, 0): 1, (1, -1): 1}) == pytest.approx((1.0 + 0.0) / 2)
    assert math.isnan(macro_f1_from_counts({}))


def test_per_class_precision_recall_f1_match_scikit_learn():
    rng = np.random.default_rng(1)
    for _ in range(20):
        actual = rng.integers(0, 7, size=60)
        predicted = np.where(rng.random(60) < 0.5, actual, rng.integers(0, 7, size=60))
        labels = sorted(set(actual.tolist()) | set(predicted.tolist()))
        precision, recall, f1, _ = precision_recall_fscore_support(actual, predicted, labels=labels, zero_division=0)
        scores = per_class_from_counts(_counts(actual.tolist(), predicted.tolist()))
        assert list(scores) == labels
        assert [s.precision for s in scores.values()] == pytest.approx(precision.tolist())
        assert [s.recall for s in scores.values()] == pytest.approx(recall.tolist())
        assert [s.f1 for s in scores.values()] == pytest.approx(f1.tolist())
        assert accuracy_from_counts(_counts(actual.tolist(), predicted.tolist())) == pytest.approx(
            accuracy_score(actual, predicted)
        )


def test_small_confusion_matrix_by_hand():
    # actual 0: 3 right, 1 taken for 1; actual 1: 2 right; actual 2: 1 taken for 0, 1 without a prediction.
    counts = {(0, 0): 3, (0, 1): 1, (1, 1): 2, (2, 0): 1, (2, -1): 1}
    scores = per_class_from_counts(counts)
    assert scores[0] == pytest.approx((3 / 4, 3 / 4, 3 / 4))
    assert scores[1] == pytest.approx((2 / 3, 1.0, 0.8))
    # Class 2 is never predicted: precision 0 (as scikit-learn's zero_division=0), never NaN.
    assert scores[2] == pytest.approx((0.0, 0.0, 0.0))
    assert accuracy_from_counts(counts) == pytest.approx(5 / 8)
    assert math.isnan(accuracy_from_counts({}))


def test_per_class_values_use_the_keys_the_reports_read():
    key = metric_types.MetricKey(name=M.F1_NAME, model_name="candidate", output_name="scores")
    values = per_class_values({(0, 0): 2, (1, 0): 1}, key)
    by_name = {(k.name, k.sub_key.class_id): v for k, v in values.items()}
    assert by_name == pytest.approx(
        {
            ("f1_score", 0): 0.8,
            ("precision", 0): 2 / 3,
            ("recall", 0): 1.0,
            ("f1_score", 1): 0.0,
            ("precision", 1): 0.0,
            ("recall", 1): 0.0,
        }
    )
    assert {(k.model_name, k.output_name) for k in values} == {("candidate", "scores")}


def test_the_metrics_share_one_confusion_matrix_computation():
    computations = []
    for metric in (M.MacroF1(), M.ArgmaxAccuracy(), M.PerClassMetrics()):
        computations += metric.computations(model_names=["candidate"], output_names=["scores"])
    combined = {c for c in computations if isinstance(c, metric_types.MetricComputation)}
    assert len(combined) == 1  # TFMA de-duplicates equal computations: one combiner for all three
