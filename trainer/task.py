"""TFX Trainer entry point: `run_fn(fn_args)` trains the model and exports the SavedModel.

The Trainer reads two splits: `train_files` (the train split) and `eval_files` (the validation split;
the Evaluator's eval split never reaches it). The served model learns from both:
- after a model search: the chosen settings refitted on train + validation, served with the
  temperature fitted on the search's chosen trial (which trained on train and was scored on
  validation): one training, as before the validation split existed;
- with the search off: a first fit on train gives the temperature and the validation scores, then
  the same settings are refitted on train + validation: two trainings (the explicit settings of
  `--no-search` are cheap to train; an encoder, which is not, trains once on train: trainer/encoder).
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import math
from typing import Optional

import absl.logging
import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from trainer import features as F
from trainer.calibration import Calibration, calibrated, fit_and_record, record
from trainer.encoder import params as encoder_params
from trainer.model import build_ensemble, build_model, class_weights, nb_ratios, uses_sample_weights
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


def word_id_space(tf_transform_output: tft.TFTransformOutput) -> int:
    """Number of word n-gram ids (kept terms plus the OOV id): character ids follow them."""
    return tf_transform_output.vocabulary_size_by_name(F.TERMS_VOCAB) + 1


def term_id_space(tf_transform_output: tft.TFTransformOutput, transform: TransformParams) -> int:
    """Number of distinct term ids Transform emits: each vocabulary's kept terms plus its OOV id."""
    size = word_id_space(tf_transform_output)
    if transform.char_ngrams is not None:
        size += tf_transform_output.vocabulary_size_by_name(F.CHAR_TERMS_VOCAB) + 1
    return size


# The search's chosen trial's temperature and validation scores, in its best_hyperparameters' values.
CALIBRATION_KEY = "calibration"

# One pass of parsed train batches stays in memory when it is smaller than this: later epochs
# then skip reading and parsing the gzipped tf.Examples, about half of a linear model's step time
# on 2 cores (measured on cuad_clauses with char n-grams: 53 ms of input per 256-row batch).
CACHE_LIMIT_BYTES = 1 << 30
_BYTES_PER_TERM = 44  # two int64 index pairs, an int64 id and a float32 weight


def _batches(fn_args, files, tf_transform_output, batch_size: int, seed: int, num_epochs: Optional[int] = None):
    """(inputs, label) batches of the transformed split, shuffled, repeated unless num_epochs is set."""
    dataset = fn_args.data_accessor.tf_dataset_factory(
        files,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size, label_key=F.LABEL_ID, shuffle_seed=seed, num_epochs=num_epochs
        ),
        tf_transform_output.transformed_metadata.schema,
    )

    def select(features, label):
        return {F.TERM_IDS: features[F.TERM_IDS], F.TERM_WEIGHTS: features[F.TERM_WEIGHTS]}, tf.reshape(label, [-1])

    return dataset.map(select, num_parallel_calls=tf.data.AUTOTUNE)


def _with_weights(dataset, weights: list[float] | None):
    if weights is not None:
        table = tf.constant(weights, tf.float32)
        dataset = dataset.map(
            lambda inputs, label: (inputs, label, tf.gather(table, label)), num_parallel_calls=tf.data.AUTOTUNE
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def _dataset(fn_args, files, tf_transform_output, batch_size: int, weights: list[float] | None, seed: int):
    return _with_weights(_batches(fn_args, files, tf_transform_output, batch_size, seed), weights)


def cached_train_batches(fn_args, tf_transform_output, batch_size: int, seed: int, rows: int, files=None):
    """The batches of `files` (default: the train split), read once, then kept in memory and reshuffled
    (as whole batches) every epoch; None when one pass would take more than CACHE_LIMIT_BYTES (then
    batches stream from disk)."""
    files = fn_args.train_files if files is None else files
    one_pass = _batches(fn_args, files, tf_transform_output, batch_size, seed, num_epochs=1)
    for inputs, label in one_pass.take(1):
        per_row = int(tf.size(inputs[F.TERM_IDS].values)) / max(int(tf.size(label)), 1) * _BYTES_PER_TERM
        if per_row * rows > CACHE_LIMIT_BYTES:
            return None
    batches = max(1, math.ceil(rows / batch_size))
    return one_pass.cache().shuffle(batches, seed=seed, reshuffle_each_iteration=True).repeat()


def train_dataset(
    fn_args, tf_transform_output, params: TrainParams, weights: list[float], rows: int, cached=None, files=None
):
    """The repeated training rows (`files`, default the train split) as the model trains on them (the
    Tuner's trials use it too); `cached`: a cached_train_batches result to reuse, for trials that share
    the batch size."""
    files = fn_args.train_files if files is None else files
    data = (
        cached
        if cached is not None
        else cached_train_batches(fn_args, tf_transform_output, params.batch_size, params.seed, rows, files)
    )
    if data is None:  # too large to keep in memory: stream from disk
        data = _batches(fn_args, files, tf_transform_output, params.batch_size, params.seed)
    return _with_weights(data, weights if uses_sample_weights(params) else None)


def new_model(
    fn_args,
    tf_transform_output: tft.TFTransformOutput,
    params: TrainParams,
    labels: list[str],
    counts: dict[str, int],
    files,
) -> tf.keras.Model:
    """The compiled, untrained model of `params` for rows of `files` with label `counts`: one model, or
    the ensemble of params.heads (NB-SVM's log-count ratios counted on `files`, the rows it fits)."""
    transform = TransformParams.model_validate((fn_args.custom_config or {}).get("transform", {}))
    vocab_size = term_id_space(tf_transform_output, transform)
    if not params.heads:
        return build_model(vocab_size, len(labels), params, class_weights(counts, labels, params.class_weighting))
    ratios = None
    if any(head.kind == "nbsvm" for head in params.heads):
        one_pass = _batches(fn_args, files, tf_transform_output, 1024, params.seed, num_epochs=1)
        ratios = nb_ratios(one_pass, word_id_space(tf_transform_output), len(labels))
    weights = [class_weights(counts, labels, head.class_weighting) for head in params.heads]
    return build_ensemble(vocab_size, len(labels), params, weights, ratios)


def searched_params(params: TrainParams, hyperparameters: Optional[dict]) -> TrainParams:
    """`params` with the model search's choice applied (the Tuner's best_hyperparameters, a KerasTuner
    HyperParameters config whose values include TrainParams fields); unchanged without a search."""
    values = (hyperparameters or {}).get("values", {})
    chosen = {key: value for key, value in values.items() if key in TrainParams.model_fields}
    return TrainParams.model_validate({**params.model_dump(), **chosen}) if chosen else params


def searched_calibration(hyperparameters: Optional[dict]) -> Optional[Calibration]:
    """The temperature (and validation scores) the search fitted on its chosen trial, if it ran."""
    found = (hyperparameters or {}).get("values", {}).get(CALIBRATION_KEY)
    return Calibration.from_record(found) if found else None


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    custom_config = fn_args.custom_config or {}
    if encoder_params.from_custom_config(custom_config) is not None:  # a pretrained encoder (trainer/encoder/)
        from trainer.encoder.task import run_encoder_fn

        return run_encoder_fn(fn_args)
    params = TrainParams.model_validate(custom_config.get("train", {}))
    searched = bool(fn_args.hyperparameters)
    params = searched_params(params, fn_args.hyperparameters)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)

    vocabulary = tf_transform_output.vocabulary_by_name(F.LABEL_VOCAB)
    labels = [label.decode() if isinstance(label, bytes) else str(label) for label in vocabulary]
    vocab_size = term_id_space(tf_transform_output, TransformParams.model_validate(custom_config.get("transform", {})))
    counts = read_label_counts(tf_transform_output)  # train + validation (Transform analyses both)
    weights = class_weights(counts, labels, params.class_weighting)
    absl.logging.info("classes=%d vocab=%d params=%s", len(labels), vocab_size, params)
    # The search sized its steps to the data and the budget; TrainArgs carries train.train_steps.
    train_steps = params.train_steps if searched else (fn_args.train_steps or params.train_steps)
    rows = sum(counts.values())

    def fit(files, validation: bool) -> tf.keras.Model:
        tf.keras.utils.set_random_seed(params.seed)
        model = new_model(fn_args, tf_transform_output, params, labels, counts, files)
        # Several short "epochs" give a progress log (and a validation curve) without changing the step
        # budget (beyond rounding up by less than one step per epoch).
        epochs = math.ceil(train_steps / 200)
        evaluate = None
        if validation:
            evaluate = _dataset(fn_args, fn_args.eval_files, tf_transform_output, params.batch_size, None, params.seed)
        model.fit(
            train_dataset(fn_args, tf_transform_output, params, weights, rows, files=files),
            steps_per_epoch=math.ceil(train_steps / epochs),
            epochs=epochs,
            validation_data=evaluate,
            validation_steps=(fn_args.eval_steps or params.eval_steps) if validation else None,
            callbacks=[tf.keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir, update_freq="epoch")],
            verbose=2,
        )
        return model

    calibration = searched_calibration(fn_args.hyperparameters)
    if calibration is None:  # no search: a first fit on train gives T and the validation scores
        first = fit(fn_args.train_files, validation=True)
        one_pass = _batches(fn_args, fn_args.eval_files, tf_transform_output, params.batch_size, params.seed, 1)
        calibration = fit_and_record(
            first, one_pass, fn_args.model_run_dir, "Trainer's first fit (trained on train)", len(params.heads)
        )
        tf.keras.backend.clear_session()
    else:
        record(calibration, fn_args.model_run_dir)
    # The served model learns from every training-side row: train + validation.
    model = fit([*fn_args.train_files, *fn_args.eval_files], validation=False)
    # Scores the gateway can read as confidences, for every model family (trainer/calibration.py).
    served = calibrated(model, calibration)
    tf.saved_model.save(served, fn_args.serving_model_dir, signatures=make_signatures(served, tf_transform_output))
