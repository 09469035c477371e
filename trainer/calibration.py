"""Scores that are probabilities, whatever the model family: temperature scaling on the eval split.

The served `scores` are read as confidences (the gateway's responses, the review console's queue, the
drift and shadow reports), so they must be probabilities that sum to 1. The linear SVM's outputs are
one-vs-rest margins (sigmoid per class, trainer/model.py) and the MLP's softmax is over-confident
after many epochs. Both get the same treatment (Guo et al., 2017, "On Calibration of Modern Neural
Networks"): the exported model outputs softmax(z / T), with the logits z and one temperature T fitted
by maximum likelihood on the eval split. Dividing by T > 0 keeps the arg-max, so the model's decisions,
and every accuracy and F1 the Evaluator measures, are unchanged.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import json
import math
from dataclasses import asdict, dataclass

import absl.logging
import numpy as np
import tensorflow as tf
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from trainer import features as F

RECORD_FILE = "calibration.json"  # in the Trainer's ModelRun artifact, beside its TensorBoard logs

# ln T is searched in [-LOG_T_BOUND, LOG_T_BOUND]: T between 1/200 and 200 covers SVM margins of
# order 1 and MLP logits of order 10-100.
LOG_T_BOUND = math.log(200.0)


@dataclass(frozen=True)
class Calibration:
    temperature: float
    eval_rows: int
    nll_before: float  # mean negative log-likelihood of softmax(z), T = 1
    nll_after: float  # ... of softmax(z / T)

    def describe(self) -> str:
        return (
            f"temperature {self.temperature:.3g} on {self.eval_rows} eval rows "
            f"(log-loss {self.nll_before:.3f} -> {self.nll_after:.3f})"
        )


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    return float(-log_softmax(logits / temperature, axis=1)[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> Calibration:
    """The T > 0 that minimises the eval log-loss of softmax(logits / T) (a 1-D convex problem in 1/T)."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if logits.ndim != 2 or len(logits) != len(labels) or len(labels) == 0:
        raise ValueError(f"need [rows, classes] logits and one label per row, got {logits.shape} and {labels.shape}")
    result = minimize_scalar(
        lambda log_t: _nll(logits, labels, math.exp(log_t)),
        bounds=(-LOG_T_BOUND, LOG_T_BOUND),
        method="bounded",
    )
    temperature = math.exp(float(result.x))
    return Calibration(temperature, len(labels), _nll(logits, labels, 1.0), _nll(logits, labels, temperature))


def logits_of(model: tf.keras.Model) -> tf.keras.Model:
    """The model up to its scores layer's input: the class logits (SVM margins for the linear SVM)."""
    return tf.keras.Model(model.inputs, model.get_layer(F.OUT_SCORES).input)


@tf.keras.utils.register_keras_serializable(package="lexflow")
class TemperatureSoftmax(tf.keras.layers.Layer):
    """softmax(logits / temperature)."""

    def __init__(self, temperature: float, **kwargs):
        super().__init__(**kwargs)
        self.temperature = float(temperature)

    def call(self, logits):
        return tf.nn.softmax(logits / self.temperature, axis=-1)

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}


def calibrated(model: tf.keras.Model, calibration: Calibration) -> tf.keras.Model:
    """The served model: the trained layers, then softmax(logits / T) as `scores`."""
    logits = model.get_layer(F.OUT_SCORES).input
    scores = TemperatureSoftmax(calibration.temperature, name="calibrated_scores")(logits)
    return tf.keras.Model(model.inputs, scores)


def calibrate(model: tf.keras.Model, eval_batches: tf.data.Dataset) -> Calibration:
    """Fit T on one pass of (inputs, label) eval batches."""
    to_logits = logits_of(model)
    logits, labels = [], []
    for inputs, label in eval_batches:
        logits.append(to_logits(inputs, training=False).numpy())
        labels.append(np.reshape(label.numpy(), [-1]))
    if not labels:  # no eval rows: nothing to fit on, keep the plain softmax of the logits
        return Calibration(1.0, 0, math.nan, math.nan)
    return fit_temperature(np.concatenate(logits), np.concatenate(labels))


def fit_and_record(model: tf.keras.Model, eval_batches: tf.data.Dataset, record_dir: str) -> Calibration:
    """What both Trainers do before export: fit T on the eval batches, log it, and keep it in the
    ModelRun artifact (`RECORD_FILE`, strict JSON: no eval rows gives null log-losses)."""
    calibration = calibrate(model, eval_batches)
    absl.logging.info("calibration: %s", calibration.describe())
    record = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(calibration).items()}
    tf.io.gfile.makedirs(record_dir)
    with tf.io.gfile.GFile(f"{record_dir}/{RECORD_FILE}", "w") as handle:
        handle.write(json.dumps(record, allow_nan=False))
    return calibration
