"""The Trainer's `run_fn` for the pretrained-encoder model (called by trainer.task.run_fn).

Fine-tuning recipe (BERT's): AdamW with decoupled weight decay (not on biases and norms), a
linear warm-up then linear decay to 0 over `train_steps`, gradient norm clipped at 1, dropout
as the checkpoint says, class-weighted cross-entropy as the TF-IDF head uses. Batches are
bucketed by length (each padded to its longest row), so CPU time follows the texts' lengths
rather than `max_tokens`: measured on cuad_clauses (mean 76 wordpieces), a step at
max_tokens 128 costs about what a fixed 64-token batch costs.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import math
import time
from typing import Any

import absl.logging
import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from trainer import features as F
from trainer.calibration import Calibration, calibrated, fit_and_record
from trainer.data import Files, read_label_counts
from trainer.encoder.checkpoint import inspect_checkpoint, read_weights
from trainer.encoder.model import PAD_VALUE, build_classifier, load_encoder_weights
from trainer.encoder.params import EncoderParams, from_custom_config
from trainer.model import class_weights
from trainer.params import TransformParams
from trainer.signatures import make_signatures

# Steps between progress log lines (and validation); several "epochs" do not change the step budget.
LOG_EVERY_STEPS = 50


class WarmupLinearDecay(tf.keras.optimizers.schedules.LearningRateSchedule):
    """0 -> peak over `warmup` steps, then linearly to 0 at `total` steps (BERT's schedule)."""

    def __init__(self, peak: float, total: int, warmup: int) -> None:
        self.peak, self.total, self.warmup = float(peak), int(total), int(warmup)

    def __call__(self, step: tf.Tensor) -> tf.Tensor:
        step = tf.cast(step, tf.float32)
        warm = step / max(self.warmup, 1)
        decay = (self.total - step) / max(self.total - self.warmup, 1)
        return self.peak * tf.maximum(0.0, tf.minimum(warm, decay))

    def get_config(self) -> dict[str, Any]:
        return {"peak": self.peak, "total": self.total, "warmup": self.warmup}


class TimeBudget(tf.keras.callbacks.Callback):
    """Stop training once `seconds` have passed (checked after each batch)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.start = time.monotonic()
        self.stopped_at_step: int | None = None

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if time.monotonic() - self.start > self.seconds and not self.model.stop_training:
            self.stopped_at_step = int(self.model.optimizer.iterations.numpy())
            self.model.stop_training = True


def length_buckets(max_tokens: int) -> list[int]:
    """Upper bounds of the length buckets: every 16 tokens up to 128, then every 64."""
    bounds = list(range(16, min(max_tokens, 128) + 1, 16)) + list(range(192, max_tokens + 1, 64))
    return [b for b in bounds if b < max_tokens] + [max_tokens]


def bucketed_dataset(examples: tf.data.Dataset, params: EncoderParams, weights: list[float] | None) -> tf.data.Dataset:
    """(features, label) batches -> ({token_ids: sparse}, label[, weight]) batches of similar length."""
    bounds = length_buckets(params.max_tokens)

    def row(ids: tf.SparseTensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        # One unbatched VarLen row is a 1-D SparseTensor whose values are the ids in order
        # (unbatching a RaggedTensor would give ragged elements, which bucketing cannot pad).
        return ids.values, label

    def split(features: dict[str, tf.SparseTensor], label: tf.Tensor) -> tuple[tf.SparseTensor, tf.Tensor]:
        return features[F.TOKEN_IDS], tf.cast(tf.reshape(label, [-1]), tf.int64)

    def to_model(
        ids: tf.Tensor, label: tf.Tensor
    ) -> tuple[dict[str, tf.SparseTensor], tf.Tensor] | tuple[dict[str, tf.SparseTensor], tf.Tensor, tf.Tensor]:
        inputs = {F.TOKEN_IDS: tf.RaggedTensor.from_tensor(ids, padding=PAD_VALUE).to_sparse()}
        if weights is None:
            return inputs, label
        return inputs, label, tf.gather(tf.constant(weights, tf.float32), label)

    return (
        examples.map(split, num_parallel_calls=tf.data.AUTOTUNE)
        .unbatch()
        .map(row, num_parallel_calls=tf.data.AUTOTUNE)
        .bucket_by_sequence_length(
            lambda ids, _: tf.shape(ids)[0],
            bucket_boundaries=[b + 1 for b in bounds[:-1]],
            bucket_batch_sizes=[params.batch_size] * len(bounds),
            padding_values=(tf.constant(PAD_VALUE, tf.int64), tf.constant(0, tf.int64)),
        )
        .map(to_model, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def _examples(
    fn_args: tfx.components.FnArgs,
    files: Files,
    tf_transform_output: tft.TFTransformOutput,
    params: EncoderParams,
    num_epochs: int | None = None,
) -> tf.data.Dataset:
    return fn_args.data_accessor.tf_dataset_factory(
        files,
        tfxio.TensorFlowDatasetOptions(
            batch_size=params.batch_size, label_key=F.LABEL_ID, shuffle_seed=params.seed, num_epochs=num_epochs
        ),
        tf_transform_output.transformed_metadata.schema,
    )


def compile_for_fine_tuning(model: tf.keras.Model, params: EncoderParams, train_steps: int) -> None:
    schedule = WarmupLinearDecay(params.learning_rate, train_steps, round(params.warmup_fraction * train_steps))
    optimizer = tf.keras.optimizers.AdamW(
        schedule, weight_decay=params.weight_decay, epsilon=1e-6, global_clipnorm=1.0, jit_compile=False
    )
    # Keras names LayerNormalization's weights gamma/beta.
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    model.compile(
        optimizer=optimizer,
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),
        weighted_metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    # Keras's own train/test steps are left unconverted by AutoGraph: trainer.model (imported above)
    # puts tf_keras on its skip list for the whole process (leave_keras_unconverted).


def run_encoder_fn(fn_args: tfx.components.FnArgs) -> None:
    params = from_custom_config(fn_args.custom_config)
    if params is None:
        raise ValueError("run_encoder_fn needs an `encoder` section in custom_config")
    tf.keras.utils.set_random_seed(params.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    labels = [
        v.decode() if isinstance(v, bytes) else str(v) for v in tf_transform_output.vocabulary_by_name(F.LABEL_VOCAB)
    ]
    weights = class_weights(read_label_counts(tf_transform_output), labels, params.class_weighting)

    checkpoint = inspect_checkpoint(params.checkpoint)
    model = build_classifier(checkpoint.config, len(labels), params.head_dropout, params.train_layers, params.seed)
    assigned = load_encoder_weights(model, read_weights(checkpoint))
    trainable = sum(int(tf.size(v)) for v in model.trainable_weights)
    absl.logging.info(
        "encoder %s: %d weights loaded, %d trainable; classes=%d", checkpoint.path, assigned, trainable, len(labels)
    )

    train_steps = fn_args.train_steps or params.train_steps
    compile_for_fine_tuning(model, params, train_steps)
    train = bucketed_dataset(_examples(fn_args, fn_args.train_files, tf_transform_output, params), params, weights)
    evaluate = bucketed_dataset(_examples(fn_args, fn_args.eval_files, tf_transform_output, params), params, None)
    steps_per_epoch = min(train_steps, LOG_EVERY_STEPS)
    callbacks: list[tf.keras.callbacks.Callback] = [
        tf.keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir, update_freq="epoch")
    ]
    budget = TimeBudget(params.time_budget_seconds) if params.time_budget_seconds else None
    if budget is not None:
        callbacks.append(budget)
    start = time.monotonic()
    model.fit(
        train,
        steps_per_epoch=steps_per_epoch,
        epochs=math.ceil(train_steps / steps_per_epoch),
        validation_data=evaluate,
        validation_steps=fn_args.eval_steps or params.eval_steps,
        callbacks=callbacks,
        verbose=2,
    )
    seconds = time.monotonic() - start
    steps = int(model.optimizer.iterations.numpy())
    absl.logging.info(
        "encoder fine-tuning: %d steps in %.0f s (%.2f examples/s)%s",
        steps,
        seconds,
        steps * params.batch_size / max(seconds, 1e-9),
        f"; stopped by the time budget at step {budget.stopped_at_step}" if budget and budget.stopped_at_step else "",
    )
    # Calibrated probabilities, as the TF-IDF models serve (trainer/calibration.py): one pass of the validation
    # split (eval_files: the Trainer's eval_args splits; the Evaluator's eval split never reaches the Trainer).
    one_pass = bucketed_dataset(_examples(fn_args, fn_args.eval_files, tf_transform_output, params, 1), params, None)
    calibration = fit_and_record(model, one_pass, fn_args.model_run_dir)
    transform = TransformParams.model_validate(fn_args.custom_config.get("transform", {}))
    export_serving_model(model, tf_transform_output, transform, fn_args.serving_model_dir, calibration)


def export_serving_model(
    model: tf.keras.Model,
    tf_transform_output: tft.TFTransformOutput,
    transform: TransformParams,
    path: str,
    calibration: Calibration | None = None,
) -> None:
    """The SavedModel contract of trainer/signatures.py, raw text in.

    A fresh Model over the same layers: the SavedModel carries the weights, not the optimizer's
    two moments per weight (which would triple its size); with a `calibration`, its scores are
    softmax(logits / T).
    """
    if calibration is None:
        serving_model = tf.keras.Model(inputs=model.input, outputs=model.output)
    else:
        serving_model = calibrated(model, calibration)
    tf.saved_model.save(serving_model, path, signatures=make_signatures(serving_model, tf_transform_output, transform))
