"""The serving signatures feed the model its own features, by name, whatever else Transform outputs."""

import math
import os

import numpy as np
import tensorflow as tf

from tests.trainer.test_model import _batch
from trainer import features as F
from trainer.calibration import Calibration, calibrated
from trainer.model import build_model
from trainer.params import TrainParams, TransformParams
from trainer.signatures import _outputs, make_signatures


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


def _example(row: dict) -> bytes:
    feature = {k: tf.train.Feature(bytes_list=tf.train.BytesList(value=[v[0].encode()])) for k, v in row.items()}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_transform_features_gives_what_the_whole_transform_graph_gives_tfma(tmp_path):
    """The Evaluator's signature computes label_id and length_bucket without the n-gram bags; they must be
    exactly the Transform graph's, row by row (else the blessing would score against other labels)."""
    from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

    from tests.trainer.test_preprocessing import CONFIG, RAW_SPEC, ROWS, _analyze_and_transform

    rows = [*ROWS, {"text": ["a label the training data never had"], "label": ["unseen_label"]}]
    for _, output in _analyze_and_transform(CONFIG):
        raw = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(RAW_SPEC))
        metadata_io.write_metadata(raw, os.path.join(output.transform_savedmodel_dir, "..", output.RAW_METADATA_DIR))
        model = build_model(vocab_size=1001, num_classes=3, params=TrainParams(hidden_units=4))
        signatures = make_signatures(model, output, TransformParams.model_validate(CONFIG["transform"]))
        got = signatures[F.TRANSFORM_FEATURES](examples=tf.constant([_example(r) for r in rows]))
        whole = output.transform_features_layer()(
            {F.TEXT: tf.constant([r["text"] for r in rows]), F.LABEL: tf.constant([r["label"] for r in rows])}
        )
        assert set(got) == {F.LABEL_ID, F.LENGTH_BUCKET}
        assert got[F.LABEL_ID].numpy().tolist() == whole[F.LABEL_ID].numpy().tolist()
        assert got[F.LABEL_ID].numpy().tolist()[-1] == -1  # an unknown label is no class, as in Transform
        assert got[F.LENGTH_BUCKET].numpy().tolist() == whole[F.LENGTH_BUCKET].numpy().tolist()
        assert {b"short", b"medium", b"long"} == set(got[F.LENGTH_BUCKET].numpy().tolist())
