import numpy as np
import pytest
import tensorflow as tf

from trainer import features as F
from trainer.model import build_model, class_weights
from trainer.params import TrainParams


def _batch(rows):
    ids = tf.ragged.constant([r[0] for r in rows], dtype=tf.int64).to_sparse()
    weights = tf.ragged.constant([r[1] for r in rows], dtype=tf.float32).to_sparse()
    return {F.TERM_IDS: ids, F.TERM_WEIGHTS: weights}


def test_model_outputs_probabilities_and_keeps_empty_rows():
    model = build_model(vocab_size=50, num_classes=3, params=TrainParams(hidden_units=16))
    batch = _batch([([1, 7], [0.6, 0.8]), ([], []), ([49], [1.0])])  # middle row: no terms at all
    scores = model(batch).numpy()
    assert scores.shape == (3, 3)
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-5) and (scores >= 0).all()


def test_model_learns_a_separable_toy_problem():
    tf.keras.utils.set_random_seed(0)
    params = TrainParams(hidden_units=32, dropout=0.0, input_dropout=0.0, learning_rate=0.05)
    model = build_model(vocab_size=10, num_classes=2, params=params)
    rows = [([0, 1], [0.7, 0.7])] * 16 + [([5, 6], [0.7, 0.7])] * 16
    labels = tf.constant([0] * 16 + [1] * 16)
    model.fit(tf.data.Dataset.from_tensors((_batch(rows), labels)).repeat(30), verbose=0)
    assert model(_batch([([0, 1], [0.7, 0.7]), ([5, 6], [0.7, 0.7])])).numpy().argmax(axis=1).tolist() == [0, 1]


def test_build_model_rejects_a_single_class():
    with pytest.raises(ValueError, match="at least 2 classes"):
        build_model(vocab_size=10, num_classes=1, params=TrainParams())


def test_class_weights_favour_rare_classes_and_keep_mean_one():
    counts = {"common": 90, "rare": 10}
    for mode in ("sqrt", "balanced"):
        weights = class_weights(counts, ["common", "rare"], mode)
        assert weights[1] > weights[0]
        assert np.isclose((weights[0] * 90 + weights[1] * 10) / 100, 1.0)
    balanced = class_weights(counts, ["common", "rare"], "balanced")
    sqrt = class_weights(counts, ["common", "rare"], "sqrt")
    assert balanced[1] / balanced[0] == pytest.approx(9.0)
    assert sqrt[1] / sqrt[0] == pytest.approx(3.0)
    assert class_weights(counts, ["common", "rare"], "none") == [1.0, 1.0]


def test_hinge_class_weights_scale_only_the_true_class_term():
    """LinearSVC's one-vs-rest weighting: c_k on class k's positives, 1 on every negative term."""
    from trainer.model import OneVsRestSquaredHinge

    margins = np.array([[0.5, -0.2, 0.3]], dtype=np.float32)  # z per class for one example of class 0
    scores = tf.sigmoid(margins)
    terms = np.square(np.maximum(0.0, 1.0 - np.array([1.0, -1.0, -1.0]) * margins[0]))  # 0.25, 0.64, 1.69
    unweighted = OneVsRestSquaredHinge()(tf.constant([0]), scores).numpy()
    weighted = OneVsRestSquaredHinge([4.0, 10.0, 10.0])(tf.constant([0]), scores).numpy()
    assert unweighted == pytest.approx(terms.sum(), rel=1e-4)
    # Only the true class's term is scaled (by 4); the negatives keep weight 1 whatever their class weight.
    assert weighted == pytest.approx(4.0 * terms[0] + terms[1] + terms[2], rel=1e-4)


def test_svm_head_takes_class_weights_in_the_loss_and_cosine_decay_reaches_zero():
    from trainer.model import uses_sample_weights

    params = TrainParams(
        hidden_units=0, loss="squared_hinge", l2=1e-4, lr_decay="cosine", train_steps=10, learning_rate=0.1
    )
    assert not uses_sample_weights(params) and uses_sample_weights(TrainParams())
    model = build_model(vocab_size=10, num_classes=3, params=params, class_weights=[1.0, 2.0, 3.0])
    assert model.loss.class_weights == [1.0, 2.0, 3.0]
    schedule = model.optimizer._learning_rate  # the schedule; .learning_rate is its current value
    assert float(schedule(0)) == pytest.approx(0.1) and float(schedule(10)) == pytest.approx(0.0, abs=1e-7)
    scores = model(_batch([([1, 2], [0.6, 0.8])])).numpy()
    assert scores.shape == (1, 3) and ((scores > 0) & (scores < 1)).all()


def test_autograph_leaves_keras_internals_alone_and_converts_our_code():
    """tf_keras (Keras 2 under TF 2.16) is not in TF's own do-not-convert list; transpiling it made `fit`
    about ten times slower for the same graph. Our layers still get AutoGraph."""
    import tf_keras
    from tensorflow.python.autograph.core import config
    from tensorflow.python.autograph.impl import conversion

    from trainer.model import OneVsRestSquaredHinge, SparseTfidfProjection, leave_keras_unconverted

    leave_keras_unconverted()  # idempotent: one rule however often it runs
    assert conversion.is_allowlisted(tf_keras.Model.train_step)
    assert not conversion.is_allowlisted(SparseTfidfProjection.call)
    assert not conversion.is_allowlisted(OneVsRestSquaredHinge.call)
    assert sum(1 for rule in config.CONVERSION_RULES if str(rule) == "DoNotConvert rule for tf_keras") == 1
