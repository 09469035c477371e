import json
import math

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer.test_model import _batch
from trainer.calibration import RECORD_FILE, Calibration, calibrate, calibrated, fit_and_record, fit_temperature
from trainer.model import build_model
from trainer.params import TrainParams


def _sampled(true_temperature: float, rows: int = 4000, classes: int = 4, seed: int = 0):
    """Labels drawn from softmax(z / T): the maximum-likelihood T must come back."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, size=(rows, classes))
    p = np.exp(logits / true_temperature)
    p /= p.sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(classes, p=row) for row in p])
    return logits, labels


@pytest.mark.parametrize("true_temperature", [0.25, 1.0, 4.0])
def test_fit_recovers_the_temperature_the_labels_were_drawn_with(true_temperature):
    calibration = fit_temperature(*_sampled(true_temperature))
    assert calibration.temperature == pytest.approx(true_temperature, rel=0.15)
    assert calibration.nll_after <= calibration.nll_before + 1e-9


def test_over_confident_logits_get_a_temperature_above_one():
    logits, labels = _sampled(1.0)
    calibration = fit_temperature(logits * 10.0, labels)  # 10x too confident
    assert calibration.temperature == pytest.approx(10.0, rel=0.15)
    assert calibration.nll_after < calibration.nll_before / 2


def test_fit_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one label per row"):
        fit_temperature(np.zeros((3, 2)), np.zeros(2))


def test_calibrated_svm_scores_are_probabilities_with_the_same_decisions():
    """The linear SVM outputs a sigmoid per class; served, it outputs softmax(margins / T)."""
    tf.keras.utils.set_random_seed(0)
    params = TrainParams(hidden_units=0, loss="squared_hinge", learning_rate=0.1, input_dropout=0.0)
    model = build_model(vocab_size=10, num_classes=3, params=params)
    rows = [([0, 1], [0.7, 0.7])] * 8 + [([4, 5], [0.7, 0.7])] * 8 + [([8], [1.0]), ([1, 5], [0.5, 0.5])] * 4
    labels = tf.constant([0] * 8 + [1] * 8 + [2, 0] * 4)
    model.fit(tf.data.Dataset.from_tensors((_batch(rows), labels)).repeat(40), verbose=0)
    raw = model(_batch(rows)).numpy()
    assert not np.allclose(raw.sum(axis=1), 1.0, atol=1e-3)  # one-vs-rest sigmoids: what the gateway cannot use

    calibration = calibrate(model, tf.data.Dataset.from_tensors((_batch(rows), labels)))
    served = calibrated(model, calibration)
    scores = served(_batch(rows)).numpy()
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-5) and (scores >= 0).all()
    assert scores.argmax(axis=1).tolist() == raw.argmax(axis=1).tolist()
    assert calibration.rows == len(rows) and math.isfinite(calibration.temperature)
    assert calibration.nll_after <= calibration.nll_before + 1e-9
    # The same pass scores the model: its accuracy on the rows T was fitted on.
    assert calibration.accuracy == pytest.approx(float(np.mean(raw.argmax(axis=1) == labels.numpy())))


def test_no_validation_rows_keeps_the_plain_softmax_and_records_strict_json(tmp_path):
    model = build_model(vocab_size=10, num_classes=2, params=TrainParams(hidden_units=4))
    empty = tf.data.Dataset.from_tensors((_batch([([1], [1.0])]), tf.constant([0]))).take(0)
    calibration = fit_and_record(model, empty, str(tmp_path / "run"), fitted_on="a first fit")
    assert calibration.temperature == 1.0 and calibration.rows == 0
    record = json.loads((tmp_path / "run" / RECORD_FILE).read_text())  # no NaN token: strict parsers read it
    assert record == {
        "temperature": 1.0,
        "rows": 0,
        "nll_before": None,
        "nll_after": None,
        "accuracy": None,
        "macro_f1": None,
        "fitted_on": "a first fit",
    }
    assert Calibration.from_record(record).temperature == 1.0  # what the search hands the Trainer, read back


def test_fit_scores_the_argmax_it_calibrates():
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    calibration = fit_temperature(logits, np.array([0, 1, 2, 1]), fitted_on="trial 3")
    assert calibration.accuracy == 0.75 and calibration.fitted_on == "trial 3"
    # macro-F1 over the classes present: class 0 (P 1/2, R 1), class 1 (P 1, R 1/2), class 2 (1)
    assert calibration.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 1.0) / 3)
    assert Calibration.from_record(calibration.record()) == calibration
