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
from typing import Any, Optional, Union

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from tensorflow.python.autograph.core import config as autograph_config
from tfx import v1 as tfx

from trainer import data
from trainer import features as F
from trainer.params import TrainParams, TransformParams


def leave_keras_unconverted() -> None:
    """Have AutoGraph leave Keras 2's own code alone, as TF intends (idempotent).

    TF never converts the `keras` package (autograph/core/config.py `CONVERSION_RULES`), but the Keras 2
    that TF 2.16 runs under TF_USE_LEGACY_KERAS is the `tf_keras` package, which that rule misses: tracing
    the train step then transpiles Keras's internals (some 1,800 functions), measured 37 of the 42 s of a
    150-step `fit` on 2 cores, for the same graph (identical losses). Our layers and losses are still
    converted: Keras converts each layer's `call` itself.
    """
    rules = autograph_config.CONVERSION_RULES
    if not any(isinstance(r, autograph_config.DoNotConvert) and r.matches("tf_keras") for r in rules):
        autograph_config.CONVERSION_RULES = (autograph_config.DoNotConvert("tf_keras"), *rules)


leave_keras_unconverted()  # every process that builds or traces one of our models imports this module


class SparseTfidfProjection(tf.keras.layers.Layer):
    """(ids, weights) SparseTensors of a bag of terms -> dense [batch, units] (a sparse matmul)."""

    def __init__(self, vocab_size: int, units: int, input_dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.units = units
        self.input_dropout = input_dropout

    def build(self, input_shape: Any) -> None:
        self.kernel = self.add_weight(
            name="kernel", shape=(self.vocab_size, self.units), initializer="glorot_uniform", trainable=True
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros", trainable=True)
        super().build(input_shape)

    def call(self, inputs: Sequence[tf.SparseTensor], training: Optional[bool] = None) -> tf.Tensor:
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

    def get_config(self) -> dict[str, Any]:
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
    """Whether class weights reach the model as per-example sample weights (cross-entropy, one model)."""
    return params.loss != "squared_hinge" and not params.heads


# ------------------------------------------------------------------------------------------
# The ensemble: linear heads over the same TF-IDF inputs, averaged after calibration
# ------------------------------------------------------------------------------------------


class NbsvmProjection(tf.keras.layers.Layer):
    """NB-SVM's margins (Wang & Manning, 2012): for class k, sum_j x_j r_jk w_jk + b_k over the word ids.

    r_jk is the log-count ratio of word n-gram j for class k (`nb_ratios`), a constant of the model;
    w is trained with the l2 penalty on w itself, so this is a linear SVM over the features x * r_k,
    one per class, as the recipe study fitted it. Character ids (>= word_ids) are left out.
    """

    def __init__(self, ratios: np.ndarray, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.word_ids, self.classes = (int(n) for n in ratios.shape)
        self._initial_ratios = np.asarray(ratios, np.float32)

    def build(self, input_shape: Any) -> None:
        shape = (self.word_ids, self.classes)
        self.ratios = self.add_weight(
            name="ratios",
            shape=shape,
            initializer=tf.keras.initializers.Constant(self._initial_ratios),
            trainable=False,
        )
        self.kernel = self.add_weight(name="kernel", shape=shape, initializer="zeros", trainable=True)
        self.bias = self.add_weight(name="bias", shape=(self.classes,), initializer="zeros", trainable=True)
        super().build(input_shape)

    def call(self, inputs: Sequence[tf.SparseTensor]) -> tf.Tensor:
        ids, weights = inputs
        words = ids.values < self.word_ids
        matrix = tf.SparseTensor(
            tf.stack([tf.boolean_mask(ids.indices[:, 0], words), tf.boolean_mask(ids.values, words)], axis=1),
            tf.boolean_mask(weights.values, words),
            tf.stack([ids.dense_shape[0], tf.constant(self.word_ids, tf.int64)]),
        )
        return tf.sparse.sparse_dense_matmul(matrix, self.kernel * self.ratios) + self.bias


def nb_ratios(batches: tf.data.Dataset, word_ids: int, num_classes: int) -> np.ndarray:
    """r [word_ids, classes]: log((p_k / |p_k|_1) / (q_k / |q_k|_1)), p_k = 1 + the number of class-k
    rows containing the n-gram, q_k the same over the other rows (binary counts, alpha = 1), from one
    pass of (inputs, label) batches: the rows the head is fitted on."""
    counts = np.zeros((word_ids, num_classes), np.float64)
    for inputs, label in batches:
        ids = inputs[F.TERM_IDS]
        rows, values = ids.indices[:, 0].numpy(), ids.values.numpy()
        classes = np.reshape(label.numpy(), [-1])[rows]
        words = values < word_ids  # a bag holds each id once: presence counts
        np.add.at(counts, (values[words], classes[words]), 1.0)
    p = 1.0 + counts
    q = 1.0 + (counts.sum(axis=1, keepdims=True) - counts)
    return np.log((p / p.sum(axis=0)) / (q / q.sum(axis=0))).astype(np.float32)


class EnsembleLoss(tf.keras.losses.Loss):
    """The heads' losses summed: y_pred is their margins/logits side by side ([batch, heads * classes]).

    svm and nbsvm: one-vs-rest squared hinge, class weights on positives (as OneVsRestSquaredHinge);
    logreg: softmax cross-entropy weighted by the true class's weight. The heads share no weights, so
    summing their losses trains each as if alone.
    """

    def __init__(
        self,
        kinds: Sequence[str],
        class_weights: Sequence[Sequence[float]],
        name: str = "ensemble_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.kinds = list(kinds)
        self.class_weights = [[float(w) for w in weights] for weights in class_weights]

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        label = tf.cast(tf.reshape(y_true, [-1]), tf.int32)
        total = 0.0
        for kind, z, weights in zip(
            self.kinds, tf.split(y_pred, len(self.kinds), axis=-1), self.class_weights, strict=True
        ):
            per_class = tf.constant(weights, y_pred.dtype)
            if kind == "logreg":
                loss = tf.nn.sparse_softmax_cross_entropy_with_logits(label, z) * tf.gather(per_class, label)
            else:
                positives = tf.one_hot(label, tf.shape(z)[-1], dtype=z.dtype)
                hinge = tf.square(tf.nn.relu(1.0 - (2.0 * positives - 1.0) * z))
                loss = tf.reduce_sum(hinge * (1.0 + positives * (per_class - 1.0)), axis=-1)
            total += loss
        return total

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "kinds": self.kinds, "class_weights": self.class_weights}


def build_ensemble(
    vocab_size: int,
    num_classes: int,
    params: TrainParams,
    class_weights: Sequence[Sequence[float]],
    ratios: Optional[np.ndarray] = None,
) -> tf.keras.Model:
    """params.heads as one Keras model: inputs `term_ids` / `term_weights`, output every head's
    margins (or logits) side by side, [batch, heads * classes], under the `scores` name; the served
    model averages their calibrated softmax (trainer/calibration.py `calibrated`). `ratios`: NB-SVM's
    log-count ratios (nb_ratios), needed when a head is nbsvm. `class_weights`: one list per head."""
    if num_classes < 2:
        raise ValueError(f"need at least 2 classes to train a classifier, got {num_classes}")
    ids = tf.keras.Input(shape=(None,), name=F.TERM_IDS, dtype=tf.int64, sparse=True)
    weights = tf.keras.Input(shape=(None,), name=F.TERM_WEIGHTS, dtype=tf.float32, sparse=True)
    outputs, penalties = [], []
    for head in params.heads:
        if head.kind == "nbsvm":
            if ratios is None:
                raise ValueError("an nbsvm head needs the log-count ratios of its training rows")
            layer: tf.keras.layers.Layer = NbsvmProjection(ratios, name="head_nbsvm")
        else:
            layer = SparseTfidfProjection(vocab_size, num_classes, name=f"head_{head.kind}")
        outputs.append(layer([ids, weights]))
        penalties.append((head.l2, layer))
    margins = tf.keras.layers.Concatenate(name="head_margins")(outputs) if len(outputs) > 1 else outputs[0]
    scores = tf.keras.layers.Activation("linear", name=F.OUT_SCORES)(margins)
    model = tf.keras.Model(inputs={F.TERM_IDS: ids, F.TERM_WEIGHTS: weights}, outputs=scores)
    for l2, layer in penalties:
        if l2:
            model.add_loss(lambda l2=l2, layer=layer: l2 * tf.reduce_sum(tf.square(layer.kernel)))
    learning_rate = params.learning_rate
    if params.lr_decay == "cosine":
        learning_rate = tf.keras.optimizers.schedules.CosineDecay(params.learning_rate, params.train_steps)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss=EnsembleLoss([h.kind for h in params.heads], class_weights),
    )
    return model


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
        self,
        class_weights: Optional[Sequence[float]] = None,
        name: str = "one_vs_rest_squared_hinge",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        p = tf.clip_by_value(y_pred, 1e-7, 1.0 - 1e-7)
        margins = tf.math.log(p) - tf.math.log1p(-p)
        positives = tf.one_hot(tf.cast(tf.reshape(y_true, [-1]), tf.int32), tf.shape(y_pred)[-1], dtype=y_pred.dtype)
        losses = tf.square(tf.nn.relu(1.0 - (2.0 * positives - 1.0) * margins))
        if self.class_weights is not None:
            weights = tf.constant(self.class_weights, y_pred.dtype)
            losses *= 1.0 + positives * (weights - 1.0)  # c_k on the positive term, 1 elsewhere
        return tf.reduce_sum(losses, axis=-1)

    def get_config(self) -> dict[str, Any]:
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


def new_model(
    fn_args: tfx.components.FnArgs,
    tf_transform_output: tft.TFTransformOutput,
    params: TrainParams,
    labels: list[str],
    counts: dict[str, int],
    files: data.Files,
) -> tf.keras.Model:
    """The compiled, untrained model of `params` for rows of `files` with label `counts`: one model, or
    the ensemble of params.heads (NB-SVM's log-count ratios counted on `files`, the rows it fits)."""
    transform = TransformParams.model_validate((fn_args.custom_config or {}).get("transform", {}))
    vocab_size = data.term_id_space(tf_transform_output, transform)
    if not params.heads:
        return build_model(vocab_size, len(labels), params, class_weights(counts, labels, params.class_weighting))
    ratios = None
    if any(head.kind == "nbsvm" for head in params.heads):
        one_pass = data.batches(fn_args, files, tf_transform_output, 1024, params.seed, num_epochs=1)
        ratios = nb_ratios(one_pass, data.word_id_space(tf_transform_output), len(labels))
    weights = [class_weights(counts, labels, head.class_weighting) for head in params.heads]
    return build_ensemble(vocab_size, len(labels), params, weights, ratios)
