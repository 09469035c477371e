"""The model search's space, selection rule and budget: plain Python and numpy, no TensorFlow.

Search space (a grid, walked by hill-climbing from a strong default):
- family: a one-vs-rest linear SVM over the TF-IDF n-grams (squared hinge + l2) or the wide MLP;
- regularisation: the SVM's C (l2 = 1 / (2 C N), as scikit-learn's LinearSVC weighs its penalty
  against the summed loss of N rows), or the MLP's dropout;
- class weighting: (N / (C n_c)) ** p for p in CLASS_WEIGHT_POWERS (0 = none, 1 = "balanced").

The walk starts at the first family's default and then tries the untried neighbours (one step
along one axis, or the other family) of the current choice, in a fixed priority order, until it
has none left, the trial limit is reached, or no neighbour's estimated cost fits the remaining
budget.

Every trial trains on the train split and is scored on the validation split (carved from the
training side by SpanExampleGen); the Evaluator's eval split plays no part in the choice. The chosen
settings are then refitted on train + validation (`final_overrides`: the same epochs and C over the
larger N).

Choice (`choose`): the accuracy guard first (trials more than `max_accuracy_drop`, plus the noise
of the difference, below the most accurate trial are out), then, in trial order, a trial
replaces the current choice only if its macro-F1 gain is larger than `min_gain_se` standard
errors of the paired bootstrap difference on the same validation rows. A validation split of a few
hundred rows has F1 noise of a few points on rare classes; a plain argmax would chase it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

LINEAR = "linear_svm"
MLP = "mlp"
ENSEMBLE = "ensemble"
# The ensemble's members (trainer/model.py `build_ensemble`), each with its fixed C and class-weight
# power (the recipe study, BENCHMARKS.md "The recommended default"): fixed, not searched, because
# per-dataset searches of C and p on validation did not beat them on the suite.
SVM, NBSVM, LOGREG = "svm", "nbsvm", "logreg"
MEMBERS = (SVM, NBSVM, LOGREG)
MEMBER_C = {SVM: 1.0, NBSVM: 0.3, LOGREG: 30.0}
MEMBER_CLASS_WEIGHT = {SVM: 1.0, NBSVM: 0.0, LOGREG: 0.5}
MEMBER_NAMES = {SVM: "word+char SVM", NBSVM: "NB-SVM", LOGREG: "logistic regression"}
# Ladders of each axis; the middle values are the defaults the walk starts from.
C_VALUES = (0.0625, 0.125, 0.25, 0.5, 1.0, 2.0)
DROPOUT_VALUES = (0.25, 0.5, 0.75)
CLASS_WEIGHT_POWERS = (0.0, 0.5, 1.0, 1.5)
DEFAULT_REGULARISATION = {LINEAR: 0.25, MLP: 0.5, ENSEMBLE: 0.0}
DEFAULT_CLASS_WEIGHT = 1.0
# Fixed training settings of each family (trainer/model.py). The SVM: large steps decayed to 0,
# which reaches the exact optimum (checked against liblinear); the MLP: the WideMLP recipe with
# batches of 128 (half the cost per epoch of 64 on the demo data, same eval scores).
LINEAR_BATCH = 256
MLP_BATCH = 128
MLP_HIDDEN = 512
MIN_STEPS = 50


@dataclass(frozen=True)
class Candidate:
    family: str
    regularisation: float  # LINEAR: C; MLP: dropout; ENSEMBLE: unused (0)
    class_weight: float  # power p of (N / (C n_c)) ** p; ENSEMBLE: each member has its own
    members: tuple[str, ...] = ()  # ENSEMBLE: the heads averaged (a sub-ensemble after pruning)

    @property
    def ladder(self) -> tuple[float, ...]:
        return C_VALUES if self.family == LINEAR else DROPOUT_VALUES

    def values(self) -> dict[str, object]:
        """The searched values, as KerasTuner hyperparameter values."""
        if self.family == ENSEMBLE:
            return {"family": ENSEMBLE, "members": ",".join(self.members)}
        key = "c" if self.family == LINEAR else "dropout"
        return {"family": self.family, key: self.regularisation, "class_weight": self.class_weight}

    @classmethod
    def from_values(cls, values: dict) -> Candidate:
        family = values["family"]
        if family == ENSEMBLE:
            return ensemble(tuple(m for m in str(values["members"]).split(",") if m))
        regularisation = values["c"] if family == LINEAR else values["dropout"]
        return cls(family, float(regularisation), float(values["class_weight"]))

    def describe(self) -> str:
        if self.family == ENSEMBLE:
            heads = [f"{MEMBER_NAMES[m]} (C {MEMBER_C[m]:g}, {_weights(MEMBER_CLASS_WEIGHT[m])})" for m in self.members]
            return ("average of " if len(heads) > 1 else "") + ", ".join(heads)
        if self.family == LINEAR:
            return f"linear SVM, C={self.regularisation:g}, {_weights(self.class_weight)}"
        return f"MLP {MLP_HIDDEN}, dropout {self.regularisation:g}, {_weights(self.class_weight)}"


def _weights(power: float) -> str:
    return {0.0: "no class weights", 0.5: "sqrt class weights", 1.0: "balanced class weights"}.get(
        power, f"class weights ^{power:g}"
    )


def ensemble(members: Sequence[str] = MEMBERS) -> Candidate:
    """The calibrated average of `members` (in MEMBERS' order)."""
    unknown = set(members) - set(MEMBERS)
    if unknown or not members:
        raise ValueError(f"ensemble members must be a non-empty subset of {list(MEMBERS)}, got {list(members)}")
    return Candidate(ENSEMBLE, 0.0, 0.0, tuple(m for m in MEMBERS if m in members))


def sub_ensembles(members: Sequence[str]) -> list[tuple[str, ...]]:
    """The smaller averages the member rule may prefer, largest first: each pair, then each single head."""
    members = tuple(members)
    return [c for size in range(len(members) - 1, 0, -1) for c in itertools.combinations(members, size)]


def start(families: Sequence[str]) -> Candidate:
    if families[0] == ENSEMBLE:
        return ensemble()
    return Candidate(families[0], DEFAULT_REGULARISATION[families[0]], DEFAULT_CLASS_WEIGHT)


def neighbours(candidate: Candidate, families: Sequence[str]) -> list[Candidate]:
    """One step along each axis, then the other families; in the order the walk tries them.

    Class weighting first: on long-tailed data it moves macro-F1 most (measured: +0.03 to +0.1);
    regularisation next; the other family last: on real vocabularies the wide MLP costs 30-40x a
    linear trial (its dense first layer), so even its timing probe would take the budget that
    the cheap refinements need; on small vocabularies (the demo) it fits after them.
    """
    out = []
    if candidate.family != ENSEMBLE:  # the ensemble's members have fixed settings; its pruning is free
        for axis, ladder in (("class_weight", CLASS_WEIGHT_POWERS), ("regularisation", candidate.ladder)):
            i = ladder.index(getattr(candidate, axis))
            out += [_with(candidate, axis, ladder[j]) for j in (i - 1, i + 1) if 0 <= j < len(ladder)]
    others = [f for f in families if f != candidate.family]
    weight = DEFAULT_CLASS_WEIGHT if candidate.family == ENSEMBLE else candidate.class_weight
    return out + [ensemble() if f == ENSEMBLE else Candidate(f, DEFAULT_REGULARISATION[f], weight) for f in others]


def train_overrides(candidate: Candidate, rows: int, steps: int) -> dict[str, object]:
    """The TrainParams fields a candidate sets (pipeline/config.py), for `rows` training rows."""
    common = {
        "class_weighting": candidate.class_weight,
        "train_steps": int(steps),
        "lr_decay": "cosine",
        "batch_size": batch_size(candidate.family, rows),
        "heads": [],
    }
    if candidate.family == ENSEMBLE:
        heads = [
            {"kind": m, "l2": 1.0 / (2.0 * MEMBER_C[m] * max(rows, 1)), "class_weighting": MEMBER_CLASS_WEIGHT[m]}
            for m in candidate.members
        ]
        return {**common, "heads": heads, "hidden_units": 0, "l2": 0.0, "input_dropout": 0.0, "learning_rate": 0.1}
    if candidate.family == LINEAR:
        l2 = 1.0 / (2.0 * candidate.regularisation * max(rows, 1))
        return {
            **common,
            "hidden_units": 0,
            "loss": "squared_hinge",
            "l2": l2,
            "input_dropout": 0.0,
            "learning_rate": 0.1,
        }
    return {
        **common,
        "hidden_units": MLP_HIDDEN,
        "loss": "crossentropy",
        "l2": 0.0,
        "dropout": candidate.regularisation,
        "input_dropout": 0.2,
        "learning_rate": 2e-3,
    }


def final_overrides(candidate: Candidate, train_rows: int, all_rows: int, trial_steps: int) -> dict[str, object]:
    """The TrainParams fields of the final fit on `all_rows` (train + validation) rows: the trial's
    epochs (capped ones too) over the larger data, and the same C (l2 = 1 / (2 C N) with the new N)."""
    epochs = trial_steps * batch_size(candidate.family, train_rows) / max(train_rows, 1)
    steps = max(MIN_STEPS, math.ceil(epochs * all_rows / batch_size(candidate.family, all_rows)))
    return train_overrides(candidate, all_rows, steps)


def batch_size(family: str, rows: int) -> int:
    # Small data gets smaller batches so that an epoch still has a few steps.
    return max(8, min(MLP_BATCH if family == MLP else LINEAR_BATCH, rows // 8 or 1))


def steps_for(family: str, rows: int, epochs: float) -> int:
    return max(MIN_STEPS, math.ceil(epochs * rows / batch_size(family, rows)))


def budget_seconds(rows: int, cap: float, per_1k_rows: float, floor: float) -> float:
    """The search's wall-time budget: proportional to the training rows, within [floor, cap]."""
    return min(cap, max(floor, per_1k_rows * rows / 1000.0))


# ------------------------------------------------------------------------------------------
# Scores and the choice
# ------------------------------------------------------------------------------------------


def _with(candidate: Candidate, axis: str, value: float) -> Candidate:
    return dataclasses.replace(candidate, **{axis: value})  # type: ignore[arg-type]


@dataclass
class TrialResult:
    candidate: Candidate
    accuracy: float
    macro_f1: float
    seconds: float
    steps: int
    predictions: np.ndarray = field(repr=False)  # validation-split class ids, for the bootstrap

    def record(self) -> dict[str, object]:
        return {
            **self.candidate.values(),
            "model": self.candidate.describe(),
            "validation_accuracy": round(self.accuracy, 4),
            "validation_macro_f1": round(self.macro_f1, 4),
            "seconds": round(self.seconds, 1),
            "train_steps": self.steps,
        }


def _f1_per_class(y: np.ndarray, p: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    true = np.bincount(y, minlength=num_classes)
    predicted = np.bincount(p, minlength=num_classes)
    hits = np.bincount(y[y == p], minlength=num_classes)
    denominator = true + predicted
    f1 = np.divide(2.0 * hits, denominator, out=np.zeros(num_classes), where=denominator > 0)
    return f1, denominator > 0


def macro_f1(y: np.ndarray, p: np.ndarray, num_classes: int) -> float:
    """Macro-F1 over the classes in y or p (scikit-learn's default; pipeline/metrics.py does the same)."""
    f1, present = _f1_per_class(np.asarray(y), np.asarray(p), num_classes)
    return float(f1[present].mean()) if present.any() else 0.0


def accuracy(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.asarray(y) == np.asarray(p))) if len(y) else 0.0


def paired_gain(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, num_classes: int, rounds: int = 200, seed: int = 0
) -> tuple[float, float]:
    """Macro-F1 of b minus a on the validation rows, and the standard error of that difference
    (paired bootstrap: the same resampled rows score both)."""
    return _paired(y, a, b, lambda t, p: macro_f1(t, p, num_classes), rounds, seed)


def paired_accuracy_gain(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, rounds: int = 200, seed: int = 0
) -> tuple[float, float]:
    """Accuracy of b minus a, and the standard error of that difference (paired bootstrap)."""
    return _paired(y, a, b, accuracy, rounds, seed)


def _paired(
    y: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    metric: Callable[[np.ndarray, np.ndarray], float],
    rounds: int,
    seed: int,
) -> tuple[float, float]:
    y, a, b = np.asarray(y), np.asarray(a), np.asarray(b)
    gain = metric(y, b) - metric(y, a)
    if len(y) < 2 or np.array_equal(a, b):
        return gain, 0.0
    rng = np.random.default_rng(seed)
    diffs = np.empty(rounds)
    for r in range(rounds):
        rows = rng.integers(0, len(y), len(y))
        diffs[r] = metric(y[rows], b[rows]) - metric(y[rows], a[rows])
    return gain, float(diffs.std(ddof=1))


def choose(
    results: Sequence[TrialResult], labels: np.ndarray, num_classes: int, max_accuracy_drop: float, min_gain_se: float
) -> Optional[int]:
    """Index of the chosen trial (None if there is none): accuracy guard, then significant macro-F1 gains.

    The guard rules a trial out when its accuracy is below the most accurate trial's by more than
    `max_accuracy_drop` plus `min_gain_se` standard errors of the paired difference. An accuracy
    difference within noise says little about unseen documents: on cuad_clauses the unweighted SVM
    was 1.5 points more accurate than the balanced one on a held-out split (1090 rows, sharing
    contracts with the train split), and 1.4 points below the reference baseline on the test split.
    """
    if not results:
        return None
    most_accurate = max(range(len(results)), key=lambda i: results[i].accuracy)
    top = results[most_accurate]

    def within_guard(r: TrialResult) -> bool:
        drop = top.accuracy - r.accuracy
        if drop <= max_accuracy_drop + 1e-12:
            return True
        _, se = paired_accuracy_gain(labels, r.predictions, top.predictions)
        return drop - max_accuracy_drop <= min_gain_se * se

    eligible = [i for i, r in enumerate(results) if within_guard(r)]
    best = eligible[0]
    for i in eligible[1:]:
        gain, se = paired_gain(labels, results[best].predictions, results[i].predictions, num_classes)
        if gain > 0 and gain > min_gain_se * se:
            best = i
    return best


# ------------------------------------------------------------------------------------------
# The walk under a time budget
# ------------------------------------------------------------------------------------------


@dataclass
class Skipped:
    candidate: Candidate
    estimated_seconds: float

    def record(self) -> dict[str, object]:
        seconds = self.estimated_seconds
        return {
            **self.candidate.values(),
            "model": self.candidate.describe(),
            "estimated_seconds": round(seconds, 1) if math.isfinite(seconds) else None,
        }


def next_candidate(
    champion: Optional[Candidate],
    tried: set[Candidate],
    families: Sequence[str],
    estimate: Callable[[Candidate], float],
    remaining: float,
    skipped: Optional[list[Skipped]] = None,
) -> Optional[Candidate]:
    """The first untried neighbour of the current choice whose estimated seconds fit in `remaining`.

    The first trial (no champion yet) is the start point and always runs: the Trainer needs
    hyper-parameters. Neighbours that do not fit are noted in `skipped` and passed over; a
    cheaper one further down the list may still fit.
    """
    if champion is None:
        first = start(families)
        return None if first in tried else first
    for candidate in neighbours(champion, families):
        if candidate in tried:
            continue
        seconds = estimate(candidate)
        if seconds <= remaining:
            return candidate
        if skipped is not None and all(s.candidate != candidate for s in skipped):
            skipped.append(Skipped(candidate, seconds))
    return None


def summary_line(chosen: Optional[TrialResult], trials: int, seconds: float, budget: float, setup: float = 0.0) -> str:
    """One line for the run summary (lexflow/run_summary.py) and MLMD."""
    spent = (
        f"{trials} trial{'s' if trials != 1 else ''} in {seconds:.0f} s (budget {budget:.0f} s; start-up {setup:.0f} s)"
    )
    if chosen is None:
        return f"model search: no trial completed; {spent}"
    return (
        f"model search: {chosen.candidate.describe()}; {spent}; "
        f"validation accuracy {chosen.accuracy:.3f}, macro-F1 {chosen.macro_f1:.3f}"
    )
