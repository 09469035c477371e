"""The serving signatures feed the model its own features, by name, whatever else Transform outputs."""

import math

import numpy as np
import tensorflow as tf

from tests.trainer.test_model import _batch
from trainer import features as F
from trainer.calibration import Calibration, calibrated
from trainer.model import build_model
from trainer.params import TrainParams
from trainer.signatures import _outputs


def test_outputs_feed_plain_and_calibrated_models_their_features_by_name():
    model = build_model(vocab_size=10, num_classes=3, params=TrainParams(hidden_units=4))
    served = calibrated(model, Calibration(2.0, 0, math.nan, math.nan))  # built on `inputs`: a list, not a dict
    transformed = {
        **_batch([([1, 2], [0.6, 0.8]), ([5], [1.0])]),
        F.LENGTH_BUCKET: tf.constant(["short", "short"]),  # Transform outputs the model does not take
        F.LABEL_ID: tf.constant([0, 1], tf.int64),
    }
    labels = tf.constant(["a", "b", "c"])
    for candidate in (model, served):
        out = _outputs(candidate, transformed, labels)
        scores = out[F.OUT_SCORES].numpy()
        assert scores.shape == (2, 3) and np.allclose(scores.sum(axis=1), 1.0, atol=1e-5)
        assert out[F.OUT_CLASSES].numpy().tolist() == [[b"a", b"b", b"c"]] * 2
        assert out[F.OUT_LABEL].numpy().tolist() == [[b"a", b"b", b"c"][i] for i in scores.argmax(axis=1)]
