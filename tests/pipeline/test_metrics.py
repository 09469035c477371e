"""The Evaluator's macro-F1 (pipeline/metrics.py): scikit-learn's definition, never NaN for an absent class."""

import math

import numpy as np
import pytest
from sklearn.metrics import f1_score

from pipeline.metrics import macro_f1_from_counts


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
