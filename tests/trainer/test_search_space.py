"""The model search's logic without training: space, walk, choice rule, budget, records, pipeline wiring.

trainer/search_space.py is plain Python; the trials themselves run in the end-to-end test.
"""

import json
import math

import numpy as np
import pytest

from pipeline.config import PipelineConfig, TrainParams, TuningParams
from trainer import search_space as S

FAMILIES = [S.LINEAR, S.MLP]


def _result(candidate, predictions, labels, seconds=1.0):
    predictions = np.asarray(predictions)
    return S.TrialResult(
        candidate, S.accuracy(labels, predictions), S.macro_f1(labels, predictions, 4), seconds, 100, predictions
    )


# -- space ------------------------------------------------------------------------------------


def test_the_walk_starts_at_the_linear_svm_default():
    assert S.start(FAMILIES) == S.Candidate(S.LINEAR, 0.25, 1.0)
    assert S.start([S.MLP, S.LINEAR]).family == S.MLP


def test_neighbours_one_step_per_axis_then_the_other_family():
    start = S.start(FAMILIES)
    assert S.neighbours(start, FAMILIES) == [
        S.Candidate(S.LINEAR, 0.25, 0.5),
        S.Candidate(S.LINEAR, 0.25, 1.5),  # class weighting first
        S.Candidate(S.LINEAR, 0.125, 1.0),
        S.Candidate(S.LINEAR, 0.5, 1.0),  # then C
        S.Candidate(S.MLP, 0.5, 1.0),  # the costliest trial last
    ]
    edge = S.Candidate(S.LINEAR, S.C_VALUES[0], S.CLASS_WEIGHT_POWERS[0])
    assert S.neighbours(edge, [S.LINEAR]) == [
        S.Candidate(S.LINEAR, S.C_VALUES[0], 0.5),
        S.Candidate(S.LINEAR, S.C_VALUES[1], 0.0),
    ]
    mlp = S.neighbours(S.Candidate(S.MLP, 0.5, 0.5), FAMILIES)
    assert S.Candidate(S.MLP, 0.25, 0.5) in mlp and mlp[-1] == S.Candidate(S.LINEAR, 0.25, 0.5)


def test_candidate_values_round_trip_and_describe():
    for candidate in (S.Candidate(S.LINEAR, 0.5, 0.0), S.Candidate(S.MLP, 0.25, 1.5)):
        assert S.Candidate.from_values(json.loads(json.dumps(candidate.values()))) == candidate
    assert S.Candidate(S.LINEAR, 0.25, 1.0).describe() == "linear SVM, C=0.25, balanced class weights"
    assert S.Candidate(S.MLP, 0.5, 0.5).describe() == "MLP 512, dropout 0.5, sqrt class weights"


def test_train_overrides_are_valid_train_params_scaled_to_the_data():
    rows = 4000
    linear = S.train_overrides(S.Candidate(S.LINEAR, 0.25, 1.0), rows, steps=400)
    params = TrainParams.model_validate({**TrainParams().model_dump(), **linear})
    assert params.hidden_units == 0 and params.loss == "squared_hinge" and params.train_steps == 400
    assert params.l2 == pytest.approx(1 / (2 * 0.25 * rows))  # LinearSVC's C against the summed loss of N rows
    mlp = TrainParams.model_validate(
        {**TrainParams().model_dump(), **S.train_overrides(S.Candidate(S.MLP, 0.25, 0.5), rows, steps=10)}
    )
    assert mlp.hidden_units == S.MLP_HIDDEN and mlp.dropout == 0.25 and mlp.class_weighting == 0.5 and mlp.l2 == 0.0


def test_steps_and_batch_follow_the_data_size():
    import math

    for rows in (10_000, 40_000):
        assert S.steps_for(S.LINEAR, rows, epochs=25) == math.ceil(25 * rows / S.LINEAR_BATCH)
    assert S.batch_size(S.LINEAR, 200) == 25  # an epoch still has a few steps on tiny data
    assert S.steps_for(S.LINEAR, 10, epochs=1) == S.MIN_STEPS


def test_budget_grows_with_rows_between_floor_and_cap():
    assert S.budget_seconds(500, cap=300, per_1k_rows=20, floor=20) == 20
    assert S.budget_seconds(4_500, cap=300, per_1k_rows=20, floor=20) == pytest.approx(90)
    assert S.budget_seconds(60_000, cap=300, per_1k_rows=20, floor=20) == 300


# -- scores and the choice --------------------------------------------------------------------


def test_macro_f1_counts_classes_in_truth_or_predictions_like_scikit_learn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 5, 300), rng.integers(0, 6, 300)
    assert S.macro_f1(y, p, 6) == pytest.approx(f1_score(y, p, average="macro"))
    assert S.macro_f1(np.array([0, 0]), np.array([0, 0]), 3) == 1.0  # absent classes do not count as 0


def test_paired_gain_of_identical_predictions_is_zero_with_no_noise():
    y = np.array([0, 1, 2, 3] * 10)
    assert S.paired_gain(y, y, y, 4) == (0.0, 0.0)
    worse = y.copy()
    worse[:8] = (y[:8] + 1) % 4
    gain, se = S.paired_gain(y, worse, y, 4)
    assert gain == pytest.approx(1.0 - S.macro_f1(y, worse, 4)) and 0 < se < gain


def test_choice_needs_a_significant_gain_to_leave_the_earlier_trial():
    labels = np.array([0, 1, 2, 3] * 50)
    first = labels.copy()
    first[:40] = (labels[:40] + 1) % 4  # 40 errors
    one_row_better = first.copy()
    one_row_better[0] = labels[0]
    much_better = first.copy()
    much_better[:30] = labels[:30]
    a, b, c = S.Candidate(S.LINEAR, 0.25, 1.0), S.Candidate(S.LINEAR, 0.25, 0.5), S.Candidate(S.LINEAR, 0.5, 1.0)
    results = [_result(a, first, labels), _result(b, one_row_better, labels)]
    assert S.choose(results, labels, 4, max_accuracy_drop=0.005, min_gain_se=2.0) == 0  # one row is noise
    assert S.choose(results, labels, 4, max_accuracy_drop=0.005, min_gain_se=0.0) == 1  # plain argmax
    results.append(_result(c, much_better, labels))
    assert S.choose(results, labels, 4, max_accuracy_drop=0.005, min_gain_se=2.0) == 2
    assert S.choose([], labels, 4, 0.005, 2.0) is None


def test_accuracy_guard_rules_out_a_higher_macro_f1_that_costs_accuracy():
    # Class 0 is 80 % of the rows. The "weighted" trial finds every rare row but misfires on 30
    # class-0 rows; the "plain" one misses half of the rare rows.
    labels = np.array([0] * 160 + [1, 2, 3] * 14)
    plain = labels.copy()
    plain[160::2] = 0  # 21 rare rows missed
    weighted = labels.copy()
    weighted[:30] = 1  # 30 class-0 rows called class 1
    results = [
        _result(S.Candidate(S.LINEAR, 0.25, 0.0), plain, labels),
        _result(S.Candidate(S.LINEAR, 0.25, 1.0), weighted, labels),
    ]
    assert results[1].macro_f1 > results[0].macro_f1 and results[1].accuracy < results[0].accuracy - 0.01
    assert S.choose(results, labels, 4, max_accuracy_drop=0.005, min_gain_se=0.0) == 0
    assert S.choose(results, labels, 4, max_accuracy_drop=0.1, min_gain_se=0.0) == 1


def test_accuracy_guard_ignores_a_drop_within_the_noise_of_a_small_eval_split():
    # The walk's start (balanced weights) misfires on 6 common rows and finds every rare one; the
    # unweighted trial misses 4 rare rows: 2 rows of accuracy on 202 rows are noise, not a loss.
    labels = np.array([0] * 160 + [1, 2, 3] * 14)
    weighted = labels.copy()
    weighted[:6] = 1
    plain = labels.copy()
    plain[160:164] = 0
    results = [
        _result(S.Candidate(S.LINEAR, 0.25, 1.0), weighted, labels),
        _result(S.Candidate(S.LINEAR, 0.25, 0.0), plain, labels),
    ]
    assert results[0].accuracy < results[1].accuracy - 0.005
    assert S.choose(results, labels, 4, max_accuracy_drop=0.005, min_gain_se=2.0) == 0
    assert S.choose(results, labels, 4, max_accuracy_drop=0.005, min_gain_se=0.0) == 1  # no noise allowance
    _, se = S.paired_accuracy_gain(labels, weighted, plain)
    assert 0.0 < se < 0.05


# -- the walk under a budget ------------------------------------------------------------------


def test_first_trial_always_runs_then_neighbours_that_fit():
    tried, skipped = set(), []
    first = S.next_candidate(None, tried, FAMILIES, estimate=lambda c: 1e9, remaining=0.0, skipped=skipped)
    assert first == S.start(FAMILIES) and not skipped
    tried.add(first)
    costs = {S.LINEAR: 10.0, S.MLP: 100.0}
    proposals = []
    while True:
        candidate = S.next_candidate(first, tried, FAMILIES, lambda c: costs[c.family], remaining=50.0, skipped=skipped)
        if candidate is None:
            break
        tried.add(candidate)
        proposals.append(candidate)
    assert proposals == S.neighbours(first, FAMILIES)[:4]  # every linear neighbour, not the MLP
    assert [s.candidate.family for s in skipped] == [S.MLP] and skipped[0].estimated_seconds == 100.0
    assert S.next_candidate(first, tried, FAMILIES, lambda c: 1.0, remaining=5.0) == S.Candidate(S.MLP, 0.5, 1.0)


def test_walk_moves_to_the_chosen_trial_and_stops_at_a_local_optimum():
    chosen = S.Candidate(S.LINEAR, 0.25, 0.5)
    tried = {S.start([S.LINEAR]), *S.neighbours(S.start([S.LINEAR]), [S.LINEAR])}
    nxt = S.next_candidate(chosen, tried, [S.LINEAR], lambda c: 1.0, remaining=100.0)
    assert nxt == S.Candidate(S.LINEAR, 0.25, 0.0)  # the first untried neighbour of the new choice
    tried |= set(S.neighbours(chosen, [S.LINEAR]))
    assert S.next_candidate(chosen, tried, [S.LINEAR], lambda c: 1.0, remaining=100.0) is None


def test_records_and_summary_line_are_json():
    labels = np.array([0, 1, 2, 3])
    result = _result(S.start(FAMILIES), labels, labels, seconds=12.34)
    record = json.loads(json.dumps(result.record()))
    assert record["model"] == "linear SVM, C=0.25, balanced class weights" and record["validation_macro_f1"] == 1.0
    skipped = json.loads(json.dumps(S.Skipped(S.Candidate(S.MLP, 0.5, 1.0), float("inf")).record()))
    assert skipped["estimated_seconds"] is None
    line = S.summary_line(result, 6, 140.2, 180.0, 20.0)
    assert line == (
        "model search: linear SVM, C=0.25, balanced class weights; 6 trials in 140 s (budget 180 s; "
        "start-up 20 s); validation accuracy 1.000, macro-F1 1.000"
    )
    assert S.summary_line(None, 1, 3.0, 20.0).startswith("model search: no trial completed")


# -- config and pipeline ----------------------------------------------------------------------


def test_tuning_config_defaults_and_validation():
    tuning = PipelineConfig().tuning
    assert tuning.enabled and tuning.families == [S.ENSEMBLE] and tuning.time_budget_seconds > 0
    assert tuning.prune_members == "by_document" and S.start(tuning.families) == S.ensemble(S.MEMBERS)
    with pytest.raises(ValueError):
        TuningParams(families=[])
    with pytest.raises(ValueError):
        TuningParams(families=["transformer"])


def test_pipeline_runs_the_search_before_the_trainer_unless_it_is_off(tmp_path):
    from pipeline.pipeline import TUNER_FN, create_pipeline
    from tests.conftest import SCHEMA

    base = {
        "data_root": str(tmp_path / "data"),
        "schema_path": str(SCHEMA),
        "pipeline_root": str(tmp_path / "p"),
        "metadata_path": str(tmp_path / "m.sqlite"),
    }
    (tmp_path / "data").mkdir()
    nodes = {c.id: c for c in create_pipeline(PipelineConfig.model_validate(base)).components}
    search, trainer = nodes["ModelSearch"], nodes["Trainer"]
    assert search.exec_properties["tuner_fn"] == TUNER_FN
    assert json.loads(search.exec_properties["custom_config"])["tuning"]["enabled"] is True
    assert trainer.inputs["hyperparameters"].producer_component_id == "ModelSearch"
    ids = list(nodes)
    assert ids.index("Transform") < ids.index("ModelSearch") < ids.index("Trainer")

    off = PipelineConfig.model_validate({**base, "tuning": {"enabled": False}})
    nodes = {c.id: c for c in create_pipeline(off).components}
    assert "ModelSearch" not in nodes and "hyperparameters" not in nodes["Trainer"].inputs


def test_the_search_and_the_trainer_never_see_the_eval_split(tmp_path):
    """Trials learn from train and are scored on validation; the Trainer's second split is validation
    too (it refits on both); Transform analyses train + validation; only the Evaluator reads eval."""
    from pipeline.pipeline import create_pipeline
    from tests.conftest import SCHEMA

    (tmp_path / "data").mkdir()
    config = PipelineConfig.model_validate(
        {"data_root": str(tmp_path / "data"), "schema_path": str(SCHEMA), "pipeline_root": str(tmp_path / "p")}
    )
    nodes = {c.id: c for c in create_pipeline(config).components}
    assert nodes["ExampleGen"].exec_properties["validation_percent"] == 20
    for node in ("ModelSearch", "Trainer"):
        train_args = json.loads(nodes[node].exec_properties["train_args"])
        eval_args = json.loads(nodes[node].exec_properties["eval_args"])
        assert train_args["splits"] == ["train"] and eval_args["splits"] == ["validation"], node
    splits = json.loads(nodes["Transform"].exec_properties["splits_config"])
    assert splits == {"analyze": ["train", "validation"], "transform": ["train", "validation", "eval"]}


def test_the_final_fit_keeps_the_trials_epochs_and_c_over_train_plus_validation():
    candidate = S.Candidate(S.LINEAR, 0.5, 1.0)
    trial_steps = S.steps_for(S.LINEAR, 2000, 25.0)
    final = S.final_overrides(candidate, train_rows=2000, all_rows=2500, trial_steps=trial_steps)
    assert final["l2"] == pytest.approx(1.0 / (2 * 0.5 * 2500))  # same C, the new N
    assert final["train_steps"] == S.steps_for(S.LINEAR, 2500, 25.0)  # same epochs over more rows
    capped = S.final_overrides(candidate, train_rows=2000, all_rows=2500, trial_steps=80)  # epochs cut by the budget
    epochs = 80 * S.batch_size(S.LINEAR, 2000) / 2000
    assert capped["train_steps"] == math.ceil(epochs * 2500 / S.batch_size(S.LINEAR, 2500))
    small = S.final_overrides(S.Candidate(S.MLP, 0.5, 0.0), train_rows=400, all_rows=500, trial_steps=60)
    assert small["batch_size"] == S.batch_size(S.MLP, 500) and small["dropout"] == 0.5


def test_the_trainer_takes_the_searchs_temperature():
    from trainer.calibration import CALIBRATION_KEY, Calibration
    from trainer.task import searched_calibration

    assert searched_calibration(None) is None and searched_calibration({"values": {"c": 1.0}}) is None
    fitted = Calibration(0.3, 480, 1.2, 0.4, 0.9, 0.88, "the model search's chosen trial (trained on train)")
    assert searched_calibration({"space": [], "values": {CALIBRATION_KEY: fitted.record()}}) == fitted


def test_searched_params_override_the_configured_model():
    from trainer.task import searched_params

    base = TrainParams()
    assert searched_params(base, None) == base
    hp = {
        "space": [],
        "values": {"family": "linear_svm", "c": 0.25, **S.train_overrides(S.Candidate(S.LINEAR, 0.25, 1.0), 1000, 300)},
    }
    params = searched_params(base, hp)
    assert params.hidden_units == 0 and params.train_steps == 300 and params.seed == base.seed


def test_checked_in_dataset_configs_turn_the_search_off():
    """benchmarks/configs/*.json are explicit overrides: they train exactly what they say."""
    from pathlib import Path

    paths = sorted((Path(__file__).resolve().parents[2] / "benchmarks" / "configs").glob("*.json"))
    assert paths  # the repository's configs, not an empty glob
    for path in paths:
        assert PipelineConfig.load(path).tuning.enabled is False, path.name
