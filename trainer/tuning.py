"""TFX Tuner entry point: `tuner_fn(fn_args)`, a KerasTuner search of trainer/search_space.py under a time budget.

Each trial trains the real model (trainer/model.py, the same input pipeline as run_fn) on the train
split and scores every row of the validation split (the Tuner's eval_args splits; the Evaluator's eval
split never reaches the search): accuracy and macro-F1 of the argmax, as the Evaluator measures them.
`final_hyperparameters()` is what the Trainer gets through the Tuner's `best_hyperparameters` output:
the chosen trial's TrainParams fields for the refit on train + validation (search_space.final_overrides)
and, under `calibration`, the temperature fitted on the chosen trial's validation logits with its
validation scores (trainer/calibration.py). `report()` is what the ModelSearch executor records in MLMD.

Cost: a short timing probe of a model family (a few steps after tracing) estimates its trial; the
first family's trial length is capped at a quarter of the budget (fewer epochs on large data), so
that the search can still compare settings; later trials of a family are estimated from its last.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import math
import time
from collections.abc import Sequence
from typing import Any, Optional

import absl.logging
import keras_tuner as kt
import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from keras_tuner.engine import base_tuner
from keras_tuner.engine import trial as trial_module
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from trainer import features as F
from trainer import search_space as S
from trainer.calibration import (
    CALIBRATION_KEY,
    Calibration,
    fit_ensemble,
    fit_temperature,
    head_probabilities,
    logits_of,
)
from trainer.data import cached_train_batches, read_label_counts, train_dataset
from trainer.model import class_weights, new_model, uses_sample_weights
from trainer.params import TrainParams, TuningParams

OBJECTIVE = "macro_f1"
PROBE_STEPS = 20  # timed steps of a probe, after a warm-up call that traces the graph
LATE_PROBE_STEPS = 3  # for families probed during the search, inside the budget
MAX_TRIAL_SHARE = 0.25  # of the budget, for one trial of the first family


def _label_names(tf_transform_output: tft.TFTransformOutput) -> list[str]:
    labels = tf_transform_output.vocabulary_by_name(F.LABEL_VOCAB)
    return [label.decode() if isinstance(label, bytes) else label for label in labels]


class SearchState:
    """Data, budget, cost estimates and results of one search (shared by the oracle and the tuner)."""

    def __init__(self, fn_args: tfx.components.FnArgs, tuning: TuningParams, base: TrainParams) -> None:
        self.started = time.monotonic()
        self.fn_args = fn_args
        self.tuning = tuning
        self.base = base
        self.tft_output = tft.TFTransformOutput(fn_args.transform_graph_path)
        self.labels = _label_names(self.tft_output)
        self.validation_batches, self.validation_labels, self.by_document = self._load_validation()
        # Transform counts train + validation (the final fit's rows); the trials train on train alone.
        counted = read_label_counts(self.tft_output)
        held_out = np.bincount(self.validation_labels, minlength=len(self.labels))
        self.counts = {label: counted.get(label, 0) - int(held_out[i]) for i, label in enumerate(self.labels)}
        self.rows = sum(self.counts.values())
        self.all_rows = self.rows + len(self.validation_labels)
        self.budget = S.budget_seconds(
            self.rows, tuning.time_budget_seconds, tuning.seconds_per_1k_rows, tuning.min_budget_seconds
        )
        self.results: dict[str, S.TrialResult] = {}  # trial id -> result, in trial order
        self.logits: dict[str, np.ndarray] = {}  # trial id -> its validation logits (for the temperature)
        self.tried: set[S.Candidate] = set()
        self.skipped: list[S.Skipped] = []
        self.steps: dict[str, int] = {}  # family -> train steps of its trials
        self.probes: dict[str, tuple[float, float]] = {}  # family -> (fixed seconds, seconds per step)
        self.capped: dict[str, float] = {}  # family -> epochs, when the budget shortened its trials
        self.setup_seconds = 0.0
        self.cache: dict[tuple[int, int], Any] = {}  # (batch size, seed) -> cached train batches or None
        self.trained_members: dict[str, tuple[str, ...]] = {}  # ensemble trial id -> the heads it fitted
        self.member_scores: list[dict[str, Any]] = []  # the member rule's sub-ensembles, scored on validation

    # -- data ----------------------------------------------------------------------------------
    def _load_validation(self) -> tuple[list[dict[str, tf.SparseTensor]], np.ndarray, bool]:
        """The whole validation split in memory (it is scored after every trial), and whether every row of
        it belongs to a document (Transform's `document_given`: then validation is unseen documents)."""
        dataset = self.fn_args.data_accessor.tf_dataset_factory(
            self.fn_args.eval_files,
            tfxio.TensorFlowDatasetOptions(batch_size=1024, label_key=F.LABEL_ID, num_epochs=1, shuffle=False),
            self.tft_output.transformed_metadata.schema,
        )
        batches, labels, documented = [], [], []
        for features, label in dataset:
            batches.append({F.TERM_IDS: features[F.TERM_IDS], F.TERM_WEIGHTS: features[F.TERM_WEIGHTS]})
            labels.append(tf.reshape(label, [-1]).numpy())
            given = features.get(F.DOCUMENT_GIVEN)
            documented.append(bool(given is not None and np.all(tf.reshape(given, [-1]).numpy() == 1)))
        by_document = bool(documented) and all(documented)
        return batches, (np.concatenate(labels).astype(np.int64) if labels else np.zeros(0, np.int64)), by_document

    def params(self, candidate: S.Candidate, steps: int) -> TrainParams:
        overrides = S.train_overrides(candidate, self.rows, steps)
        return TrainParams.model_validate({**self.base.model_dump(), **overrides})

    def build(self, params: TrainParams) -> tuple[tf.keras.Model, tf.data.Dataset]:
        weights = class_weights(self.counts, self.labels, params.class_weighting)
        model = new_model(self.fn_args, self.tft_output, params, self.labels, self.counts, self.fn_args.train_files)
        key = (params.batch_size, params.seed)
        if key not in self.cache:  # one pass read per batch size, shared by the trials
            self.cache[key] = cached_train_batches(
                self.fn_args, self.tft_output, params.batch_size, params.seed, self.rows
            )
        data = train_dataset(
            self.fn_args,
            self.tft_output,
            params,
            weights if uses_sample_weights(params) else None,
            self.rows,
            cached=self.cache[key],
        )
        return model, data

    def validation_logits(self, model: tf.keras.Model) -> np.ndarray:
        to_logits = logits_of(model)
        out = [to_logits(batch, training=False).numpy() for batch in self.validation_batches]
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), np.float32)

    # -- budget --------------------------------------------------------------------------------
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return self.budget - self.elapsed()

    def _probe(self, candidate: S.Candidate, steps: int = PROBE_STEPS) -> tuple[float, float]:
        """(fixed seconds of a trial: build, tracing, scoring the validation split; seconds per train step)."""
        tf.keras.utils.set_random_seed(self.base.seed)
        start = time.monotonic()
        model, data = self.build(self.params(candidate, steps + 2))
        model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # traces the train step
        self.validation_logits(model)
        warm = time.monotonic()
        model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
        per_step = (time.monotonic() - warm) / steps
        tf.keras.backend.clear_session()
        return warm - start, per_step

    def set_up(self) -> None:
        """Warm up TensorFlow with a probe of the first family; the budget's clock starts after this.

        A process's first Keras fit spends 10-40 s converting Keras' train step with AutoGraph
        (once per process: the Trainer that runs next in the same process skips it). That is
        start-up, not search, and no trial pays it again, so the probe keeps only its per-step time.
        """
        first = S.start(self.tuning.families)
        _, per_step = self._probe(first)
        self.probes[first.family] = (0.0, per_step)  # fixed costs: measured by the first trial
        self.setup_seconds = time.monotonic() - self.started
        self.started = time.monotonic()

    def family_steps(self, candidate: S.Candidate) -> int:
        """Train steps of a family's trials: its epochs, capped for the first family (see module doc)."""
        family = candidate.family
        if family not in self.steps:
            epochs = self.tuning.mlp_epochs if family == S.MLP else self.tuning.epochs
            steps = S.steps_for(family, self.rows, epochs)
            if not self.results and family in self.probes:
                fixed, per_step = self.probes[family]
                affordable = math.floor((MAX_TRIAL_SHARE * self.budget - fixed) / max(per_step, 1e-6))
                if affordable < steps:
                    steps = max(S.MIN_STEPS, affordable)
                    self.capped[family] = round(steps * S.batch_size(family, self.rows) / max(self.rows, 1), 2)
            self.steps[family] = steps
        return self.steps[family]

    def estimate(self, candidate: S.Candidate) -> float:
        """Seconds a trial of `candidate` should take: the family's last trial, else a probe."""
        measured = [r.seconds for r in self.results.values() if r.candidate.family == candidate.family]
        if measured:
            return measured[-1]
        steps = self.family_steps(candidate)
        if candidate.family not in self.probes:
            # A short probe, and only while a trial as costly as the cheapest one so far would still
            # fit: probing a family must not eat the budget that its estimate is meant to protect.
            cheapest = min((r.seconds for r in self.results.values()), default=0.0)
            if self.remaining() <= cheapest:
                return math.inf
            self.probes[candidate.family] = self._probe(candidate, steps=LATE_PROBE_STEPS)
        fixed, per_step = self.probes[candidate.family]
        return fixed + steps * per_step

    # -- choice --------------------------------------------------------------------------------
    def ordered(self) -> list[S.TrialResult]:
        return list(self.results.values())

    def chosen_index(self) -> Optional[int]:
        return S.choose(
            self.ordered(),
            self.validation_labels,
            len(self.labels),
            self.tuning.max_accuracy_drop,
            self.tuning.min_gain_se,
        )

    def chosen(self) -> Optional[S.TrialResult]:
        index = self.chosen_index()
        return None if index is None else self.ordered()[index]

    def calibration(self) -> Optional[Calibration]:
        """The temperature(s) of the chosen trial's validation logits, and its validation scores."""
        index = self.chosen_index()
        if index is None:
            return None
        trial_id = list(self.results)[index]
        fitted_on = "search's chosen trial (trained on train)"
        members = self.ordered()[index].candidate.members
        if members:  # an ensemble: the kept heads' columns of the trial's logits, a temperature each
            logits = member_logits(self.logits[trial_id], self.trained_members[trial_id], members)
            return fit_ensemble(logits, self.validation_labels, fitted_on, heads=len(members))
        return fit_temperature(self.logits[trial_id], self.validation_labels, fitted_on=fitted_on)

    def prunes(self) -> bool:
        """Whether the member rule listens to validation (TuningParams.prune_members)."""
        rule = self.tuning.prune_members
        return rule == "always" or (rule == "by_document" and self.by_document)

    def ensemble_result(self, candidate: S.Candidate, logits: np.ndarray, seconds: float, steps: int) -> S.TrialResult:
        """The fitted heads' calibrated average; with the member rule on, the sub-average it prefers:
        every pair and single head is scored on validation from the same logits (no training) and
        `search_space.choose` keeps the full average unless one is significantly better."""
        members = candidate.members
        temperatures = fit_ensemble(logits, self.validation_labels, heads=len(members)).head_temperatures
        subsets = [members, *(S.sub_ensembles(members) if self.prunes() else [])]
        results = []
        for subset in subsets:
            keep = [members.index(m) for m in subset]
            probabilities = head_probabilities(member_logits(logits, members, subset), [temperatures[i] for i in keep])
            predictions = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, np.int64)
            results.append(
                S.TrialResult(
                    S.ensemble(subset),
                    S.accuracy(self.validation_labels, predictions),
                    S.macro_f1(self.validation_labels, predictions, len(self.labels)),
                    seconds,
                    steps,
                    predictions,
                )
            )
        index = S.choose(
            results, self.validation_labels, len(self.labels), self.tuning.max_accuracy_drop, self.tuning.min_gain_se
        )
        chosen = results[index or 0]
        if len(results) > 1:
            self.member_scores = [{**r.record(), "chosen": r is chosen} for r in results]
        return chosen

    def final_overrides(self) -> dict[str, Any]:
        """The chosen trial's settings for the Trainer's refit on train + validation, and its temperature."""
        chosen, calibration = self.chosen(), self.calibration()
        if chosen is None or calibration is None:
            return {}
        overrides = S.final_overrides(chosen.candidate, self.rows, self.all_rows, chosen.steps)
        return {**overrides, CALIBRATION_KEY: calibration.record()}

    def report(self) -> dict[str, Any]:
        chosen, calibration = self.chosen(), self.calibration()
        seconds = self.elapsed()
        final = {k: v for k, v in self.final_overrides().items() if k != CALIBRATION_KEY}
        return {
            "summary": S.summary_line(chosen, len(self.results), seconds, self.budget, self.setup_seconds),
            "chosen": chosen.record() if chosen else None,
            "trials": [r.record() for r in self.ordered()],
            "skipped": [s.record() for s in self.skipped],
            "seconds": round(seconds, 1),
            "budget_seconds": round(self.budget, 1),
            "setup_seconds": round(self.setup_seconds, 1),
            "train_rows": self.rows,
            "validation_rows": len(self.validation_labels),
            "classes": len(self.labels),
            "epochs_capped": self.capped,
            "member_rule": {
                "prune_members": self.tuning.prune_members,
                "validation_by_document": self.by_document,
                "applied": self.prunes(),
                "scored": self.member_scores,
            },
            "calibration": calibration.record() if calibration else None,
            "final_fit": {"rows": self.all_rows, **final} if final else None,
            "selection": {
                "objective": "validation macro-F1",
                "max_accuracy_drop": self.tuning.max_accuracy_drop,
                "min_gain_se": self.tuning.min_gain_se,
            },
        }


def member_logits(logits: np.ndarray, fitted: tuple[str, ...], members: tuple[str, ...]) -> np.ndarray:
    """The columns of `members`' heads in the logits of an ensemble that fitted the heads `fitted`."""
    blocks = np.split(np.asarray(logits), len(fitted), axis=1)
    return np.concatenate([blocks[fitted.index(m)] for m in members], axis=1)


class BudgetOracle(kt.Oracle):
    """Proposes the hill-climbing walk of search_space.py; stops when the budget or the walk ends.

    `get_best_trials` applies the search's choice rule (accuracy guard, significant gains) instead
    of KerasTuner's plain argmax of the objective, so the Tuner component writes the chosen trial.
    """

    def __init__(self, state: SearchState, **kwargs: Any) -> None:
        super().__init__(
            objective=kt.Objective(OBJECTIVE, "max"),
            max_trials=state.tuning.max_trials,
            hyperparameters=_space(state.tuning.families),
            **kwargs,
        )
        self.state = state

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        s = self.state
        chosen = s.chosen()
        candidate = S.next_candidate(
            chosen.candidate if chosen else None, s.tried, s.tuning.families, s.estimate, s.remaining(), s.skipped
        )
        if candidate is None:
            return {"status": trial_module.TrialStatus.STOPPED, "values": None}
        s.tried.add(candidate)
        steps = s.family_steps(candidate)
        return {
            "status": trial_module.TrialStatus.RUNNING,
            "values": {**candidate.values(), **S.train_overrides(candidate, s.rows, steps)},
        }

    def get_best_trials(self, num_trials: int = 1) -> list[trial_module.Trial]:
        completed = [t for t in self.trials.values() if t.status == trial_module.TrialStatus.COMPLETED]
        index = self.state.chosen_index()
        ids = list(self.state.results)
        first = ids[index] if index is not None else None
        ordered = sorted(completed, key=lambda t: (t.trial_id != first, -(t.score or 0.0)))
        return ordered[:num_trials]


def _space(families: Sequence[str]) -> kt.HyperParameters:
    """The searched axes, declared for KerasTuner's summaries (values come from the walk)."""
    hp = kt.HyperParameters()
    hp.Choice("family", list(families))
    if S.ENSEMBLE in families:
        with hp.conditional_scope("family", [S.ENSEMBLE]):
            hp.Fixed("members", ",".join(S.MEMBERS))
    if S.LINEAR in families:
        with hp.conditional_scope("family", [S.LINEAR]):
            hp.Choice("c", list(S.C_VALUES), default=S.DEFAULT_REGULARISATION[S.LINEAR])
    if S.MLP in families:
        with hp.conditional_scope("family", [S.MLP]):
            hp.Choice("dropout", list(S.DROPOUT_VALUES), default=S.DEFAULT_REGULARISATION[S.MLP])
    if set(families) - {S.ENSEMBLE}:
        with hp.conditional_scope("family", [f for f in families if f != S.ENSEMBLE]):
            hp.Choice("class_weight", list(S.CLASS_WEIGHT_POWERS), default=S.DEFAULT_CLASS_WEIGHT)
    return hp


class ModelSearch(base_tuner.BaseTuner):
    """Runs one trial: train the candidate, score the validation split, keep its logits for the choice."""

    def __init__(self, state: SearchState, **kwargs: Any) -> None:
        super().__init__(oracle=BudgetOracle(state), **kwargs)
        self.state = state

    def run_trial(self, trial: trial_module.Trial, *args: Any, **kwargs: Any) -> dict[str, float]:
        s = self.state
        values = trial.hyperparameters.values
        candidate = S.Candidate.from_values(values)
        params = TrainParams.model_validate(
            {**s.base.model_dump(), **{k: v for k, v in values.items() if k in TrainParams.model_fields}}
        )
        start = time.monotonic()
        tf.keras.utils.set_random_seed(params.seed)
        model, data = s.build(params)
        model.fit(data, steps_per_epoch=params.train_steps, epochs=1, verbose=0)
        logits = s.validation_logits(model)
        seconds = time.monotonic() - start
        if candidate.family == S.ENSEMBLE:
            s.trained_members[trial.trial_id] = candidate.members
            result = s.ensemble_result(candidate, logits, seconds, params.train_steps)
        else:
            predictions = np.argmax(logits, axis=1) if len(logits) else np.zeros(0, np.int64)
            result = S.TrialResult(
                candidate,
                S.accuracy(s.validation_labels, predictions),
                S.macro_f1(s.validation_labels, predictions, len(s.labels)),
                seconds,
                params.train_steps,
                predictions,
            )
        s.results[trial.trial_id] = result
        s.logits[trial.trial_id] = logits
        absl.logging.info("model search trial %s: %s", trial.trial_id, result.record())
        tf.keras.backend.clear_session()
        return {OBJECTIVE: result.macro_f1, "accuracy": result.accuracy}

    def report(self) -> dict[str, Any]:
        return self.state.report()

    def final_hyperparameters(self) -> kt.HyperParameters:
        """The chosen trial's hyper-parameters with the refit's settings and the temperature: what the
        ModelSearch executor writes as `best_hyperparameters` for the Trainer."""
        best = self.get_best_hyperparameters()[0].copy()
        best.values.update(self.state.final_overrides())
        return best

    # KerasTuner prints these tables to stdout; the run summary has the one line that matters.
    def search_space_summary(self, extended: bool = False) -> None:
        absl.logging.info("model search space: %s", self.oracle.get_space().get_config())

    def results_summary(self, num_trials: int = 10) -> None:
        absl.logging.info("model search: %s", self.state.report()["summary"])


def tuner_fn(fn_args: tfx.components.FnArgs) -> tfx.components.TunerFnResult:
    custom_config = fn_args.custom_config or {}
    tuning = TuningParams.model_validate(custom_config.get("tuning", {}))
    base = TrainParams.model_validate(custom_config.get("train", {}))
    state = SearchState(fn_args, tuning, base)
    state.set_up()
    absl.logging.info(
        "model search: %d train rows, %d validation rows, %d classes, budget %.0f s, set-up %.0f s",
        state.rows,
        len(state.validation_labels),
        len(state.labels),
        state.budget,
        state.setup_seconds,
    )
    tuner = ModelSearch(state, directory=fn_args.working_dir, project_name="model_search", overwrite=True)
    # verbose=0: no per-trial tables on stdout (each trial is logged instead).
    return tfx.components.TunerFnResult(tuner=tuner, fit_kwargs={"verbose": 0})
