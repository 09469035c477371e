"""TFX Trainer entry point: `run_fn(fn_args)` trains the model and exports the SavedModel."""

from __future__ import annotations

import core.tf_env  # noqa: F401

import math

import absl.logging
import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from trainer import features as F
from trainer.encoder import params as encoder_params
from trainer.model import build_model, class_weights, uses_sample_weights
from trainer.params import TrainParams, TransformParams
from trainer.signatures import make_signatures


def read_label_counts(tf_transform_output: tft.TFTransformOutput) -> dict[str, int]:
    """Training label frequencies from Transform's `label_counts` vocabulary ("count label" lines)."""
    path = tf_transform_output.vocabulary_file_by_name(F.LABEL_COUNTS_VOCAB)
    counts: dict[str, int] = {}
    with tf.io.gfile.GFile(path, "r") as handle:
        for line in handle:
            count, _, label = line.rstrip("\n").partition(" ")
            counts[label] = int(count)
    return counts


def term_id_space(tf_transform_output: tft.TFTransformOutput, transform: TransformParams) -> int:
    """Number of distinct term ids Transform emits: each vocabulary's kept terms plus its OOV id."""
    size = tf_transform_output.vocabulary_size_by_name(F.TERMS_VOCAB) + 1
    if transform.char_ngrams is not None:
        size += tf_transform_output.vocabulary_size_by_name(F.CHAR_TERMS_VOCAB) + 1
    return size


def _dataset(fn_args, files, tf_transform_output, batch_size: int, weights: list[float] | None, seed: int):
    dataset = fn_args.data_accessor.tf_dataset_factory(
        files,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=F.LABEL_ID, shuffle_seed=seed),
        tf_transform_output.transformed_metadata.schema,
    )

    def select(features, label):
        inputs = {F.TERM_IDS: features[F.TERM_IDS], F.TERM_WEIGHTS: features[F.TERM_WEIGHTS]}
        label = tf.reshape(label, [-1])
        if weights is None:
            return inputs, label
        return inputs, label, tf.gather(tf.constant(weights, tf.float32), label)

    return dataset.map(select, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    custom_config = fn_args.custom_config or {}
    if encoder_params.from_custom_config(custom_config) is not None:  # a pretrained encoder (trainer/encoder/)
        from trainer.encoder.task import run_encoder_fn

        return run_encoder_fn(fn_args)
    params = TrainParams.model_validate(custom_config.get("train", {}))
    tf.keras.utils.set_random_seed(params.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)

    vocabulary = tf_transform_output.vocabulary_by_name(F.LABEL_VOCAB)
    labels = [label.decode() if isinstance(label, bytes) else str(label) for label in vocabulary]
    vocab_size = term_id_space(tf_transform_output, TransformParams.model_validate(custom_config.get("transform", {})))
    weights = class_weights(read_label_counts(tf_transform_output), labels, params.class_weighting)
    absl.logging.info("classes=%d vocab=%d class_weights=%s", len(labels), vocab_size, weights)

    sample_weights = weights if uses_sample_weights(params) else None
    train = _dataset(fn_args, fn_args.train_files, tf_transform_output, params.batch_size, sample_weights, params.seed)
    evaluate = _dataset(fn_args, fn_args.eval_files, tf_transform_output, params.batch_size, None, params.seed)

    model = build_model(vocab_size, len(labels), params, class_weights=weights)
    train_steps = fn_args.train_steps or params.train_steps
    eval_steps = fn_args.eval_steps or params.eval_steps
    # Several short "epochs" give a progress log and validation curve without changing the step budget.
    steps_per_epoch = min(train_steps, 200)
    model.fit(
        train,
        steps_per_epoch=steps_per_epoch,
        epochs=math.ceil(train_steps / steps_per_epoch),
        validation_data=evaluate,
        validation_steps=eval_steps,
        callbacks=[tf.keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir, update_freq="epoch")],
        verbose=2,
    )
    tf.saved_model.save(model, fn_args.serving_model_dir, signatures=make_signatures(model, tf_transform_output))
