"""The encoder model's part of `preprocessing_fn`: raw text -> `token_ids` (VarLen int64)."""

from __future__ import annotations

import core.tf_env  # noqa: F401

from typing import Any

import tensorflow as tf
import tensorflow_transform as tft

from trainer import features as F
from trainer.encoder.checkpoint import inspect_checkpoint
from trainer.encoder.params import EncoderParams
from trainer.encoder.tokenizer import token_ids, vocabulary_table


def encoder_features(text: tf.Tensor, params: EncoderParams) -> dict[str, Any]:
    """[batch] strings -> {token_ids: [batch, (<= max_tokens)] SparseTensor}.

    No analyzer: the vocabulary is the checkpoint's. The table is created outside the traced
    function (tft's make_and_track_object), so vocab.txt is saved as an asset of the Transform
    graph and every SavedModel that embeds it.
    """
    checkpoint = inspect_checkpoint(params.checkpoint)
    lower_case = checkpoint.lower_case if params.lower_case is None else params.lower_case
    table = tft.annotators.make_and_track_object(lambda: vocabulary_table(checkpoint), name="wordpiece_vocabulary")
    ids = token_ids(text, table, checkpoint, params.max_tokens, lower_case)
    return {F.TOKEN_IDS: ids.to_sparse()}
