"""The classifier: a wide MLP over TF-IDF weighted word n-grams.

Bag-of-n-gram MLPs with one wide hidden layer ("WideMLP", Galke & Scherp, ACL 2022) match or
beat linear TF-IDF models and many sequence models on topic-style text classification at a
fraction of the cost of a transformer: training is one sparse matmul per batch, so it fits a
2-core CPU. Dropout on the input weights and on the hidden layer regularises the large first
layer, which matters on small legal datasets with long-tailed label distributions.
"""
from __future__ import annotations

from trainer import tf_env  # noqa: F401

import tensorflow as tf

from pipeline.config import TrainParams
from trainer import features as F


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
        if training and self.input_dropout > 0:
            weights = tf.SparseTensor(
                weights.indices, tf.nn.dropout(weights.values, rate=self.input_dropout), weights.dense_shape
            )
        # "safe" keeps rows with no terms (e.g. punctuation-only text) as zero vectors
        # instead of silently dropping them and misaligning the batch.
        projected = tf.nn.safe_embedding_lookup_sparse(self.kernel, ids, weights, combiner="sum")
        return projected + self.bias

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "units": self.units,
                "input_dropout": self.input_dropout}


def build_model(vocab_size: int, num_classes: int, params: TrainParams) -> tf.keras.Model:
    """Inputs are the Transform outputs `term_ids` / `term_weights`; output is softmax scores."""
    if num_classes < 2:
        raise ValueError(f"need at least 2 classes to train a classifier, got {num_classes}")
    ids = tf.keras.Input(shape=(None,), name=F.TERM_IDS, dtype=tf.int64, sparse=True)
    weights = tf.keras.Input(shape=(None,), name=F.TERM_WEIGHTS, dtype=tf.float32, sparse=True)
    hidden = SparseTfidfProjection(vocab_size, params.hidden_units, params.input_dropout, name="tfidf_projection")(
        [ids, weights]
    )
    hidden = tf.keras.layers.Activation("relu")(hidden)
    hidden = tf.keras.layers.Dropout(params.dropout, seed=params.seed)(hidden)
    scores = tf.keras.layers.Dense(num_classes, activation="softmax", name=F.OUT_SCORES)(hidden)
    model = tf.keras.Model(inputs={F.TERM_IDS: ids, F.TERM_WEIGHTS: weights}, outputs=scores)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(params.learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),
        weighted_metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def class_weights(counts: dict[str, int], labels: list[str], mode: str) -> list[float]:
    """Loss weight per class index, normalised to mean 1 over the training distribution.

    "balanced" is N / (C * n_c); "sqrt" its square root, a milder push towards rare classes
    that keeps accuracy on the frequent ones.
    """
    if mode == "none":
        return [1.0] * len(labels)
    total = sum(counts.get(label, 0) for label in labels)
    raw = []
    for label in labels:
        n = max(counts.get(label, 0), 1)
        weight = total / (len(labels) * n)
        raw.append(weight ** 0.5 if mode == "sqrt" else weight)
    mean = sum(raw[i] * counts.get(label, 0) for i, label in enumerate(labels)) / max(total, 1)
    return [w / mean for w in raw]
