"""The Trainer's input pipeline: the transformed splits as batches, and what Transform counted.

Shared by the Trainer (`trainer/task.py`), the model search's trials (`trainer/tuning.py`) and the
encoder's Trainer (`trainer/encoder/task.py`); it knows files, schemas and batches, not models.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import math
from typing import Optional

import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from trainer import features as F
from trainer.params import TrainParams, TransformParams

# A split's file patterns, as FnArgs holds them and the DataAccessor takes them.
Files = list[str]


def read_label_counts(tf_transform_output: tft.TFTransformOutput) -> dict[str, int]:
    """Training label frequencies from Transform's `label_counts` vocabulary ("count label" lines)."""
    path = tf_transform_output.vocabulary_file_by_name(F.LABEL_COUNTS_VOCAB)
    counts: dict[str, int] = {}
    with tf.io.gfile.GFile(path, "r") as handle:
        for line in handle:
            count, _, label = line.rstrip("\n").partition(" ")
            counts[label] = int(count)
    return counts


def word_id_space(tf_transform_output: tft.TFTransformOutput) -> int:
    """Number of word n-gram ids (kept terms plus the OOV id): character ids follow them."""
    return tf_transform_output.vocabulary_size_by_name(F.TERMS_VOCAB) + 1


def term_id_space(tf_transform_output: tft.TFTransformOutput, transform: TransformParams) -> int:
    """Number of distinct term ids Transform emits: each vocabulary's kept terms plus its OOV id."""
    size = word_id_space(tf_transform_output)
    if transform.char_ngrams is not None:
        size += tf_transform_output.vocabulary_size_by_name(F.CHAR_TERMS_VOCAB) + 1
    return size


# One pass of train batches stays in memory when it is smaller than this: later epochs then skip
# reading and parsing the gzipped tf.Examples, about half of a linear model's step time on 2 cores
# (measured on cuad_clauses with char n-grams: 53 ms of input per 256-row batch). 512 MiB: a local
# run is one process, whose peak must stay under 4 GiB at 192,000 rows (BENCHMARKS.md, "Pipeline cost").
CACHE_LIMIT_BYTES = 512 << 20
_BYTES_PER_TERM = 44  # as parsed: two int64 index pairs, an int64 id and a float32 weight
_BYTES_PER_ROW = 8  # the int64 label
# Packed: an int32 id and a float32 weight; each batch's row lengths (int64) rebuild the shared indices.
_PACKED_BYTES_PER_TERM = 8
_PACKED_BYTES_PER_ROW = 16


def batches(
    fn_args: tfx.components.FnArgs,
    files: Files,
    tf_transform_output: tft.TFTransformOutput,
    batch_size: int,
    seed: int,
    num_epochs: Optional[int] = None,
) -> tf.data.Dataset:
    """(inputs, label) batches of the transformed split, shuffled, repeated unless num_epochs is set."""
    dataset = fn_args.data_accessor.tf_dataset_factory(
        files,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size, label_key=F.LABEL_ID, shuffle_seed=seed, num_epochs=num_epochs
        ),
        tf_transform_output.transformed_metadata.schema,
    )

    def select(features: dict[str, tf.Tensor], label: tf.Tensor) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
        return {F.TERM_IDS: features[F.TERM_IDS], F.TERM_WEIGHTS: features[F.TERM_WEIGHTS]}, tf.reshape(label, [-1])

    return dataset.map(select, num_parallel_calls=tf.data.AUTOTUNE)


def _with_weights(dataset: tf.data.Dataset, weights: Optional[list[float]]) -> tf.data.Dataset:
    if weights is not None:
        table = tf.constant(weights, tf.float32)
        dataset = dataset.map(
            lambda inputs, label: (inputs, label, tf.gather(table, label)), num_parallel_calls=tf.data.AUTOTUNE
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def weighted_batches(
    fn_args: tfx.components.FnArgs,
    files: Files,
    tf_transform_output: tft.TFTransformOutput,
    batch_size: int,
    weights: Optional[list[float]],
    seed: int,
) -> tf.data.Dataset:
    """batches(), repeated, with each row's class weight as a sample weight when `weights` is given."""
    return _with_weights(batches(fn_args, files, tf_transform_output, batch_size, seed), weights)


def cached_train_batches(
    fn_args: tfx.components.FnArgs,
    tf_transform_output: tft.TFTransformOutput,
    batch_size: int,
    seed: int,
    rows: int,
    files: Optional[Files] = None,
) -> Optional[tf.data.Dataset]:
    """The batches of `files` (default: the train split), read once, then kept in memory and reshuffled
    (as whole batches) every epoch: as parsed, or packed when only that fits in CACHE_LIMIT_BYTES; None
    when neither does (then batches stream from disk)."""
    files = fn_args.train_files if files is None else files
    one_pass = batches(fn_args, files, tf_transform_output, batch_size, seed, num_epochs=1)
    terms = 0.0
    for inputs, label in one_pass.take(1):
        terms = int(tf.size(inputs[F.TERM_IDS].values)) / max(int(tf.size(label)), 1) * rows

    def shuffled(dataset: tf.data.Dataset) -> tf.data.Dataset:
        batches_per_pass = max(1, math.ceil(rows / batch_size))
        return dataset.cache().shuffle(batches_per_pass, seed=seed, reshuffle_each_iteration=True).repeat()

    if terms * _BYTES_PER_TERM + rows * _BYTES_PER_ROW <= CACHE_LIMIT_BYTES:
        return shuffled(one_pass)
    if terms * _PACKED_BYTES_PER_TERM + rows * _PACKED_BYTES_PER_ROW <= CACHE_LIMIT_BYTES:
        # Rebuilding a batch's indices costs far less than reading and parsing it again: with char n-grams
        # (~670 terms a row) a pass stops fitting as parsed at ~18,000 rows, and packed at ~100,000.
        return shuffled(one_pass.map(_pack)).map(_unpack, num_parallel_calls=tf.data.AUTOTUNE)
    return None


Packed = tuple[tf.Tensor, tf.Tensor, tf.Tensor]  # int32 term ids, float32 weights, int64 row lengths


def _pack(inputs: dict[str, tf.SparseTensor], label: tf.Tensor) -> tuple[Packed, tf.Tensor]:
    ids = tf.RaggedTensor.from_sparse(inputs[F.TERM_IDS])  # rows in order, positions 0.. in each
    return (tf.cast(ids.values, tf.int32), inputs[F.TERM_WEIGHTS].values, ids.row_lengths()), label


def _unpack(packed: Packed, label: tf.Tensor) -> tuple[dict[str, tf.SparseTensor], tf.Tensor]:
    ids, weights, lengths = packed
    term_ids = tf.RaggedTensor.from_row_lengths(tf.cast(ids, tf.int64), lengths).to_sparse()
    term_weights = tf.SparseTensor(term_ids.indices, weights, term_ids.dense_shape)
    return {F.TERM_IDS: term_ids, F.TERM_WEIGHTS: term_weights}, label


def train_dataset(
    fn_args: tfx.components.FnArgs,
    tf_transform_output: tft.TFTransformOutput,
    params: TrainParams,
    weights: Optional[list[float]],
    rows: int,
    cached: Optional[tf.data.Dataset] = None,
    files: Optional[Files] = None,
) -> tf.data.Dataset:
    """The repeated training rows (`files`, default the train split) as the model trains on them (the
        Tuner's trials use it too); `cached`: a cached_train_batches result to reuse, for trials that share
        the batch size. `weights`: one per class, given to the model as sample weights (None: the model
    weighs classes in its loss, or not at all)."""
    files = fn_args.train_files if files is None else files
    data = (
        cached
        if cached is not None
        else cached_train_batches(fn_args, tf_transform_output, params.batch_size, params.seed, rows, files)
    )
    if data is None:  # too large to keep in memory: stream from disk
        data = batches(fn_args, files, tf_transform_output, params.batch_size, params.seed)
    return _with_weights(data, weights)
