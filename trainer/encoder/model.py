"""A BERT encoder in tf-keras with a pretrained checkpoint's weights, mean pooling and a softmax head.

The layers follow HuggingFace's `BertModel` exactly (post-LayerNorm blocks, exact-erf GELU,
attention masked by an additive -10000 bias), so the checkpoint's weights mean what they meant
when it was trained; `load_encoder_weights` maps every tensor and fails on any left over.
Input: `token_ids`, a [batch, (tokens)] SparseTensor from Transform (wordpiece ids with [CLS]
and [SEP], row lengths vary); the model pads each batch to its longest row, so a batch of short
texts costs what short texts cost. Output: softmax scores per class.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import math
from collections.abc import Callable
from typing import Any, Optional, Union

import numpy as np
import tensorflow as tf

from trainer import features as F
from trainer.encoder.checkpoint import BertConfig, expected_shapes

PAD_VALUE = -1  # densified padding; real ids are >= 0

# The layers' `call`s have no tensor-dependent Python control flow, so AutoGraph has nothing to
# rewrite in them; converting them anyway costs seconds per trace on a 2-core machine, paid when the
# model is built, trained and exported (Keras's own code is skipped process-wide: trainer/model.py).
_plain_graph = tf.autograph.experimental.do_not_convert


def _activation(name: str) -> Callable[[tf.Tensor], tf.Tensor]:
    if name == "relu":
        return tf.nn.relu
    # HF "gelu" is the exact erf form; gelu_new / gelu_pytorch_tanh the tanh approximation.
    approximate = name != "gelu"
    return lambda x: tf.nn.gelu(x, approximate=approximate)


class BertEmbeddings(tf.keras.layers.Layer):
    def __init__(self, config: BertConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.norm = tf.keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name="LayerNorm")
        self.dropout = tf.keras.layers.Dropout(config.hidden_dropout_prob)

    def build(self, input_shape: Any) -> None:
        c = self.config
        self.word_embeddings = self.add_weight(name="word_embeddings", shape=(c.vocab_size, c.hidden_size))
        self.position_embeddings = self.add_weight(
            name="position_embeddings", shape=(c.max_position_embeddings, c.hidden_size)
        )
        self.token_type_embeddings = self.add_weight(
            name="token_type_embeddings", shape=(c.type_vocab_size, c.hidden_size)
        )
        super().build(input_shape)

    @_plain_graph
    def call(self, ids: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        length = tf.shape(ids)[1]
        # One segment (token type 0): single-text classification.
        x = tf.gather(self.word_embeddings, ids) + self.position_embeddings[tf.newaxis, :length]
        x = x + self.token_type_embeddings[0]
        return self.dropout(self.norm(x), training=training)


class BertLayer(tf.keras.layers.Layer):
    """One post-LayerNorm transformer block: self-attention, add & norm, feed-forward, add & norm."""

    def __init__(self, config: BertConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        h = config.hidden_size
        self.heads = config.num_attention_heads
        self.head_size = h // self.heads
        dense = tf.keras.layers.Dense
        self.query, self.key, self.value = (dense(h, name=n) for n in ("query", "key", "value"))
        self.attention_output = dense(h, name="attention_output")
        self.attention_norm = tf.keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name="attention_norm")
        self.intermediate = dense(config.intermediate_size, activation=_activation(config.hidden_act), name="inter")
        self.output_dense = dense(h, name="output")
        self.output_norm = tf.keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name="output_norm")
        self.attention_dropout = tf.keras.layers.Dropout(config.attention_probs_dropout_prob)
        self.hidden_dropout = tf.keras.layers.Dropout(config.hidden_dropout_prob)

    def _split_heads(self, x: tf.Tensor) -> tf.Tensor:
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        return tf.transpose(tf.reshape(x, [batch, length, self.heads, self.head_size]), [0, 2, 1, 3])

    @_plain_graph
    def call(self, inputs: tuple[tf.Tensor, tf.Tensor], training: Optional[bool] = None) -> tf.Tensor:
        x, bias = inputs  # bias: [batch, 1, 1, length], 0 on tokens, -10000 on padding
        q, k, v = (self._split_heads(layer(x)) for layer in (self.query, self.key, self.value))
        scores = tf.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(self.head_size)) + bias
        probs = self.attention_dropout(tf.nn.softmax(scores, axis=-1), training=training)
        context = tf.transpose(tf.matmul(probs, v), [0, 2, 1, 3])
        context = tf.reshape(context, [tf.shape(x)[0], tf.shape(x)[1], self.heads * self.head_size])
        attended = self.attention_output(context)
        x = self.attention_norm(x + self.hidden_dropout(attended, training=training))
        ffn = self.output_dense(self.intermediate(x))
        return self.output_norm(x + self.hidden_dropout(ffn, training=training))


class BertEncoder(tf.keras.layers.Layer):
    """token ids [batch, (tokens)] (sparse) -> mean of the last layer's token vectors [batch, hidden]."""

    def __init__(self, config: BertConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.embeddings = BertEmbeddings(config, name="embeddings")
        self.blocks = [BertLayer(config, name=f"layer_{n}") for n in range(config.num_hidden_layers)]

    @_plain_graph
    def call(self, token_ids: Union[tf.Tensor, tf.SparseTensor], training: Optional[bool] = None) -> tf.Tensor:
        if isinstance(token_ids, tf.SparseTensor):
            token_ids = tf.sparse.to_dense(token_ids, default_value=PAD_VALUE)
        mask = tf.cast(token_ids != PAD_VALUE, tf.float32)
        x = self.embeddings(tf.maximum(token_ids, 0), training=training)
        bias = (1.0 - mask)[:, tf.newaxis, tf.newaxis, :] * -10000.0
        for block in self.blocks:
            x = block((x, bias), training=training)
        # Mean over real tokens (sentence-transformers' pooling); an empty row (none) gives zeros.
        summed = tf.reduce_sum(x * mask[:, :, tf.newaxis], axis=1)
        return summed / tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)


def build_classifier(
    config: BertConfig,
    num_classes: int,
    head_dropout: float = 0.1,
    train_layers: Optional[int] = None,
    seed: int = 42,
) -> tf.keras.Model:
    """`token_ids` (sparse int64) -> softmax scores. `train_layers`: None = fine-tune everything;
    k = only the top k transformer blocks (embeddings and lower blocks frozen); 0 = encoder frozen."""
    if num_classes < 2:
        raise ValueError(f"need at least 2 classes to train a classifier, got {num_classes}")
    token_ids = tf.keras.Input(shape=(None,), name=F.TOKEN_IDS, dtype=tf.int64, sparse=True)
    encoder = BertEncoder(config, name="encoder")
    pooled = encoder(token_ids)
    hidden = tf.keras.layers.Dropout(head_dropout, seed=seed)(pooled)
    logits = tf.keras.layers.Dense(num_classes, name="logits")(hidden)
    scores = tf.keras.layers.Activation("softmax", name=F.OUT_SCORES)(logits)
    model = tf.keras.Model(inputs={F.TOKEN_IDS: token_ids}, outputs=scores)
    if train_layers is not None:
        frozen = config.num_hidden_layers - min(train_layers, config.num_hidden_layers)
        encoder.embeddings.trainable = False
        for block in encoder.blocks[:frozen]:
            block.trainable = False
    return model


def _targets(encoder: BertEncoder) -> dict[str, tuple[tf.Variable, bool]]:
    """HuggingFace tensor name -> (Keras variable, transpose?) for every encoder weight."""
    e = encoder.embeddings
    targets: dict[str, tuple[tf.Variable, bool]] = {
        "embeddings.word_embeddings.weight": (e.word_embeddings, False),
        "embeddings.position_embeddings.weight": (e.position_embeddings, False),
        "embeddings.token_type_embeddings.weight": (e.token_type_embeddings, False),
        "embeddings.LayerNorm.weight": (e.norm.gamma, False),
        "embeddings.LayerNorm.bias": (e.norm.beta, False),
    }
    for n, block in enumerate(encoder.blocks):
        p = f"encoder.layer.{n}."
        dense = {
            "attention.self.query": block.query,
            "attention.self.key": block.key,
            "attention.self.value": block.value,
            "attention.output.dense": block.attention_output,
            "intermediate.dense": block.intermediate,
            "output.dense": block.output_dense,
        }
        for name, layer in dense.items():
            targets[f"{p}{name}.weight"] = (layer.kernel, True)  # PyTorch Linear is [out, in]
            targets[f"{p}{name}.bias"] = (layer.bias, False)
        for name, norm in (
            ("attention.output.LayerNorm", block.attention_norm),
            ("output.LayerNorm", block.output_norm),
        ):
            targets[f"{p}{name}.weight"] = (norm.gamma, False)
            targets[f"{p}{name}.bias"] = (norm.beta, False)
    return targets


def load_encoder_weights(model: tf.keras.Model, weights: dict[str, np.ndarray]) -> int:
    """Assign the checkpoint's tensors to the model's encoder; every weight must be covered exactly once.

    Returns the number of values assigned. Raises ValueError naming a tensor that is missing,
    left over or of the wrong shape (the architecture and the checkpoint disagree).
    """
    encoder = model.get_layer("encoder")
    targets = _targets(encoder)
    expected = set(expected_shapes(encoder.config))
    if set(targets) != expected:
        raise ValueError(f"encoder/checkpoint name mismatch: {sorted(set(targets) ^ expected)[:5]}")
    covered = {id(v) for v, _ in targets.values()}
    uncovered = [v.name for v in encoder.weights if id(v) not in covered]
    if uncovered:
        raise ValueError(f"encoder weights with no checkpoint tensor: {uncovered[:5]}")
    assigned = 0
    for name, (variable, transpose) in targets.items():
        if name not in weights:
            raise ValueError(f"checkpoint tensor {name} is missing")
        value = weights[name].T if transpose else weights[name]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"checkpoint tensor {name}: shape {value.shape}, the model expects {variable.shape}")
        variable.assign(value)
        assigned += int(value.size)
    return assigned
