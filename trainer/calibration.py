"""Scores that are probabilities, whatever the model family: temperature scaling on the validation split.

The served `scores` are read as confidences (the gateway's responses, the review console's queue, the
drift and shadow reports), so they must be probabilities that sum to 1. The linear SVM's outputs are
one-vs-rest margins (sigmoid per class, trainer/model.py) and the MLP's softmax is over-confident
after many epochs. Both get the same treatment (Guo et al., 2017, "On Calibration of Modern Neural
Networks"): the exported model outputs softmax(z / T), with the logits z and one temperature T fitted
by maximum likelihood on the validation split, never on the Evaluator's eval split (which only judges).
Dividing by T > 0 keeps the arg-max, so the model's decisions, and every accuracy and F1 the Evaluator
measures, are unchanged.

T is fitted on a model that did not train on the validation rows: the model search's chosen trial
(trained on train), or the Trainer's first fit when the search is off. The final model (refitted on
train + validation with the same settings) serves with that T: its logits have the same scale, since
the refit keeps the regularisation per row (l2 = 1 / (2 C N)) and the epochs. The same pass gives the
model's validation accuracy and macro-F1, kept in the record beside T.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import absl.logging
import numpy as np
import tensorflow as tf
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from trainer import features as F
from trainer.search_space import accuracy, macro_f1

# The search's chosen trial's temperature(s) and validation scores, in its best_hyperparameters' values
# (trainer/tuning.py writes them, trainer/task.py reads them).
CALIBRATION_KEY = "calibration"
RECORD_FILE = "calibration.json"  # in the Trainer's ModelRun artifact, beside its TensorBoard logs
SERVED = "served model (trained on train)"  # an encoder: it is not refitted (trainer/encoder/task.py)

# ln T is searched in [-LOG_T_BOUND, LOG_T_BOUND]: T between 1/200 and 200 covers SVM margins of
# order 1 and MLP logits of order 10-100.
LOG_T_BOUND = math.log(200.0)


@dataclass(frozen=True)
class Calibration:
    temperature: float
    rows: int  # validation rows T was fitted on (0: none, T stays 1)
    nll_before: float  # mean negative log-likelihood of softmax(z), T = 1
    nll_after: float  # ... of softmax(z / T)
    accuracy: float = math.nan  # of the argmax on those rows: the validation scores of the fitted model
    macro_f1: float = math.nan
    fitted_on: str = SERVED  # which model's logits: see the module docstring
    # An ensemble's: one temperature per head (the served scores average softmax(z_m / T_m); `temperature`
    # is then 1). Empty for a single model.
    head_temperatures: tuple[float, ...] = ()

    def describe(self) -> str:
        scale = f"temperature {self.temperature:.3g}"
        if self.head_temperatures:
            scale = "head temperatures " + ", ".join(f"{t:.3g}" for t in self.head_temperatures)
        return (
            f"{scale} on {self.rows} validation rows "
            f"(log-loss {self.nll_before:.3f} -> {self.nll_after:.3f}; {self.fitted_on})"
        )

    def record(self) -> dict[str, Any]:
        """Strict JSON (no NaN): what the Trainer keeps in its ModelRun and the search passes to it."""
        fields = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}
        if not self.head_temperatures:  # a single model's record, as before ensembles
            del fields["head_temperatures"]
        else:
            fields["head_temperatures"] = list(self.head_temperatures)
        return fields

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Calibration:
        fields: dict[str, Any] = {k: (math.nan if v is None else v) for k, v in record.items()}
        fields["head_temperatures"] = tuple(float(t) for t in record.get("head_temperatures") or ())
        return cls(**{k: v for k, v in fields.items() if k in cls.__dataclass_fields__})


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    return float(-log_softmax(logits / temperature, axis=1)[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, fitted_on: str = SERVED) -> Calibration:
    """The T > 0 that minimises the log-loss of softmax(logits / T) (a 1-D convex problem in 1/T), with
    the accuracy and macro-F1 of the logits' argmax; T = 1 and no scores without rows."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if logits.ndim != 2 or len(logits) != len(labels):
        raise ValueError(f"need [rows, classes] logits and one label per row, got {logits.shape} and {labels.shape}")
    if len(labels) == 0:  # nothing to fit on: keep the plain softmax of the logits
        return Calibration(1.0, 0, math.nan, math.nan, fitted_on=fitted_on)
    result = minimize_scalar(
        lambda log_t: _nll(logits, labels, math.exp(log_t)),
        bounds=(-LOG_T_BOUND, LOG_T_BOUND),
        method="bounded",
    )
    temperature = math.exp(float(result.x))
    predictions = logits.argmax(axis=1)
    return Calibration(
        temperature,
        len(labels),
        _nll(logits, labels, 1.0),
        _nll(logits, labels, temperature),
        accuracy(labels, predictions),
        macro_f1(labels, predictions, logits.shape[1]),
        fitted_on,
    )


def head_probabilities(logits: np.ndarray, temperatures: Sequence[float]) -> np.ndarray:
    """The ensemble's served scores: the mean over heads of softmax(z_m / T_m); `logits` holds the
    heads' [rows, classes] blocks side by side."""
    blocks = np.split(np.asarray(logits, np.float64), len(temperatures), axis=1)
    return np.mean([np.exp(log_softmax(z / t, axis=1)) for z, t in zip(blocks, temperatures, strict=True)], axis=0)


def fit_ensemble(logits: np.ndarray, labels: np.ndarray, fitted_on: str = SERVED, heads: int = 1) -> Calibration:
    """Each head's temperature fitted alone (its own log-loss), then the scores of their average: its
    log-loss at T = 1 and after, and the accuracy and macro-F1 of its argmax."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    blocks = np.split(logits, heads, axis=1)
    temperatures = tuple(fit_temperature(block, labels).temperature for block in blocks)
    if len(labels) == 0:
        return Calibration(1.0, 0, math.nan, math.nan, fitted_on=fitted_on, head_temperatures=temperatures)
    rows = np.arange(len(labels))
    before, after = head_probabilities(logits, [1.0] * heads), head_probabilities(logits, temperatures)
    predictions = after.argmax(axis=1)
    return Calibration(
        1.0,
        len(labels),
        float(-np.log(np.maximum(before[rows, labels], 1e-12)).mean()),
        float(-np.log(np.maximum(after[rows, labels], 1e-12)).mean()),
        accuracy(labels, predictions),
        macro_f1(labels, predictions, blocks[0].shape[1]),
        fitted_on,
        temperatures,
    )


def logits_of(model: tf.keras.Model) -> tf.keras.Model:
    """The model up to its scores layer's input: the class logits (SVM margins for the linear SVM)."""
    return tf.keras.Model(model.inputs, model.get_layer(F.OUT_SCORES).input)


@tf.keras.utils.register_keras_serializable(package="lexflow")
class TemperatureSoftmax(tf.keras.layers.Layer):
    """softmax(logits / temperature)."""

    def __init__(self, temperature: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.temperature = float(temperature)

    def call(self, logits: tf.Tensor) -> tf.Tensor:
        return tf.nn.softmax(logits / self.temperature, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "temperature": self.temperature}


@tf.keras.utils.register_keras_serializable(package="lexflow")
class HeadAverage(tf.keras.layers.Layer):
    """The mean over heads of softmax(z_m / T_m), z_m the m-th [batch, classes] block of the logits."""

    def __init__(self, temperatures: Sequence[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.temperatures = [float(t) for t in temperatures]

    def call(self, logits: tf.Tensor) -> tf.Tensor:
        blocks = tf.split(logits, len(self.temperatures), axis=-1)
        return tf.add_n([tf.nn.softmax(z / t, axis=-1) for z, t in zip(blocks, self.temperatures, strict=True)]) / len(
            blocks
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "temperatures": self.temperatures}


def calibrated(model: tf.keras.Model, calibration: Calibration) -> tf.keras.Model:
    """The served model: the trained layers, then softmax(logits / T) as `scores` (an ensemble: the
    average of its heads' softmax(z_m / T_m))."""
    logits = model.get_layer(F.OUT_SCORES).input
    if calibration.head_temperatures:
        scores = HeadAverage(calibration.head_temperatures, name="calibrated_scores")(logits)
    else:
        scores = TemperatureSoftmax(calibration.temperature, name="calibrated_scores")(logits)
    return tf.keras.Model(model.inputs, scores)


def logits_and_labels(model: tf.keras.Model, batches: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The class logits and labels of one pass of (inputs, label) batches."""
    to_logits = logits_of(model)
    logits, labels = [], []
    for inputs, label in batches:
        logits.append(to_logits(inputs, training=False).numpy())
        labels.append(np.reshape(label.numpy(), [-1]))
    if not labels:
        classes = int(model.get_layer(F.OUT_SCORES).input.shape[-1])
        return np.zeros((0, classes), np.float32), np.zeros(0, np.int64)
    return np.concatenate(logits), np.concatenate(labels)


def calibrate(model: tf.keras.Model, batches: tf.data.Dataset, fitted_on: str = SERVED, heads: int = 0) -> Calibration:
    """Fit T (or, with `heads`, each head's T_m) on one pass of (inputs, label) validation batches."""
    if heads:
        return fit_ensemble(*logits_and_labels(model, batches), fitted_on=fitted_on, heads=heads)
    return fit_temperature(*logits_and_labels(model, batches), fitted_on=fitted_on)


def record(calibration: Calibration, record_dir: str) -> None:
    """Log T and keep it in the ModelRun artifact (`RECORD_FILE`, strict JSON: no rows gives nulls)."""
    absl.logging.info("calibration: %s", calibration.describe())
    tf.io.gfile.makedirs(record_dir)
    with tf.io.gfile.GFile(f"{record_dir}/{RECORD_FILE}", "w") as handle:
        handle.write(json.dumps(calibration.record(), allow_nan=False))


def fit_and_record(
    model: tf.keras.Model, batches: tf.data.Dataset, record_dir: str, fitted_on: str = SERVED, heads: int = 0
) -> Calibration:
    """What a Trainer that fits its own T does before export: fit it on the validation batches, record it."""
    calibration = calibrate(model, batches, fitted_on, heads)
    record(calibration, record_dir)
    return calibration
