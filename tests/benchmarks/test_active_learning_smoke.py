"""Smoke tests of the active-learning benchmark (benchmarks/active_learning.py).

The three ways of choosing corrections on hand-made scores (the queue's on a real SQLite
FeedbackStore), the area under a curve, the summary's verdict, the CLI's errors, and one tiny
end-to-end run (a toy dataset, one round: the real Transform and Trainer executors, about a
minute). The benchmark itself is `python -m benchmarks.active_learning` (BENCHMARKS.md).
"""

import json
import random

import numpy as np
import pytest
from typer.testing import CliRunner

from benchmarks import active_learning as al
from feedback import review
from feedback.store import FeedbackStore

ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
CLASSES = ["a", "b", "c"]


def _scored(rows):
    return al.Scored(list(CLASSES), np.array(rows, dtype=np.float64))


def test_least_confident_takes_the_lowest_top_scores_of_the_candidates():
    scored = _scored([[0.34, 0.33, 0.33], [0.9, 0.05, 0.05], [0.5, 0.4, 0.1], [0.4, 0.4, 0.2]])
    assert al.pick_least_confident([1, 2, 3], 2, scored) == [3, 2]  # row 0 is labelled already
    assert al.pick_least_confident([0, 1, 2, 3], 10, scored) == [0, 3, 2, 1]


def test_random_takes_k_distinct_candidates():
    picked = al.pick_random(range(10, 30), 5, random.Random(0))
    assert len(set(picked)) == 5 and all(10 <= i < 30 for i in picked)
    assert sorted(al.pick_random([1, 2], 5, random.Random(0))) == [1, 2]


def test_queue_order_is_the_consoles_score_and_follows_the_feedback(tmp_path):
    """Margin first; then the store's state as the console reads it: the second answer about one
    version's label counts half, so an equally uncertain row of another label comes first; in the
    next version, the label with the lower live accuracy comes first among equals."""
    store = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.sqlite'}")
    scored = _scored(
        [
            [0.50, 0.45, 0.05],  # 0: margin 0.05, predicted a
            [0.70, 0.20, 0.10],  # 1: margin 0.50, predicted a
            [0.20, 0.70, 0.10],  # 2: margin 0.50, predicted b
            [0.05, 0.05, 0.90],  # 3: margin 0.85, predicted c
        ]
    )
    texts = ["zero", "one", "two", "three"]
    truth = ["b", "a", "b", "c"]  # row 0's prediction is wrong
    # 0: 0.95 + 0.25; then 1: (0.5 + 0.5) / 2 (a answered once, wrongly) < 2: 0.5 + 0.25
    assert al.pick_queue([3, 2, 1, 0], 3, scored, texts, truth, store, version=1) == [0, 2, 1]
    assert review.class_accuracy(store) == {"a": 0.5, "b": 1.0}
    assert review.reviewed_per_label(store) == {(1, "a"): 2, (1, "b"): 1}
    # Version 2 has no answers: a (0.5 + 0.25) before b (0.5 + 0), whatever the candidates' order.
    assert al.pick_queue([2, 1], 1, scored, texts, truth, store, version=2) == [1]
    store.close()


def test_area_under_curve_is_the_mean_height():
    assert al.area_under_curve([0, 100, 200], [0.5, 0.5, 0.5]) == pytest.approx(0.5)
    assert al.area_under_curve([0, 100, 200], [0.0, 0.5, 1.0]) == pytest.approx(0.5)
    assert al.area_under_curve([0, 100, 200], [0.2, 0.6, 0.6]) == pytest.approx((0.4 + 0.6) / 2)
    with pytest.raises(ValueError):
        al.area_under_curve([0], [0.3])


def test_summary_compares_the_queue_with_random_per_seed():
    settings = al.Settings("toy", seed_rows=10, k=5, rounds=1, seeds=2, strategies=("queue", "random"))
    runs = [
        {"seed": s, "strategy": name, "rounds": [{"macro_f1": 0.4, "accuracy": 0.5}, {"macro_f1": f, "accuracy": 0.6}]}
        for s, values in enumerate(({"queue": 0.8, "random": 0.6}, {"queue": 0.5, "random": 0.6}))
        for name, f in values.items()
    ]
    summary = al.summarise(settings, runs)
    assert summary["queue"]["auc"] == pytest.approx([0.6, 0.45])
    assert summary["queue_minus_random"]["per_seed"] == pytest.approx([0.1, -0.05])
    assert summary["queue_minus_random"]["seeds_won"] == 1
    assert summary["queue_minus_random"]["queue_beats_random"] is True  # mean +0.025
    assert "least_confident" not in summary


def _toy_dataset(root, pool_per_class=16, test_per_class=4):
    phrases = {
        "governing_law": "this agreement is governed by the laws of the state of {}",
        "assignment": "neither party may assign this agreement without the consent of {}",
        "insurance": "the supplier shall maintain insurance coverage with {} at its own cost",
    }
    folder = root / "toy"
    folder.mkdir(parents=True)
    for name, rows in (("train.csv", pool_per_class), ("test.csv", test_per_class)):
        lines = ["text,label"]
        for label, phrase in phrases.items():
            lines += [f"{phrase.format(f'party {name[:2]}{i}')},{label}" for i in range(rows)]
        (folder / name).write_text("\n".join(lines) + "\n")
    return folder


def test_cli_errors_name_the_missing_file_and_the_oversized_plan(tmp_path):
    runner = CliRunner()
    result = runner.invoke(al.app, ["--dataset", "nope", "--datasets-dir", str(tmp_path)], env=ENV)
    assert result.exit_code == 2 and "nope/train.csv does not exist" in result.output
    _toy_dataset(tmp_path)
    args = ["--dataset", "toy", "--datasets-dir", str(tmp_path), "--seed-rows", "40", "--k", "5", "--rounds", "2"]
    result = runner.invoke(al.app, [*args, "--out", str(tmp_path / "out")], env=ENV)
    assert result.exit_code == 2 and "50 is more than the 48 rows" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.e2e
def test_one_round_on_a_toy_dataset_writes_curves_and_plot(tmp_path):
    """The real Transform and Trainer executors on 48 pool rows: seed model, one round per strategy."""
    _toy_dataset(tmp_path / "datasets")
    out = tmp_path / "out"
    args = ["--dataset", "toy", "--datasets-dir", str(tmp_path / "datasets"), "--out", str(out)]
    args += ["--seed-rows", "12", "--k", "6", "--rounds", "1", "--seeds", "1", "--work-dir", str(tmp_path / "work")]
    result = CliRunner().invoke(al.app, args, env=ENV)
    assert result.exit_code == 0, result.output
    results = json.loads((out / "active_learning.json").read_text())
    assert results["settings"]["corrections"] == [0, 6]
    assert {r["strategy"] for r in results["runs"]} == set(al.STRATEGIES)
    for run in results["runs"]:
        first, second = run["rounds"]
        assert (first["labelled"], second["labelled"]) == (12, 18)
        assert first["train_rows"] + first["validation_rows"] == 12 and 0.0 <= second["macro_f1"] <= 1.0
        assert len(run["picked_labels"][0]) == 6
    # The seed model is shared: every strategy starts from the same point.
    assert len({json.dumps(r["rounds"][0]) for r in results["runs"]}) == 1
    assert (out / "active_learning.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| 6 |" in (out / "active_learning.md").read_text()
    # The queue's corrections went through a real feedback store, with the predicting version.
    store = FeedbackStore(f"sqlite:///{tmp_path / 'work' / 'seed0' / 'queue' / 'feedback.sqlite'}")
    feedback = store.list_feedback()
    assert len(feedback) == 6 and {f.model_version for f in feedback} == {1}
    store.close()
