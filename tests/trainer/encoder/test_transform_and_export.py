"""Transform with an encoder: wordpiece ids in the graph (only TF Text ops TF Serving has), then the SavedModel."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

from tests.trainer.test_preprocessing import ALLOWED_TF_TEXT_OPS, RAW_SPEC, ROWS, _analyze_and_transform, non_core_ops
from trainer import features as F
from trainer.params import TransformParams

from .tiny_bert import vocabulary, write_tiny_bert


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    checkpoint = write_tiny_bert(tmp_path_factory.mktemp("ckpt") / "tiny")
    config = {
        "transform": {"length_buckets": [3, 9]},
        "encoder": {"checkpoint": str(checkpoint), "max_tokens": 12, "lower_case": None},
    }
    for rows, output in _analyze_and_transform(config):
        yield checkpoint, rows, output


def _pieces(ids):
    vocab = vocabulary()
    return [vocab[i] for i in ids]


def test_token_ids_are_cls_wordpieces_sep_truncated_to_max_tokens(encoded):
    _, rows, _ = encoded
    first = _pieces(rows[0][F.TOKEN_IDS])
    # "This Agreement is governed by the laws of Delaware." case-folded; unknown words split into pieces.
    assert first[:7] == ["[CLS]", "this", "agreement", "i", "##s", "governed", "b"]
    assert len(first) == 12 and first[-1] == "[SEP]"  # truncated: 10 pieces + [CLS] + [SEP]
    assert _pieces(rows[5][F.TOKEN_IDS]) == ["[CLS]", "!", "!", "!", "[SEP]"]  # punctuation is split, not dropped


def test_labels_and_length_bucket_are_as_with_tfidf(encoded):
    _, rows, output = encoded
    labels = [label.decode() for label in output.vocabulary_by_name(F.LABEL_VOCAB)]
    assert [labels[r[F.LABEL_ID]] for r in rows] == [r["label"][0] for r in ROWS]
    assert rows[0][F.LENGTH_BUCKET] == b"long" and rows[5][F.LENGTH_BUCKET] == b"short"
    assert F.TERM_IDS not in rows[0]


def test_vocabulary_is_an_asset_of_the_transform_graph(encoded):
    _, _, output = encoded
    assets = tf.io.gfile.glob(f"{output.transform_savedmodel_dir}/assets/*")
    assert any(path.endswith("vocab.txt") for path in assets), assets


def test_encoder_graph_uses_only_tf_text_ops_the_serving_binary_has(encoded, tmp_path):
    *_, output = encoded
    non_core = non_core_ops(output, tmp_path)
    assert "WordpieceTokenizeWithOffsets" in non_core  # the check sees the tokenizer's kernels
    assert non_core <= ALLOWED_TF_TEXT_OPS


SERVE_SCRIPT = r"""
import json, sys
import tensorflow as tf, tensorflow_text  # noqa: F401
model = tf.saved_model.load(sys.argv[1])
texts = ["This Agreement is governed by the laws of Delaware.", "", "???"]
out = model.signatures["serving_default"](text=tf.constant(texts))
example = tf.train.Example(features=tf.train.Features(feature={
    "text": tf.train.Feature(bytes_list=tf.train.BytesList(value=[texts[0].encode()])),
    "label": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"termination"]))})).SerializeToString()
tfma = model.signatures["tfma_eval"](examples=tf.constant([example]))
features = model.signatures["transform_features"](examples=tf.constant([example]))
print(json.dumps({
    "serving": {k: v.numpy().tolist() for k, v in out.items()},
    "tfma": {k: v.numpy().tolist() for k, v in tfma.items()},
    "features": sorted(features),
    "label_id": features["label_id"].numpy().tolist(),
    "length_bucket": features["length_bucket"].numpy().tolist(),
    "variables": sum(int(tf.size(v)) for v in model.variables),
}, default=lambda b: b.decode()))
"""


def test_exported_model_answers_raw_text_with_the_savedmodel_contract(encoded, tmp_path):
    from trainer.calibration import calibrate
    from trainer.encoder.checkpoint import inspect_checkpoint, read_weights
    from trainer.encoder.model import build_classifier, load_encoder_weights
    from trainer.encoder.params import EncoderParams
    from trainer.encoder.task import compile_for_fine_tuning, export_serving_model

    path, rows, output = encoded
    # The Transform component writes the raw schema beside the graph; the signatures parse Examples with it.
    raw = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(RAW_SPEC))
    metadata_io.write_metadata(raw, os.path.join(output.transform_savedmodel_dir, "..", output.RAW_METADATA_DIR))
    checkpoint = inspect_checkpoint(path)
    model = build_classifier(checkpoint.config, num_classes=3)
    load_encoder_weights(model, read_weights(checkpoint))
    compile_for_fine_tuning(model, EncoderParams(checkpoint=path, train_steps=2), train_steps=2)
    ids = tf.ragged.constant([r[F.TOKEN_IDS].tolist() for r in rows[:2]], dtype=tf.int64).to_sparse()
    model.train_on_batch({F.TOKEN_IDS: ids}, tf.constant([0, 1]))  # optimizer state exists, and must not be saved
    # Served as the Trainer serves it: softmax(logits / T), T fitted on (here) two labelled rows.
    calibration = calibrate(model, tf.data.Dataset.from_tensors(({F.TOKEN_IDS: ids}, tf.constant([0, 1]))))
    assert calibration.rows == 2 and calibration.nll_after <= calibration.nll_before + 1e-9
    export_serving_model(model, output, TransformParams(length_buckets=[3, 9]), str(tmp_path / "model"), calibration)

    result = subprocess.run(
        [sys.executable, "-c", SERVE_SCRIPT, str(tmp_path / "model")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    labels = sorted(r["label"][0] for r in ROWS[:5])
    serving = out["serving"]
    assert np.array(serving["scores"]).shape == (3, 3) and np.allclose(
        np.sum(serving["scores"], axis=1), 1.0, atol=1e-5
    )
    assert all(classes == serving["classes"][0] for classes in serving["classes"])  # the label vocabulary's order
    assert sorted(serving["classes"][0]) == sorted(set(labels))
    assert set(serving["label"]) <= set(labels)  # empty and punctuation-only text get an answer, no error
    assert set(out["tfma"]) == {"scores", "predicted"} and np.array(out["tfma"]["scores"]).shape == (1, 3)
    assert np.argmax(out["tfma"]["predicted"][0]) == np.argmax(out["tfma"]["scores"][0])
    assert np.allclose(out["tfma"]["scores"][0], serving["scores"][0], atol=1e-6)  # the served scores
    # TFMA's label and slice, and nothing else: the signature does not compute the model's features again.
    assert set(out["features"]) == {"label_id", "length_bucket"}
    assert out["length_bucket"] == ["long"]  # 9 tokens, buckets [3, 9]
    assert out["label_id"] == [output.vocabulary_by_name(F.LABEL_VOCAB).index(b"termination")]
    weights = sum(int(np.prod(v.shape)) for v in model.weights)
    assert out["variables"] == weights  # no AdamW moments in the SavedModel
