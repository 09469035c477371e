"""The ensemble of the model search's default (trainer/model.py `build_ensemble`): its heads, NB-SVM's
log-count ratios, the summed loss, and the calibrated average the served model outputs."""

import math

import numpy as np
import pytest
import tensorflow as tf

from trainer import features as F
from trainer import search_space as S
from trainer.calibration import Calibration, calibrated, fit_ensemble, head_probabilities
from trainer.model import EnsembleLoss, NbsvmProjection, build_ensemble, nb_ratios
from trainer.params import TrainParams

WORDS = 6  # ids 0..5 are word n-grams, 6..9 character n-grams


def _batch(rows):
    ids = tf.ragged.constant([r[0] for r in rows], dtype=tf.int64, ragged_rank=1).to_sparse()
    weights = tf.ragged.constant([r[1] for r in rows], dtype=tf.float32, ragged_rank=1).to_sparse()
    return {F.TERM_IDS: ids, F.TERM_WEIGHTS: weights}


def _params(members=S.MEMBERS, rows=32, steps=200):
    return TrainParams.model_validate(S.train_overrides(S.ensemble(members), rows, steps))


def test_nb_ratios_are_log_count_ratios_of_binary_word_counts():
    rows = [([0, 1, 7], [1.0] * 3), ([0, 2], [1.0] * 2), ([3], [1.0])]
    labels = tf.constant([0, 0, 1])
    ratios = nb_ratios([(_batch(rows), labels)], WORDS, 2)
    # class 0 rows contain id 0 twice, class 1 never: p = [3, 2, 2, 1, 1, 1], q = [1, 1, 1, 2, 1, 1]
    p, q = np.array([3, 2, 2, 1, 1, 1.0]), np.array([1, 1, 1, 2, 1, 1.0])
    assert ratios.shape == (WORDS, 2)  # the character id 7 has no ratio
    assert np.allclose(ratios[:, 0], np.log((p / p.sum()) / (q / q.sum())), atol=1e-6)
    assert np.allclose(ratios[:, 1], np.log((q / q.sum()) / (p / p.sum())), atol=1e-6)


def test_nbsvm_head_reads_word_ids_only():
    layer = NbsvmProjection(np.ones((WORDS, 2), np.float32))
    inputs = _batch([([1, 8], [0.5, 0.5]), ([9], [1.0])])
    layer([inputs[F.TERM_IDS], inputs[F.TERM_WEIGHTS]])  # builds
    layer.kernel.assign(np.arange(WORDS * 2, dtype=np.float32).reshape(WORDS, 2))
    out = layer([inputs[F.TERM_IDS], inputs[F.TERM_WEIGHTS]]).numpy()
    assert np.allclose(out, [[0.5 * 2, 0.5 * 3], [0.0, 0.0]])  # id 8 and 9 (characters) add nothing


def test_ensemble_loss_is_the_sum_of_each_heads_loss():
    z_svm, z_lr = np.array([[2.0, -0.5]]), np.array([[0.3, 0.1]])
    loss = EnsembleLoss(["svm", "logreg"], [[1.0, 3.0], [1.0, 2.0]])
    total = float(loss(tf.constant([1]), tf.constant(np.concatenate([z_svm, z_lr], axis=1), tf.float32)))
    # svm: true class 1 (weight 3): 3 * (1 - (-0.5))^2; class 0 as a negative: (1 + 2)^2
    hinge = 3 * 1.5**2 + 3.0**2
    cross_entropy = 2.0 * -math.log(math.exp(0.1) / (math.exp(0.3) + math.exp(0.1)))
    assert total == pytest.approx(hinge + cross_entropy, rel=1e-5)


def test_the_ensemble_learns_a_toy_problem_and_serves_the_average_of_calibrated_heads():
    tf.keras.utils.set_random_seed(0)
    rows = [([0, 1, 6], [0.6, 0.6, 0.5])] * 16 + [([3, 4, 9], [0.6, 0.6, 0.5])] * 16
    labels = tf.constant([0] * 16 + [1] * 16)
    data = (_batch(rows), labels)
    params = _params(rows=32, steps=60)
    model = build_ensemble(10, 2, params, [[1.0, 1.0]] * 3, nb_ratios([data], WORDS, 2))
    model.fit(tf.data.Dataset.from_tensors(data).repeat(60), verbose=0)
    logits = model(_batch([rows[0], rows[-1]])).numpy()
    assert logits.shape == (2, 3 * 2)  # the three heads' margins side by side
    for head in np.split(logits, 3, axis=1):
        assert head.argmax(axis=1).tolist() == [0, 1]
    calibration = Calibration(1.0, 2, 0.0, 0.0, head_temperatures=(0.5, 1.0, 2.0))
    scores = calibrated(model, calibration)(_batch([rows[0], rows[-1]])).numpy()
    assert np.allclose(scores, head_probabilities(logits, [0.5, 1.0, 2.0]), atol=1e-5)
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-5) and scores.argmax(axis=1).tolist() == [0, 1]


def test_fit_ensemble_fits_one_temperature_per_head_and_scores_their_average():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 400)
    guesses = np.where(rng.random(400) < 0.3, rng.integers(0, 3, 400), labels)  # 30 % guessed
    sharp = np.eye(3)[guesses] * 8.0  # as sure of the guesses: over-confident, T > 1
    flat = np.eye(3)[labels] * 0.2 + rng.normal(0, 0.1, (400, 3))  # under-confident: T < 1
    calibration = fit_ensemble(np.concatenate([sharp, flat], axis=1), labels, heads=2)
    first, second = calibration.head_temperatures
    assert first > 1.0 > second and calibration.temperature == 1.0
    assert calibration.nll_after < calibration.nll_before
    record = calibration.record()
    assert record["head_temperatures"] == [first, second]
    assert Calibration.from_record(record) == calibration


def test_ensemble_candidates_and_their_training_settings():
    full = S.ensemble(["logreg", "svm", "nbsvm"])
    assert full.members == S.MEMBERS  # canonical order
    assert S.Candidate.from_values(full.values()) == full
    assert full.describe().startswith("average of word+char SVM (C 1, balanced class weights), NB-SVM")
    assert S.sub_ensembles(S.MEMBERS) == [
        ("svm", "nbsvm"),
        ("svm", "logreg"),
        ("nbsvm", "logreg"),
        ("svm",),
        ("nbsvm",),
        ("logreg",),
    ]
    heads = S.train_overrides(full, rows=1000, steps=100)["heads"]
    assert [h["kind"] for h in heads] == list(S.MEMBERS)
    assert heads[0]["l2"] == pytest.approx(1 / (2 * 1.0 * 1000)) and heads[2]["l2"] == pytest.approx(
        1 / (2 * 30 * 1000)
    )
    assert [h["class_weighting"] for h in heads] == [1.0, 0.0, 0.5]
    # The refit on more rows keeps C: l2 follows N.
    refit = S.final_overrides(full, train_rows=1000, all_rows=1250, trial_steps=100)["heads"]
    assert refit[0]["l2"] == pytest.approx(1 / (2 * 1.0 * 1250))
    assert S.train_overrides(S.Candidate(S.LINEAR, 0.25, 1.0), 1000, 100)["heads"] == []
    with pytest.raises(ValueError, match="non-empty subset"):
        S.ensemble(["svm", "bert"])
    # Another family in the search's list is the ensemble's only neighbour (its members are fixed).
    assert S.neighbours(full, [S.ENSEMBLE, S.LINEAR]) == [S.Candidate(S.LINEAR, 0.25, 1.0)]


def _state(prune: str, by_document: bool, labels: np.ndarray):
    from trainer.params import TuningParams
    from trainer.tuning import SearchState

    state = SearchState.__new__(SearchState)  # the member rule needs no data files
    state.tuning, state.by_document = TuningParams(prune_members=prune), by_document
    state.validation_labels, state.labels, state.member_scores = labels, ["a", "b", "c"], []
    return state


def test_the_member_rule_drops_a_head_only_where_validation_is_by_document_and_clearly_against_it():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 3000)
    good = np.eye(3)[labels] * 2.0 + rng.normal(0, 1.0, (3000, 3))
    # The NB-SVM head: the first head's view, but sure that class 2 is class 0 (no calibration undoes it).
    wrong = good.copy()
    wrong[labels == 2] = wrong[labels == 2][:, [2, 1, 0]]
    logits = np.concatenate([good, wrong, np.eye(3)[labels] * 2.0 + rng.normal(0, 1.0, (3000, 3))], axis=1)
    full = S.ensemble(S.MEMBERS)

    kept = _state("by_document", False, labels).ensemble_result(full, logits, 1.0, 10)
    assert kept.candidate == full  # rows hashed into validation: the average stands, nothing else scored
    state = _state("by_document", True, labels)
    pruned = state.ensemble_result(full, logits, 1.0, 10)
    assert pruned.candidate.members == ("svm", "logreg") and pruned.macro_f1 > kept.macro_f1
    assert len(state.member_scores) == 7 and sum(s["chosen"] for s in state.member_scores) == 1
    assert _state("never", True, labels).ensemble_result(full, logits, 1.0, 10).candidate == full
