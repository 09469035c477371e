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
from dataclasses import dataclass
from typing import Any, Optional

import absl.logging
import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx

from trainer import data
from trainer import features as F
from trainer.calibration import CALIBRATION_KEY, Calibration, calibrated, fit_and_record, record
from trainer.encoder import params as encoder_params
from trainer.model import class_weights, new_model, uses_sample_weights
from trainer.params import TrainParams, TransformParams
from trainer.signatures import make_signatures


def searched_params(params: TrainParams, hyperparameters: Optional[dict[str, Any]]) -> TrainParams:
    """`params` with the model search's choice applied (the Tuner's best_hyperparameters, a KerasTuner
    HyperParameters config whose values include TrainParams fields); unchanged without a search."""
    values = (hyperparameters or {}).get("values", {})
    chosen = {key: value for key, value in values.items() if key in TrainParams.model_fields}
    return TrainParams.model_validate({**params.model_dump(), **chosen}) if chosen else params


def searched_calibration(hyperparameters: Optional[dict[str, Any]]) -> Optional[Calibration]:
    """The temperature(s) (and validation scores) the search fitted on its chosen trial, if it ran."""
    found = (hyperparameters or {}).get("values", {}).get(CALIBRATION_KEY)
    return Calibration.from_record(found) if found else None


@dataclass
class Training:
    """One Trainer run's data and settings: what each fit of it shares."""

    fn_args: tfx.components.FnArgs
    tft_output: tft.TFTransformOutput
    params: TrainParams
    labels: list[str]
    counts: dict[str, int]  # train + validation (Transform analyses both)
    train_steps: int

    def fit(self, files: data.Files, validation: bool) -> tf.keras.Model:
        """A new model fitted on `files`; with `validation`, the validation split's loss logged per epoch."""
        params, fn_args = self.params, self.fn_args
        tf.keras.utils.set_random_seed(params.seed)
        model = new_model(fn_args, self.tft_output, params, self.labels, self.counts, files)
        weights = class_weights(self.counts, self.labels, params.class_weighting)
        sample_weights = weights if uses_sample_weights(params) else None
        # Several short "epochs" give a progress log (and a validation curve) without changing the step
        # budget (beyond rounding up by less than one step per epoch).
        epochs = math.ceil(self.train_steps / 200)
        evaluate = None
        if validation:
            evaluate = data.weighted_batches(
                fn_args, fn_args.eval_files, self.tft_output, params.batch_size, None, params.seed
            )
        rows = sum(self.counts.values())
        model.fit(
            data.train_dataset(fn_args, self.tft_output, params, sample_weights, rows, files=files),
            steps_per_epoch=math.ceil(self.train_steps / epochs),
            epochs=epochs,
            validation_data=evaluate,
            validation_steps=(fn_args.eval_steps or params.eval_steps) if validation else None,
            callbacks=[tf.keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir, update_freq="epoch")],
            verbose=2,
        )
        return model

    def first_fit_calibration(self) -> Calibration:
        """No search: a first fit on train gives the temperature(s) and the validation scores."""
        first = self.fit(self.fn_args.train_files, validation=True)
        one_pass = data.batches(
            self.fn_args, self.fn_args.eval_files, self.tft_output, self.params.batch_size, self.params.seed, 1
        )
        calibration = fit_and_record(
            first,
            one_pass,
            self.fn_args.model_run_dir,
            "Trainer's first fit (trained on train)",
            len(self.params.heads),
        )
        tf.keras.backend.clear_session()
        return calibration


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    custom_config = fn_args.custom_config or {}
    if encoder_params.from_custom_config(custom_config) is not None:  # a pretrained encoder (trainer/encoder/)
        from trainer.encoder.task import run_encoder_fn

        return run_encoder_fn(fn_args)
    searched = bool(fn_args.hyperparameters)
    params = searched_params(TrainParams.model_validate(custom_config.get("train", {})), fn_args.hyperparameters)
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    vocabulary = tft_output.vocabulary_by_name(F.LABEL_VOCAB)
    labels = [label.decode() if isinstance(label, bytes) else str(label) for label in vocabulary]
    absl.logging.info("classes=%d params=%s", len(labels), params)
    # The search sized its steps to the data and the budget; TrainArgs carries train.train_steps.
    train_steps = params.train_steps if searched else (fn_args.train_steps or params.train_steps)
    training = Training(fn_args, tft_output, params, labels, data.read_label_counts(tft_output), train_steps)

    calibration = searched_calibration(fn_args.hyperparameters)
    if calibration is None:
        calibration = training.first_fit_calibration()
    else:
        record(calibration, fn_args.model_run_dir)
    # The served model learns from every training-side row: train + validation.
    model = training.fit([*fn_args.train_files, *fn_args.eval_files], validation=False)
    # Scores the gateway can read as confidences, for every model family (trainer/calibration.py).
    served = calibrated(model, calibration)
    transform = TransformParams.model_validate(custom_config.get("transform", {}))
    tf.saved_model.save(served, fn_args.serving_model_dir, signatures=make_signatures(served, tft_output, transform))
    return None
