"""The classifier: a wide MLP over TF-IDF weighted word n-grams.

Bag-of-n-gram MLPs with one wide hidden layer ("WideMLP", Galke & Scherp, ACL 2022) match or
beat linear TF-IDF models and many sequence models on topic-style text classification at a
fraction of the cost of a transformer: training is one sparse matmul per batch, so it fits a
2-core CPU. Dropout on the input weights and on the hidden layer regularises the large first
layer, which matters on small legal datasets with long-tailed label distributions.

`hidden_units: 0` makes it a linear model over the TF-IDF n-grams, and `loss: squared_hinge`
trains it as a one-vs-rest linear SVM (with `l2`; what scikit-learn's LinearSVC fits): on the
real legal benchmarks (BENCHMARKS.md) that beat the MLP, which overfits the rare classes, and
it trains in a fraction of the time. While training, scores are softmax probabilities for
cross-entropy and sigmoid(margin) per class for the SVM (one-vs-rest: they need not sum to 1);
the exported model serves softmax(logits / T) for both (trainer/calibration.py), and the label is
the argmax either way.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

from collections.abc import Sequence
from typing import Optional, Union

import tensorflow as tf

from trainer import features as F
from trainer.params import TrainParams


class SparseTfidfProjection(tf.keras.layers.Layer):
    """(ids, weights) SparseTensors of a bag of terms -> dense [batch, units] (a sparse matmul)."""

    def __init__(self, vocab_size: int, units: int, input_dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.units = units
        self.input_dropout = input_dropout

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(self.vocab_size, self.units), initializer="glorot_uniform", trainable=True
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros", trainable=True)
        super().build(input_shape)

    def call(self, inputs, training=None):
        ids, weights = inputs
        values = weights.values
        if training and self.input_dropout > 0:
            values = tf.nn.dropout(values, rate=self.input_dropout)
        # The batch as a sparse [batch, vocab] matrix times the kernel: the weighted sum of each
        # document's term rows, without materialising a [terms in batch, units] gather and its
        # gradient (an embedding lookup measured 5-8x slower per example on 2 cores). Rows with no
        # terms (punctuation-only text) stay zero vectors, so the batch stays aligned.
        matrix = tf.SparseTensor(
            tf.stack([ids.indices[:, 0], ids.values], axis=1),
            values,
            tf.stack([ids.dense_shape[0], tf.constant(self.vocab_size, tf.int64)]),
        )
        return tf.sparse.sparse_dense_matmul(matrix, self.kernel) + self.bias

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "units": self.units,
            "input_dropout": self.input_dropout,
        }


def build_model(
    vocab_size: int, num_classes: int, params: TrainParams, class_weights: Optional[Sequence[float]] = None
) -> tf.keras.Model:
    """Inputs are the Transform outputs `term_ids` / `term_weights`; output is one score per class.

    `class_weights` (one per class index) go into the squared-hinge loss, which weighs each
    class's positives only (see OneVsRestSquaredHinge); cross-entropy takes them as sample
    weights from the dataset instead (`uses_sample_weights`).
    """
    if num_classes < 2:
        raise ValueError(f"need at least 2 classes to train a classifier, got {num_classes}")
    ids = tf.keras.Input(shape=(None,), name=F.TERM_IDS, dtype=tf.int64, sparse=True)
    weights = tf.keras.Input(shape=(None,), name=F.TERM_WEIGHTS, dtype=tf.float32, sparse=True)
    if params.hidden_units:
        projection = SparseTfidfProjection(
            vocab_size, params.hidden_units, params.input_dropout, name="tfidf_projection"
        )
        hidden = tf.keras.layers.Activation("relu")(projection([ids, weights]))
        hidden = tf.keras.layers.Dropout(params.dropout, seed=params.seed)(hidden)
        logits = tf.keras.layers.Dense(num_classes, name="logits")(hidden)
    else:  # linear: one weight per (n-gram, class)
        projection = SparseTfidfProjection(vocab_size, num_classes, params.input_dropout, name="tfidf_projection")
        logits = projection([ids, weights])
    hinge = params.loss == "squared_hinge"
    scores = tf.keras.layers.Activation("sigmoid" if hinge else "softmax", name=F.OUT_SCORES)(logits)
    model = tf.keras.Model(inputs={F.TERM_IDS: ids, F.TERM_WEIGHTS: weights}, outputs=scores)
    if params.l2:
        # On the n-gram weights only: that is where a rare class can memorise its few examples.
        model.add_loss(lambda: params.l2 * tf.reduce_sum(tf.square(projection.kernel)))
    loss = OneVsRestSquaredHinge(class_weights) if hinge else tf.keras.losses.SparseCategoricalCrossentropy()
    learning_rate = params.learning_rate
    if params.lr_decay == "cosine":
        learning_rate = tf.keras.optimizers.schedules.CosineDecay(params.learning_rate, params.train_steps)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss=loss,
        weighted_metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def uses_sample_weights(params: TrainParams) -> bool:
    """Whether class weights reach the model as per-example sample weights (cross-entropy)."""
    return params.loss != "squared_hinge"


class OneVsRestSquaredHinge(tf.keras.losses.Loss):
    """Sum over classes k of c_k * max(0, 1 - t_k * z_k)^2, t_k = +1 for the true class, -1 otherwise.

    Class weights c_k apply to class k's positives only, as in LinearSVC/liblinear's one-vs-rest
    training: a frequent class's examples keep full weight as negatives of every other class.
    Weighting whole examples instead (a sample weight on all K terms) lets a rare class's
    detector ignore most of the frequent class and over-fire: measured on unfair_tos_en (91 %
    `none`), accuracy 0.923 vs. 0.939 at the same macro-F1.

    The model outputs p = sigmoid(z), and z = ln(p) - ln(1 - p) recovers the margins exactly
    (the SVM's hinge region is |z| <= 1, far from where float32 sigmoid saturates), so the
    output stays a score in (0, 1) per class while the loss sees the SVM margins.
    """

    def __init__(
        self, class_weights: Optional[Sequence[float]] = None, name: str = "one_vs_rest_squared_hinge", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]

    def call(self, y_true, y_pred):
        p = tf.clip_by_value(y_pred, 1e-7, 1.0 - 1e-7)
        margins = tf.math.log(p) - tf.math.log1p(-p)
        positives = tf.one_hot(tf.cast(tf.reshape(y_true, [-1]), tf.int32), tf.shape(y_pred)[-1], dtype=y_pred.dtype)
        losses = tf.square(tf.nn.relu(1.0 - (2.0 * positives - 1.0) * margins))
        if self.class_weights is not None:
            weights = tf.constant(self.class_weights, y_pred.dtype)
            losses *= 1.0 + positives * (weights - 1.0)  # c_k on the positive term, 1 elsewhere
        return tf.reduce_sum(losses, axis=-1)

    def get_config(self):
        return {**super().get_config(), "class_weights": self.class_weights}


def class_weights(counts: dict[str, int], labels: list[str], mode: Union[str, float]) -> list[float]:
    """Loss weight per class index, normalised to mean 1 over the training distribution.

    "balanced" is N / (C * n_c); "sqrt" its square root, a milder push towards rare classes
    that keeps accuracy on the frequent ones; a number p is (N / (C * n_c)) ** p, between
    the two extremes (0 = "none", 1 = "balanced").
    """
    power = {"none": 0.0, "sqrt": 0.5, "balanced": 1.0}[mode] if isinstance(mode, str) else float(mode)
    if power == 0.0:
        return [1.0] * len(labels)
    total = sum(counts.get(label, 0) for label in labels)
    raw = []
    for label in labels:
        n = max(counts.get(label, 0), 1)
        raw.append((total / (len(labels) * n)) ** power)
    mean = sum(raw[i] * counts.get(label, 0) for i, label in enumerate(labels)) / max(total, 1)
    return [w / mean for w in raw]
