"""preprocessing_fn run by tf.Transform's Beam implementation on a few rows."""

import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from trainer import features as F
from trainer import text as text_ops
from trainer.preprocessing import preprocessing_fn

RAW_SPEC = {
    F.TEXT: tf.io.FixedLenFeature([1], tf.string),
    F.LABEL: tf.io.FixedLenFeature([1], tf.string),
}
ROWS = [
    {"text": ["This Agreement is governed by the laws of Delaware."], "label": ["governing_law"]},
    {"text": ["This Agreement is governed by the laws of New York."], "label": ["governing_law"]},
    {"text": ["Either party may terminate this Agreement on 30 days notice."], "label": ["termination"]},
    {"text": ["Either party may terminate this Agreement on 90 days notice."], "label": ["termination"]},
    {"text": ["The Supplier shall keep all Confidential Information confidential."], "label": ["confidentiality"]},
    {"text": ["!!!"], "label": ["termination"]},
]
# Word n-grams only (char_ngrams null); CHAR_CONFIG below adds the character bag (the default).
CONFIG = {
    "transform": {
        "vocab_size": 1000,
        "min_df": 2,
        "ngram_max": 2,
        "length_buckets": [3, 9],
        "max_tokens": 50,
        "char_ngrams": None,
    }
}


def _analyze_and_transform(config):
    """ROWS through tft_beam with `config`: (transformed rows, TFTransformOutput), valid in the block."""
    with tempfile.TemporaryDirectory() as tmp, tft_beam.Context(temp_dir=tmp, force_tf_compat_v1=False):
        metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(RAW_SPEC))
        (rows, _), transform_fn = (ROWS, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, config), output_record_batches=False
        )
        _ = transform_fn | tft_beam.WriteTransformFn(tmp + "/out")
        yield rows, tft.TFTransformOutput(tmp + "/out")


@pytest.fixture(scope="module")
def transformed():
    for rows, output in _analyze_and_transform(CONFIG):
        yield rows, output.vocabulary_by_name(F.TERMS_VOCAB), output.vocabulary_by_name(F.LABEL_VOCAB), output


def test_label_ids_follow_the_label_vocabulary(transformed):
    rows, _, labels, _ = transformed
    labels = [label.decode() for label in labels]
    assert sorted(labels) == ["confidentiality", "governing_law", "termination"]
    for raw, out in zip(ROWS, rows, strict=True):
        assert labels[out[F.LABEL_ID]] == raw["label"][0]


def test_vocabulary_is_normalised_ngrams_with_min_df(transformed):
    _, terms, _, _ = transformed
    terms = {t.decode() for t in terms}
    assert "governed by" in terms and "this agreement" in terms  # bigrams, case-folded
    assert "on 0" in terms  # digits collapsed: "30" and "90" are the same term
    assert "delaware" not in terms  # seen in one document only (min_df=2)
    assert "confidential" not in terms  # twice, in one document: min_df counts documents


def test_tfidf_weights_are_l2_normalised_and_aligned(transformed):
    rows, terms, _, _ = transformed
    for out in rows[:5]:
        ids, weights = np.asarray(out[F.TERM_IDS]), np.asarray(out[F.TERM_WEIGHTS])
        assert len(ids) == len(weights) > 0
        assert len(set(ids.tolist())) == len(ids)  # one entry per distinct term
        assert np.isclose(np.linalg.norm(weights), 1.0, atol=1e-5)
        assert ids.max() <= len(terms)  # OOV id == vocabulary size
    # A document with no words yields an empty bag, not an error.
    assert len(rows[5][F.TERM_IDS]) == 0


def test_length_bucket_slices(transformed):
    rows, *_ = transformed
    buckets = [r[F.LENGTH_BUCKET].decode() for r in rows]
    assert buckets[5] == "short" and buckets[0] == "long" and set(buckets) <= {"short", "medium", "long"}


def test_tokenize_truncates_by_slicing_and_handles_unicode():
    tokens = text_ops.tokenize(tf.constant(["  Ünïcode—café 2024, (b) §12.3 ", "a " * 100]), max_tokens=4)
    assert tokens.to_list()[0] == [t.encode() for t in ["ünïcode", "café", "0", "b"]]
    assert len(tokens.to_list()[1]) == 4


# TF Text kernels registered, with the op definitions this TF Text has, in TF Text 2.12 (what the
# stock TF Serving 2.16 binary links; see serving/README.md). The TF-IDF graph uses the first two.
ALLOWED_TF_TEXT_OPS = {"CaseFoldUTF8", "RegexSplitWithOffsets", "NormalizeUTF8", "WordpieceTokenizeWithOffsets"}
TFIDF_TF_TEXT_OPS = {"CaseFoldUTF8", "RegexSplitWithOffsets"}


def non_core_ops(output: tft.TFTransformOutput, tmp_path) -> set[str]:
    """Ops of the Transform graph that a process WITHOUT tensorflow_text imported does not know."""
    layer = output.transform_features_layer()
    fn = tf.function(lambda text, label: layer({F.TEXT: text, F.LABEL: label})).get_concrete_function(
        tf.TensorSpec([None, 1], tf.string), tf.TensorSpec([None, 1], tf.string)
    )
    graph_path = tmp_path / "graph.pb"
    graph_path.write_bytes(fn.graph.as_graph_def().SerializeToString())
    # A process without tensorflow_text imported sees exactly the non-core ops as unregistered.
    script = (
        "import sys, tensorflow as tf\n"
        "from tensorflow.python.framework import op_def_registry as r\n"
        "g = tf.compat.v1.GraphDef(); g.ParseFromString(open(sys.argv[1], 'rb').read())\n"
        "fns = {f.signature.name for f in g.library.function}\n"
        "ops = {n.op for n in g.node} | {n.op for f in g.library.function for n in f.node_def}\n"
        "print(','.join(sorted(o for o in ops - fns if r.get(o) is None)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(graph_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return set(filter(None, result.stdout.strip().splitlines()[-1].split(",")))


@pytest.mark.parametrize("fixture", ["transformed", "transformed_with_chars"])
def test_graph_uses_only_tf_text_ops_the_serving_binary_has(fixture, request, tmp_path):
    """Non-core ops in the Transform graph must be TF Text kernels that TF Serving 2.16 links."""
    *_, output = request.getfixturevalue(fixture)
    non_core = non_core_ops(output, tmp_path)
    assert "CaseFoldUTF8" in non_core  # the check sees TF Text ops at all
    assert non_core <= TFIDF_TF_TEXT_OPS <= ALLOWED_TF_TEXT_OPS


def test_char_ngrams_are_per_word_and_padded_like_char_wb():
    tokens = tf.ragged.constant([["ab", "café"], []])
    grams = text_ops.char_ngrams(tokens, 2, 3).to_list()
    assert grams[1] == []
    got = [g.decode() for g in grams[0]]
    # " ab " -> 2-grams " a", "ab", "b "; 3-grams " ab", "ab "; no gram spans two words.
    assert got[:5] == [" a", "ab", "b ", " ab", "ab "]
    assert "é " in got and "fé " in got  # code points, not bytes
    assert not any("b c" in g or "bc" in g for g in got)


CHAR_CONFIG = {"transform": {**CONFIG["transform"], "char_ngrams": [2, 4], "char_vocab_size": 500}}


@pytest.fixture(scope="module")
def transformed_with_chars():
    yield from _analyze_and_transform(CHAR_CONFIG)


def test_char_ngram_ids_follow_word_ids_in_one_id_space(transformed_with_chars):
    from trainer.data import term_id_space
    from trainer.params import TransformParams

    rows, output = transformed_with_chars
    words = output.vocabulary_size_by_name(F.TERMS_VOCAB)
    chars = {t.decode() for t in output.vocabulary_by_name(F.CHAR_TERMS_VOCAB)}
    assert {" th", "ment", "ee"} <= chars  # word-internal grams, min_df 2 applies too
    total = term_id_space(output, TransformParams.model_validate(CHAR_CONFIG["transform"]))
    assert total == words + 1 + len(chars) + 1
    for out in rows[:5]:
        ids, weights = np.asarray(out[F.TERM_IDS]), np.asarray(out[F.TERM_WEIGHTS])
        assert len(ids) == len(weights) and len(set(ids.tolist())) == len(ids)
        word_part, char_part = ids <= words, ids > words
        assert word_part.any() and char_part.any() and ids.max() < total
        # Each block is L2-normalised on its own (an hstack of two TF-IDF vectorisers).
        assert np.isclose(np.linalg.norm(weights[word_part]), 1.0, atol=1e-5)
        assert np.isclose(np.linalg.norm(weights[char_part]), 1.0, atol=1e-5)
    assert len(rows[5][F.TERM_IDS]) == 0  # no words, no grams
