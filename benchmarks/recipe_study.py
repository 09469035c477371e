"""Which model family should the product's model search hold, and how should it choose? (issue 22.3)

    python -m benchmarks.recipe_study                      # every suite dataset, ~15-25 min on 2 shared cores
    python -m benchmarks.recipe_study -d overruling       # one dataset (cached per dataset under --cache)
    python -m benchmarks.recipe_study --report-only       # re-render results from the cache

scikit-learn/numpy emulation of what the pipeline can do, on every dataset of the suite
(benchmarks/suite_datasets.py), with the test rows kept out of every choice:

1. **Validation split from the training side only**: by document where the dataset has a
   `document` column (a fifth of the documents, by hash rank), else a fifth of the rows by hash.
2. **Candidates** (each fitted on train-minus-validation, scored on validation):
   - `svm_word`: word 1-2-gram TF-IDF (sublinear tf, min_df 2) + one-vs-rest linear SVM (squared
     hinge, LinearSVC): the baseline's family; axes C and class-weight power p (weight of class c
     = (N / (K n_c)) ** p on its positives, as liblinear and the pipeline's OneVsRestSquaredHinge);
   - `svm_wordchar`: the same plus character 2-5-grams within words (`char_wb`, own vocabulary of
     at most 200,000, own idf and L2 norm, concatenated): TransformParams.char_ngrams [2, 5];
   - `nbsvm`: NB-SVM (Wang & Manning 2012) one-vs-rest: for class k the word features are scaled
     by the log-count ratio r_k = log((p_k / |p_k|_1) / (q_k / |q_k|_1)), p_k/q_k = 1 + the
     binarized feature counts in / outside class k; a binary linear SVM per class on x * r_k;
   - `logreg`: multinomial logistic regression on the word + char features;
   - **calibrated ensembles**: each member's margins become softmax(margins / T) with T fitted on
     validation (negative log-likelihood), the probabilities are averaged.
3. **Choice rules**: the current search's (`trainer.search_space.choose`: accuracy guard with the
   paired-bootstrap noise, then a later trial replaces the choice only for a macro-F1 gain > 2
   standard errors), within a family or across families; for ensembles a greedy rule that adds a
   member only when it pays off on validation by the same test.
4. The chosen model is **refit on all training rows** (temperatures stay the validation ones) and
   scored **once** on test. Every recipe's test score is a lookup of what its validation choice
   picked; nothing about the test rows feeds back.
5. **Is the default tuned to the suite?** Leave-one-dataset-out: the recipe is chosen on five
   datasets' test gains (the way a developer tunes a default on a suite) and scored on the sixth.

Costs: seconds to fit each member on all training rows and its feature count, and the seconds
the vectorizers take (char n-grams are most of Transform's extra time).

Results: `benchmarks/results/recipe_study.{json,md}`; per-dataset caches of the raw scores under
`--cache` (default benchmarks/results/tmp/recipe_study/, git-ignored) so that a re-run with other
recipes does not refit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer
from scipy import sparse

from benchmarks import suite_datasets
from trainer import search_space as ss

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"
DEFAULT_CACHE = REPO_ROOT / "benchmarks" / "results" / "tmp" / "recipe_study"
VALIDATION_FRACTION = 0.2
MIN_GAIN_SE = 2.0
MAX_ACCURACY_DROP = 0.005
TARGET_MEAN_GAIN = 0.02
TARGET_MAX_DROP = 0.005
CACHE_VERSION = 3


@dataclass(frozen=True)
class Config:
    family: str
    c: float
    power: float

    @property
    def key(self) -> str:
        return f"{self.family}:C={self.c:g}:p={self.power:g}"


# Grids. C ladders per family; p = class-weight power.
SVM_C = (0.25, 0.5, 1.0)
POWERS = (0.0, 0.5, 1.0)
NBSVM_C = (0.1, 0.3)
LOGREG_C = (10.0, 30.0)
# Each family's fixed default (used by the "fixed" recipes and as the first trial of a search).
DEFAULTS = {
    "svm_word": (0.25, 1.0),  # the current search's start point
    "svm_wordchar": (0.25, 1.0),
    "nbsvm": (0.1, 0.5),
    "logreg": (10.0, 0.5),
}
FAMILIES = tuple(DEFAULTS)
# The recommended default: a calibrated average of three families (see BENCHMARKS.md, "Choosing the
# model family"; `combo_lodo` checks that picking a fixed combination this way generalizes).
RECOMMENDED = (Config("svm_wordchar", 1.0, 1.0), Config("nbsvm", 0.3, 0.0), Config("logreg", 30.0, 0.5))
# The pick rule of a developer choosing a fixed default on a set of datasets: the safest
# combination (largest worst-case drop) among those with a mean macro-F1 gain of at least this.
PICK_MIN_MEAN_GAIN = 0.03
COST_COLUMNS = ("baseline", *(c.family for c in RECOMMENDED))
# benchmarks/proxy_datasets.py variants scored with --proxy-dir (scale_proxy is for time, not quality).
PROXIES = ("cuad_half", "legal_mix")
PROXY_RECIPES = (
    "current_search",
    "ensemble:defaults",
    "recommended",
    "recommended+choose",
    "recommended+choose_if_documents",
    "greedy:svm_word:1se",
)


def grid() -> list[Config]:
    configs = [Config(f, c, p) for f in ("svm_word", "svm_wordchar") for c in SVM_C for p in POWERS]
    configs += [Config("nbsvm", c, p) for c in NBSVM_C for p in (0.0, 0.5)]
    configs += [Config("logreg", c, p) for c in LOGREG_C for p in (0.0, 0.5)]
    return configs


BASELINE = Config("svm_word", 1.0, 0.0)


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def _hash(value: str) -> int:
    return int(hashlib.sha1(value.encode("utf-8")).hexdigest(), 16)


def validation_mask(rows: Sequence[dict[str, str]], fraction: float = VALIDATION_FRACTION) -> np.ndarray:
    """True for validation rows: whole documents (a fraction of them by hash rank) when rows have a
    document, else a fraction of the rows by hash of (text, position). Every label keeps >= 2 rows
    on the fitting side (as SpanExampleGen keeps them on the training side)."""
    if any(r.get("document") for r in rows):
        docs = sorted({r.get("document", "") for r in rows}, key=_hash)
        held = set(docs[: max(1, round(len(docs) * fraction))])
        mask = np.array([r.get("document", "") in held for r in rows])
    else:
        mask = np.array([_hash(f"{i}\x1f{r['text']}") % 10_000 < fraction * 10_000 for i, r in enumerate(rows)])
    labels = np.array([r["label"] for r in rows])
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        kept = idx[~mask[idx]]
        if len(kept) < 2:
            mask[idx[: min(2, len(idx))]] = False
    return mask


@dataclass
class Features:
    word: sparse.csr_matrix
    char: sparse.csr_matrix
    word_binary: sparse.csr_matrix


class Vectorizers:
    """Word 1-2-gram and char_wb 2-5-gram TF-IDF (sublinear tf, min_df 2), fitted on one set of rows."""

    def __init__(self, texts: Sequence[str]):
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        start = time.perf_counter()
        self.word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2).fit(texts)
        self.word_seconds = time.perf_counter() - start
        start = time.perf_counter()
        self.char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=200_000
        ).fit(texts)
        self.char_seconds = time.perf_counter() - start
        self.binary = CountVectorizer(ngram_range=(1, 2), min_df=2, binary=True, vocabulary=self.word.vocabulary_)

    def transform(self, texts: Sequence[str]) -> Features:
        return Features(
            self.word.transform(texts).tocsr(),
            self.char.transform(texts).tocsr(),
            self.binary.transform(texts).tocsr().astype(np.float64),
        )

    def sizes(self) -> dict[str, int]:
        return {"word_features": len(self.word.vocabulary_), "char_features": len(self.char.vocabulary_)}


# --------------------------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------------------------


def class_weights(y: np.ndarray, num_classes: int, power: float) -> dict[int, float]:
    counts = np.bincount(y, minlength=num_classes).astype(float)
    n, k = len(y), int((counts > 0).sum())
    return {c: float((n / (k * counts[c])) ** power) if counts[c] > 0 else 1.0 for c in range(num_classes)}


def fit_margins(
    config: Config, train: Features, y: np.ndarray, num_classes: int, apply: Features
) -> tuple[np.ndarray, float, int]:
    """Fit one member on `train`, return (margins on `apply` [n x K], fit seconds, feature count)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    start = time.perf_counter()
    weights = class_weights(y, num_classes, config.power)
    if config.family in ("svm_word", "svm_wordchar", "logreg"):
        x_fit, x_apply = train.word, apply.word
        if config.family != "svm_word":
            x_fit = sparse.hstack([train.word, train.char]).tocsr()
            x_apply = sparse.hstack([apply.word, apply.char]).tocsr()
        if config.family == "logreg":
            model: Any = LogisticRegression(C=config.c, class_weight=weights, max_iter=300, solver="lbfgs")
        else:
            model = LinearSVC(C=config.c, class_weight=weights, random_state=0)
        model.fit(x_fit, y)
        margins = _full_margins(model, x_apply, num_classes)
        return margins, time.perf_counter() - start, x_fit.shape[1]
    # NB-SVM, one-vs-rest: class k's features are x * r_k.
    margins = np.full((apply.word.shape[0], num_classes), -1e3)
    for k in np.unique(y):
        r = log_count_ratio(train.word_binary, y == k)
        positive = weights[int(k)]
        model = LinearSVC(C=config.c, class_weight={1: positive, 0: 1.0}, random_state=0)
        model.fit(train.word.multiply(r).tocsr(), (y == k).astype(int))
        margins[:, k] = model.decision_function(apply.word.multiply(r).tocsr())
    return margins, time.perf_counter() - start, train.word.shape[1]


def log_count_ratio(binary: sparse.csr_matrix, positive: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """r = log((p / |p|_1) / (q / |q|_1)), p = alpha + feature counts of the positive rows, q of the others."""
    p = alpha + np.asarray(binary[positive].sum(axis=0)).ravel()
    q = alpha + np.asarray(binary[~positive].sum(axis=0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def _full_margins(model: Any, x: sparse.csr_matrix, num_classes: int) -> np.ndarray:
    """Decision values for every class id (classes absent from the fit get -inf-like margins)."""
    raw = model.decision_function(x)
    if raw.ndim == 1:  # binary: sklearn gives one column for classes_[1]
        raw = np.column_stack([-raw, raw])
    out = np.full((x.shape[0], num_classes), -1e3)
    out[:, model.classes_] = raw
    return out


# --------------------------------------------------------------------------------------------
# Calibration and ensembles
# --------------------------------------------------------------------------------------------


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(margins: np.ndarray, y: np.ndarray) -> float:
    """T minimising the NLL of softmax(margins / T) on these rows (golden-section on log T)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        p = softmax(margins / math.exp(log_t))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))

    result = minimize_scalar(nll, bounds=(math.log(0.01), math.log(100.0)), method="bounded")
    return float(math.exp(result.x))


def ensemble_predictions(members: Sequence[str], margins: dict[str, np.ndarray], temps: dict[str, float]) -> np.ndarray:
    probs = sum(softmax(margins[m] / temps[m]) for m in members)
    return np.asarray(probs).argmax(axis=1)


# --------------------------------------------------------------------------------------------
# Choice rules
# --------------------------------------------------------------------------------------------


def _trial(key: str, y: np.ndarray, pred: np.ndarray, k: int) -> ss.TrialResult:
    return ss.TrialResult(
        candidate=ss.Candidate(key, 0.0, 0.0),
        accuracy=ss.accuracy(y, pred),
        macro_f1=ss.macro_f1(y, pred, k),
        seconds=0.0,
        steps=0,
        predictions=pred,
    )


def choose_key(
    keys: Sequence[str], y: np.ndarray, preds: dict[str, np.ndarray], k: int, min_gain_se: float = MIN_GAIN_SE
) -> str:
    """The search's rule over trials in this order (the first is the start point)."""
    trials = [_trial(key, y, preds[key], k) for key in keys]
    index = ss.choose(trials, y, k, max_accuracy_drop=MAX_ACCURACY_DROP, min_gain_se=min_gain_se)
    return keys[index or 0]


def trial_order(configs: Sequence[Config], start: Config) -> list[Config]:
    """Start first, then by distance from it on the grid (what the hill-climbing walk tries first)."""

    def distance(c: Config) -> tuple[int, float, float]:
        return (c.family != start.family, abs(math.log(c.c / start.c)), abs(c.power - start.power))

    return sorted(configs, key=distance)


def greedy_ensemble(
    start: Sequence[str],
    candidates: Sequence[str],
    y: np.ndarray,
    margins: dict[str, np.ndarray],
    temps: dict[str, float],
    k: int,
    min_gain_se: float = MIN_GAIN_SE,
) -> list[str]:
    """Add candidates in order; keep one only when the calibrated average with it beats the current
    choice on validation by the search's rule (accuracy guard, macro-F1 gain > min_gain_se SE)."""
    members = list(start)
    current = ensemble_predictions(members, margins, temps)
    for candidate in candidates:
        if candidate in members:
            continue
        trial = ensemble_predictions([*members, candidate], margins, temps)
        gain, se = ss.paired_gain(y, current, trial, k)
        drop = ss.accuracy(y, current) - ss.accuracy(y, trial)
        _, acc_se = ss.paired_accuracy_gain(y, trial, current)
        if gain > 0 and gain > min_gain_se * se and drop - MAX_ACCURACY_DROP <= min_gain_se * acc_se:
            members.append(candidate)
            current = trial
    return members


# --------------------------------------------------------------------------------------------
# One dataset: every member on validation and on test
# --------------------------------------------------------------------------------------------


def run_member_scores(name: str, rows: dict[str, list[dict[str, str]]], echo: Callable[[str], None]) -> dict[str, Any]:
    """Validation and test margins of every grid config; the raw material of every recipe."""
    train, test = rows["train"], rows["test"]
    labels = sorted({r["label"] for r in train})
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    y_train = np.array([index[r["label"]] for r in train])
    y_test = np.array([index.get(r["label"], -1) for r in test])
    mask = validation_mask(train)
    fit_rows = [r["text"] for r, m in zip(train, mask, strict=True) if not m]
    val_rows = [r["text"] for r, m in zip(train, mask, strict=True) if m]
    texts_train, texts_test = [r["text"] for r in train], [r["text"] for r in test]

    echo(f"[{name}] {len(fit_rows)} fit / {len(val_rows)} validation / {len(test)} test rows, {k} classes")
    vec_fit = Vectorizers(fit_rows)
    f_fit, f_val = vec_fit.transform(fit_rows), vec_fit.transform(val_rows)
    start = time.perf_counter()
    vec_all = Vectorizers(texts_train)
    f_all = vec_all.transform(texts_train)
    f_test = vec_all.transform(texts_test)
    vectorize = {
        "word_fit_seconds": vec_all.word_seconds,
        "char_fit_seconds": vec_all.char_seconds,
        "transform_all_seconds": time.perf_counter() - start - vec_all.word_seconds - vec_all.char_seconds,
        **vec_all.sizes(),
    }
    y_fit, y_val = y_train[~mask], y_train[mask]
    members: dict[str, Any] = {}
    for config in grid():
        val_margins, _, _ = fit_margins(config, f_fit, y_fit, k, f_val)
        test_margins, seconds, features = fit_margins(config, f_all, y_train, k, f_test)
        members[config.key] = {
            "val_margins": val_margins.astype(np.float32),
            "test_margins": test_margins.astype(np.float32),
            "fit_seconds": seconds,
            "features": features,
        }
        echo(f"[{name}]   {config.key:28s} fit {seconds:5.1f} s")
    return {
        "labels": labels,
        "y_val": y_val,
        "y_test": y_test,
        "train_rows": len(train),
        "fit_rows": len(fit_rows),
        "val_rows": len(val_rows),
        "test_rows": len(test),
        "val_by_document": any(r.get("document") for r in train),
        "vectorize": vectorize,
        "members": members,
    }


def save_cache(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"y_val": data["y_val"], "y_test": data["y_test"]}
    meta = {k: v for k, v in data.items() if k not in ("y_val", "y_test", "members")}
    meta["version"] = CACHE_VERSION
    meta["members"] = {}
    for key, m in data["members"].items():
        arrays[f"{key}|val"], arrays[f"{key}|test"] = m["val_margins"], m["test_margins"]
        meta["members"][key] = {"fit_seconds": m["fit_seconds"], "features": m["features"]}
    np.savez_compressed(path.with_suffix(".npz"), **arrays)
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


def load_cache(path: Path) -> Optional[dict[str, Any]]:
    if not path.with_suffix(".json").is_file() or not path.with_suffix(".npz").is_file():
        return None
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    if meta.get("version") != CACHE_VERSION or set(meta["members"]) != {c.key for c in grid()}:
        return None
    arrays = np.load(path.with_suffix(".npz"))
    data = dict(meta, y_val=arrays["y_val"], y_test=arrays["y_test"])
    data["members"] = {
        key: {**m, "val_margins": arrays[f"{key}|val"], "test_margins": arrays[f"{key}|test"]}
        for key, m in meta["members"].items()
    }
    return data


# --------------------------------------------------------------------------------------------
# Recipes: a validation-only choice -> the members (config keys) of the final model
# --------------------------------------------------------------------------------------------


@dataclass
class Choice:
    members: list[str]
    val_pred: np.ndarray
    test_pred: np.ndarray


def recipes(data: dict[str, Any]) -> dict[str, Choice]:
    """Every recipe of the study on one dataset (choices from validation only)."""
    k = len(data["labels"])
    y_val = data["y_val"]
    m = data["members"]
    val = {key: v["val_margins"] for key, v in m.items()}
    tst = {key: v["test_margins"] for key, v in m.items()}
    temps = {key: fit_temperature(val[key].astype(np.float64), y_val) for key in m}
    val_pred = {key: v.argmax(axis=1) for key, v in val.items()}
    configs = grid()
    by_family = {f: [c for c in configs if c.family == f] for f in FAMILIES}
    default = {f: Config(f, *DEFAULTS[f]).key for f in FAMILIES}

    def single(key: str) -> Choice:
        return Choice([key], val_pred[key], tst[key].argmax(axis=1))

    def ensemble(keys: Sequence[str]) -> Choice:
        return Choice(list(keys), ensemble_predictions(keys, val, temps), ensemble_predictions(keys, tst, temps))

    out: dict[str, Choice] = {"baseline": single(BASELINE.key)}
    searched = {}
    for family in FAMILIES:
        out[f"fixed:{family}"] = single(default[family])
        order = [c.key for c in trial_order(by_family[family], Config(family, *DEFAULTS[family]))]
        searched[family] = choose_key(order, y_val, val_pred, k)
        out[f"search:{family}"] = single(searched[family])
    # The current search: linear SVM on word n-grams, start at C 0.25 balanced.
    out["current_search"] = out["search:svm_word"]
    everything = [c.key for c in trial_order(configs, Config("svm_word", *DEFAULTS["svm_word"]))]
    out["search:all_families"] = single(choose_key(everything, y_val, val_pred, k))
    wc_first = [c.key for c in trial_order(configs, Config("svm_wordchar", *DEFAULTS["svm_wordchar"]))]
    out["search:all_from_wordchar"] = single(choose_key(wc_first, y_val, val_pred, k))
    out["ensemble:defaults"] = ensemble([default[f] for f in FAMILIES])
    out["ensemble:searched"] = ensemble([searched[f] for f in FAMILIES])
    out["ensemble:wordchar+nbsvm"] = ensemble([default["svm_wordchar"], default["nbsvm"]])
    out["ensemble:wordchar+logreg"] = ensemble([default["svm_wordchar"], default["logreg"]])
    # The recommended default, its ablations, and two rules for keeping members on validation.
    rec = [c.key for c in RECOMMENDED]
    out["recommended"] = ensemble(rec)
    for i, config in enumerate(RECOMMENDED):
        out[f"recommended-minus:{config.family}"] = ensemble(rec[:i] + rec[i + 1 :])
    # (a) the ensemble is the first trial; a sub-ensemble or a single member replaces it only when
    # the search's rule says so (significantly better macro-F1 on validation, accuracy guard).
    subsets = [rec] + [rec[:i] + rec[i + 1 :] for i in range(len(rec))] + [[key] for key in rec]
    subset_val = {"+".join(keys): ensemble_predictions(keys, val, temps) for keys in subsets}
    kept = choose_key(list(subset_val), y_val, subset_val, k).split("+")
    out["recommended+choose"] = ensemble(kept)
    # (a') the same, but only where the validation split is by document: a row-hash split shares
    # documents with the fitting rows and flatters whichever member memorises them best.
    out["recommended+choose_if_documents"] = ensemble(kept if data["val_by_document"] else rec)
    # (b) forward: start from the SVM member, add a member only when it pays off (> 2 SE).
    out["recommended+forward"] = ensemble(greedy_ensemble(rec[:1], rec[1:], y_val, val, temps, k))
    for start_family in ("svm_word", "svm_wordchar"):
        for se in (2.0, 1.0):
            first = searched[start_family]
            rest = [searched[f] for f in FAMILIES if f != start_family]
            kept = greedy_ensemble([first], rest, y_val, val, temps, k, min_gain_se=se)
            out[f"greedy:{start_family}:{se:g}se"] = ensemble(kept)
    return out


def score(y: np.ndarray, pred: np.ndarray, k: int) -> dict[str, float]:
    present = y >= 0
    return {"accuracy": ss.accuracy(y[present], pred[present]), "macro_f1": ss.macro_f1(y[present], pred[present], k)}


def evaluate(name: str, data: dict[str, Any]) -> dict[str, Any]:
    k = len(data["labels"])
    result: dict[str, Any] = {}
    for recipe, choice in recipes(data).items():
        result[recipe] = {
            "members": choice.members,
            "validation": score(data["y_val"], choice.val_pred, k),
            "test": score(data["y_test"], choice.test_pred, k),
            "fit_seconds": sum(data["members"][key]["fit_seconds"] for key in choice.members),
            "features": max(data["members"][key]["features"] for key in choice.members),
        }
    base = result["baseline"]["test"]
    for rec in result.values():
        rec["gain"] = {metric: rec["test"][metric] - base[metric] for metric in ("macro_f1", "accuracy")}
    return result


# --------------------------------------------------------------------------------------------
# Across datasets: the suite verdict and leave-one-dataset-out
# --------------------------------------------------------------------------------------------


def suite_verdict(results: dict[str, dict[str, Any]], recipe: str, names: Sequence[str]) -> dict[str, Any]:
    gains_f1 = [results[n][recipe]["gain"]["macro_f1"] for n in names]
    gains_acc = [results[n][recipe]["gain"]["accuracy"] for n in names]
    worst = min(*gains_f1, *gains_acc)
    return {
        "mean_macro_f1_gain": float(np.mean(gains_f1)),
        "mean_accuracy_gain": float(np.mean(gains_acc)),
        "worst_drop": float(worst),
        "meets_target": bool(np.mean(gains_f1) >= TARGET_MEAN_GAIN and worst >= -TARGET_MAX_DROP),
    }


def pick(gains: dict[str, list[tuple[float, float]]]) -> str:
    """The safest option: among those with a mean macro-F1 gain >= PICK_MIN_MEAN_GAIN, the one with the
    largest worst drop (macro-F1 or accuracy, any dataset); then the larger mean. `gains`: option ->
    [(macro-F1 gain, accuracy gain) per dataset]."""

    def rank(option: str) -> tuple[bool, float, float]:
        rows = gains[option]
        mean = float(np.mean([f for f, _ in rows]))
        return (mean >= PICK_MIN_MEAN_GAIN, min(min(f, a) for f, a in rows), mean)

    return max(gains, key=rank)


def leave_one_out(results: dict[str, dict[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """Per held-out dataset: the recipe (rule) picked on the other datasets' test gains, scored on it."""
    candidates = [r for r in next(iter(results.values())) if r != "baseline"]
    rows = []
    for held in names:
        rest = [n for n in names if n != held]
        gains = {
            r: [(results[n][r]["gain"]["macro_f1"], results[n][r]["gain"]["accuracy"]) for n in rest]
            for r in candidates
        }
        chosen = pick(gains)
        rows.append(
            {
                "held_out": held,
                "chosen_on_others": chosen,
                "others": suite_verdict(results, chosen, rest),
                "held_out_gain": results[held][chosen]["gain"],
            }
        )
    return rows


def combo_space() -> list[tuple[str, ...]]:
    """Every fixed model of 1-3 grid members (three members from three different families)."""
    keys = [c.key for c in grid()]
    combos: list[tuple[str, ...]] = []
    for size in (1, 2, 3):
        for combo in itertools.combinations(keys, size):
            if size < 3 or len({key.split(":")[0] for key in combo}) == 3:
                combos.append(combo)
    return combos


def combo_gains(caches: dict[str, dict[str, Any]]) -> dict[tuple[str, ...], list[tuple[float, float]]]:
    """Test gains over the baseline of every fixed combination (calibrated average), per dataset."""
    gains: dict[tuple[str, ...], list[tuple[float, float]]] = {combo: [] for combo in combo_space()}
    for data in caches.values():
        k, y_val, y_test = len(data["labels"]), data["y_val"], data["y_test"]
        members = data["members"]
        temps = {key: fit_temperature(m["val_margins"].astype(np.float64), y_val) for key, m in members.items()}
        test = {key: m["test_margins"] for key, m in members.items()}
        base = score(y_test, test[BASELINE.key].argmax(axis=1), k)
        for combo in gains:
            s = score(y_test, ensemble_predictions(combo, test, temps), k)
            gains[combo].append((s["macro_f1"] - base["macro_f1"], s["accuracy"] - base["accuracy"]))
    return gains


def combo_lodo(gains: dict[tuple[str, ...], list[tuple[float, float]]], names: Sequence[str]) -> dict[str, Any]:
    """Is a fixed default picked on a suite tuned to it? Pick (the safest rule) on all but one dataset,
    score the held-out one; also the pick on all datasets and how many combinations meet the target."""
    keyed = {"+".join(combo): rows for combo, rows in gains.items()}
    folds: list[dict[str, Any]] = []
    for i, held in enumerate(names):
        chosen = pick({c: rows[:i] + rows[i + 1 :] for c, rows in keyed.items()})
        f1, acc = keyed[chosen][i]
        folds.append({"held_out": held, "chosen_on_others": chosen, "held_out_gain": {"macro_f1": f1, "accuracy": acc}})
    meets = [
        c
        for c, rows in keyed.items()
        if np.mean([f for f, _ in rows]) >= TARGET_MEAN_GAIN and min(min(f, a) for f, a in rows) >= -TARGET_MAX_DROP
    ]
    return {
        "combinations": len(keyed),
        "meeting_target": len(meets),
        "pick_on_all": pick(keyed),
        "folds": folds,
        "held_out_mean_macro_f1_gain": float(np.mean([f["held_out_gain"]["macro_f1"] for f in folds])),
        "held_out_worst_drop": min(min(f["held_out_gain"]["macro_f1"], f["held_out_gain"]["accuracy"]) for f in folds),
    }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _table_head(columns: Sequence[str]) -> list[str]:
    """A markdown table's header and rule: the first column left-aligned, the rest right-aligned."""
    return ["| " + " | ".join(columns) + " |", "| --- | " + " | ".join("---:" for _ in columns[1:]) + " |"]


def _test_cell(r: dict[str, Any], recipe: str) -> str:
    """`macro-F1 / accuracy` on test, with the gains over the baseline unless it is the baseline."""
    cell = f"{r['test']['macro_f1']:.3f} / {r['test']['accuracy']:.3f}"
    return cell if recipe == "baseline" else cell + f" ({r['gain']['macro_f1']:+.3f} / {r['gain']['accuracy']:+.3f})"


def render_markdown(report: dict[str, Any]) -> str:
    names = report["datasets"]
    results = report["results"]
    recipes_ = list(next(iter(results.values())))
    lines = [
        "# Recipe study: which model family and choice rule (issue 22.3)",
        "",
        (
            f"Generated by `python -m benchmarks.recipe_study` on {report['date']} "
            f"(machine: {report['machine']}). scikit-learn emulation; validation carved from the training side "
            "(by document where there is a `document` column, else 20 % of rows by hash); the chosen model "
            'refit on all training rows and scored once on test. See BENCHMARKS.md, "Choosing the model family".'
        ),
        "",
        "## Test macro-F1 / accuracy per recipe (gain over the baseline in parentheses)",
        "",
        *_table_head(["recipe", *names, "mean macro-F1 gain", "worst drop", "target"]),
    ]
    for recipe in recipes_:
        cells = [_test_cell(results[n][recipe], recipe) for n in names]
        v = report["verdicts"][recipe]
        verdict = "**yes**" if v["meets_target"] else "no"
        lines.append(
            f"| {recipe} | "
            + " | ".join(cells)
            + f" | {v['mean_macro_f1_gain']:+.3f} | {v['worst_drop']:+.3f} | {verdict} |"
        )
    lines += [
        "",
        "## Validation vs. test macro-F1 (what the choice saw vs. what it got)",
        "",
        *_table_head(["recipe", *names]),
    ]
    for recipe in recipes_:
        cells = [
            f"{results[n][recipe]['validation']['macro_f1']:.3f} → {results[n][recipe]['test']['macro_f1']:.3f}"
            for n in names
        ]
        lines.append(f"| {recipe} | " + " | ".join(cells) + " |")
    lines += ["", "## What each recipe chose", ""]
    for recipe in recipes_:
        chosen = "; ".join(f"{n}: {' + '.join(results[n][recipe]['members'])}" for n in names)
        lines.append(f"- **{recipe}**: {chosen}")
    lines += [
        "",
        "## Leave one dataset out (recipe picked on the other five datasets' test gains, scored on the sixth)",
        "",
        "| held out | picked on the others | others: mean gain / worst drop | held out: gain macro-F1 / accuracy |",
        "| --- | --- | ---: | ---: |",
    ]
    for row in report["leave_one_out"]:
        o, h = row["others"], row["held_out_gain"]
        lines.append(
            f"| {row['held_out']} | {row['chosen_on_others']} "
            f"| {o['mean_macro_f1_gain']:+.3f} / {o['worst_drop']:+.3f} | {h['macro_f1']:+.3f} / {h['accuracy']:+.3f} |"
        )
    combo = report.get("combo_lodo")
    if combo:
        lines += [
            "",
            f"## Leave one dataset out over {combo['combinations']} fixed models (calibrated averages of 1-3 members)",
            "",
            (
                f"{combo['meeting_target']} of the {combo['combinations']} fixed combinations meet the target on all "
                f"datasets; the pick rule (safest, mean gain ≥ {PICK_MIN_MEAN_GAIN}) on all of them: "
                f"`{combo['pick_on_all']}`. Held out: mean macro-F1 gain {combo['held_out_mean_macro_f1_gain']:+.3f}, "
                f"worst drop {combo['held_out_worst_drop']:+.3f}."
            ),
            "",
            "| held out | picked on the others | held out: gain macro-F1 / accuracy |",
            "| --- | --- | ---: |",
        ]
        for row in combo["folds"]:
            h = row["held_out_gain"]
            lines.append(
                f"| {row['held_out']} | {row['chosen_on_others']} | {h['macro_f1']:+.3f} / {h['accuracy']:+.3f} |"
            )
    if report.get("proxies"):
        proxies = report["proxies"]
        lines += [
            "",
            "## Proxy variants (benchmarks/proxy_datasets.py; never looked at when choosing)",
            "",
            *_table_head(["recipe", *proxies]),
        ]
        for recipe in ("baseline", *PROXY_RECIPES):
            cells = [_test_cell(proxies[name][recipe], recipe) for name in proxies]
            lines.append(f"| {recipe} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Costs (fit on all training rows, one process, shared 2-core machine)",
        "",
        "| dataset | train rows | word features | char features | word vectorizer s | char vectorizer s | "
        + " | ".join(f"{f} fit s" for f in COST_COLUMNS)
        + " |",
        "| --- | ---: | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in COST_COLUMNS) + " |",
    ]
    for n in names:
        c = report["costs"][n]
        lines.append(
            f"| {n} | {c['train_rows']} | {c['word_features']} | {c['char_features']} | {c['word_fit_seconds']:.1f} | "
            f"{c['char_fit_seconds']:.1f} | " + " | ".join(f"{c['fit_seconds'][f]:.1f}" for f in COST_COLUMNS) + " |"
        )
    return "\n".join(lines) + "\n"


def machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    return f"{os.cpu_count()} cores, load average {load[0]:.1f}"


def score_proxies(proxy_dir: Path, cache: Path, refit: bool, report_only: bool) -> dict[str, Any]:
    """Every recipe on the proxy variants (cached like the suite datasets)."""
    proxies = {}
    for name in PROXIES:
        folder = proxy_dir / name
        path = cache / f"proxy-{name}"
        data = None if refit else load_cache(path)
        if data is None and not report_only:
            try:
                rows = {
                    s: suite_datasets.read_rows(suite_datasets.split_path(folder, s)) for s in suite_datasets.SPLITS
                }
            except FileNotFoundError as exc:
                typer.echo(f"error: proxy {name}: {exc}", err=True)
                raise typer.Exit(2) from None
            data = run_member_scores(name, rows, typer.echo)
            save_cache(path, data)
        if data is not None:
            proxies[name] = evaluate(name, data)
    return proxies


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    dataset: list[str] = typer.Option([], "--dataset", "-d", help="Suite datasets (default: all)."),
    out: Path = typer.Option(DEFAULT_OUT, help="Where recipe_study.json and recipe_study.md go."),
    cache: Path = typer.Option(DEFAULT_CACHE, help="Per-dataset member scores (reused when present)."),
    refit: bool = typer.Option(False, help="Ignore the cache."),
    report_only: bool = typer.Option(False, help="Only datasets already in the cache; fit nothing."),
    proxy_dir: Optional[Path] = typer.Option(
        None,
        help="Output of `python -m benchmarks.proxy_datasets`: also score the recipes on its cuad_half and "
        "legal_mix (variants nobody tuned on; reported apart, not in the suite verdict).",
    ),
) -> None:
    """Fit every member on every suite dataset, apply every recipe, write the study."""
    names = dataset or list(suite_datasets.SUITE_NAMES)
    unknown = [n for n in names if n not in suite_datasets.SUITE]
    if unknown:
        typer.echo(
            f"error: not a suite dataset: {', '.join(unknown)} ({', '.join(suite_datasets.SUITE_NAMES)})", err=True
        )
        raise typer.Exit(2)
    results, costs, done, caches = {}, {}, [], {}
    for name in names:
        path = cache / name
        data = None if refit else load_cache(path)
        if data is None:
            if report_only:
                typer.echo(f"[{name}] not in the cache: skipped")
                continue
            try:
                rows = suite_datasets.load(name)
            except FileNotFoundError as exc:
                typer.echo(f"error: {name}: {exc} (python -m benchmarks.suite_datasets build)", err=True)
                raise typer.Exit(2) from None
            data = run_member_scores(name, rows, typer.echo)
            save_cache(path, data)
        results[name] = evaluate(name, data)
        caches[name] = data
        cost_members = {"baseline": BASELINE, **{c.family: c for c in RECOMMENDED}}
        fit = {label: data["members"][c.key]["fit_seconds"] for label, c in cost_members.items()}
        costs[name] = {"train_rows": data["train_rows"], **data["vectorize"], "fit_seconds": fit}
        done.append(name)
        v = results[name]
        typer.echo(
            f"[{name}] baseline {v['baseline']['test']['macro_f1']:.3f}; "
            + ", ".join(f"{r} {v[r]['gain']['macro_f1']:+.3f}" for r in v if r.startswith(("greedy", "ensemble:def")))
        )
    if not done:
        typer.echo("error: no dataset to report", err=True)
        raise typer.Exit(2)
    proxies = score_proxies(proxy_dir, cache, refit, report_only) if proxy_dir is not None else {}
    recipes_ = list(next(iter(results.values())))
    report = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "datasets": done,
        "settings": {
            "validation_fraction": VALIDATION_FRACTION,
            "min_gain_se": MIN_GAIN_SE,
            "max_accuracy_drop": MAX_ACCURACY_DROP,
            "svm_c": SVM_C,
            "powers": POWERS,
            "nbsvm_c": NBSVM_C,
            "logreg_c": LOGREG_C,
            "defaults": DEFAULTS,
            "pick_min_mean_gain": PICK_MIN_MEAN_GAIN,
        },
        "results": results,
        "verdicts": {r: suite_verdict(results, r, done) for r in recipes_},
        "leave_one_out": leave_one_out(results, done) if len(done) > 2 else [],
        "combo_lodo": combo_lodo(combo_gains(caches), done) if len(done) > 2 else None,
        "recommended": [c.key for c in RECOMMENDED],
        "proxies": proxies,
        "costs": costs,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe_study.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (out / "recipe_study.md").write_text(render_markdown(report), encoding="utf-8")
    typer.echo(f"wrote {out / 'recipe_study.json'} and {out / 'recipe_study.md'}")


if __name__ == "__main__":
    app()
