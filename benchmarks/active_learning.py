"""What a correction is worth: the review queue's order vs. random vs. least-confident, retraining after each round.

    python -m benchmarks.active_learning [--dataset cuad_clauses] [--seed-rows 200] [--k 100] [--rounds 8] [--seeds 4]

Simulated review on one dataset of `../shared/datasets/` (read in place): its `test.csv` is the test
set; `train.csv` is the pool. Per seed, `--seed-rows` random pool rows are labelled and train the
first model; the rest of the pool is unlabelled traffic whose labels a reviewer reveals one
correction at a time. Each round, K corrections are chosen by one strategy from the current model's
served scores over the unlabelled pool, added to the labelled rows, and the model is retrained.
After every training the model labels the test set (macro-F1, accuracy).

Strategies (the same seed rows and seed model for every one):
- `queue`: the review console's order, `feedback.review.informativeness` called as `claim_next` calls
  it: the model's calibrated scores over all labels, its label, no shadow version, the class accuracy
  (`review.class_accuracy`) and the answered count of the version's label (`review.reviewed_per_label`)
  read from a real FeedbackStore (SQLite) into which each correction is written (`log_predictions` +
  `add_feedback`, with the model version that made the prediction: the round) before the next one is
  chosen, as in the console, where every `claim_next` re-reads them;
- `random`: K pool rows uniformly at random;
- `least_confident`: the K rows with the lowest top score;
- `queue_without_feedback` (an ablation): `informativeness` with no class accuracy at all (every class
  "unknown", as before the first correction), i.e. the queue's margin term alone: what the
  class-accuracy term adds.

What is real: the TFX Transform executor with the product's `preprocessing_fn` and the pipeline's
default Transform settings; the TFX Trainer executor (`GenericExecutor`) running `trainer.task.run_fn`
(its Keras model, class weights from Transform's label counts, temperature calibration, SavedModel
export with the serving signatures); the labelled rows split into train/eval by the pipeline's own
label-aware hash split (SpanExampleGen's rule, `eval_fraction` 0.2); the exported SavedModel's
`serving_default` (raw text in) for the pool's scores and the test labels; the product's queue score
and class-accuracy query on a real store.

What is shortened, against a production retrain (`lexflow retrain`):
- Transform analyses ONCE, over the whole pool's text, instead of the labelled train split at every
  retrain: vocabulary and IDF are unsupervised (the pool's text is what the gateway stores for every
  prediction anyway); the label vocabulary is the dataset's label set. The Trainer's class weights
  still come from the labelled train rows only: each round gets a copy of the Transform output whose
  `label_counts` vocabulary holds that round's train-split counts.
- No model search: every round trains the search's starting choice (`search_space.start`, the
  linear SVM, C 0.25, balanced class weights, with its steps for the round's rows), handed to the
  Trainer as the Tuner's `best_hyperparameters`. The search chose exactly that on every dataset
  measured so far (issue 22, BENCHMARKS.md); a search per round would add its budget (at least 20 s)
  and its start-up probe to every training.
- No ExampleGen/StatisticsGen/Evaluator/Pusher: every trained model counts (no blessing gate), and
  the next round's scores come from it.
- The queue ranks the whole unlabelled pool, not the `CANDIDATE_WINDOW` newest predictions: which
  500 rows are "newest" is a property of traffic, and every strategy must see the same rows.

Area under the curve: the trapezoid area of test macro-F1 over the number of corrections (0 to
rounds x K), divided by that range: the mean macro-F1 over the review effort. Written to
`benchmarks/results/active_learning.{json,md,png}` (BENCHMARKS.md, "What a correction is worth").
"""

from __future__ import annotations

import core.tf_env  # noqa: F401  (TF_USE_LEGACY_KERAS before anything loads TensorFlow)

import datetime as dt
import json
import random
import shutil
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer

from benchmarks.quality import DEFAULT_DATASETS_DIR, classification_metrics, machine_info, read_split, versions

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
RESULTS_STEM = "active_learning"
QUEUE, RANDOM, LEAST_CONFIDENT, NO_FEEDBACK = "queue", "random", "least_confident", "queue_without_feedback"
STRATEGIES = (QUEUE, RANDOM, LEAST_CONFIDENT, NO_FEEDBACK)
MODEL_NAME = "active-learning"  # the model name the simulated predictions are logged under
SCORE_BATCH = 512

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Value of a correction: the review queue's order vs. random vs. least-confident (see BENCHMARKS.md).",
)


@dataclass(frozen=True)
class Settings:
    dataset: str
    seed_rows: int
    k: int
    rounds: int
    seeds: int
    strategies: tuple[str, ...] = STRATEGIES

    @property
    def needed(self) -> int:
        """Pool rows the run labels."""
        return self.seed_rows + self.rounds * self.k

    @property
    def corrections(self) -> list[int]:
        return [r * self.k for r in range(self.rounds + 1)]


@dataclass(frozen=True)
class Scored:
    """A model's served answer for a list of texts: labels, and scores over `classes`."""

    classes: list[str]
    scores: Any  # numpy [texts, classes]

    @property
    def labels(self) -> list[str]:
        return [self.classes[i] for i in self.scores.argmax(axis=1)]


# --------------------------------------------------------------------------------------------
# Choosing the corrections
# --------------------------------------------------------------------------------------------


def pick_random(candidates: Sequence[int], k: int, rng: random.Random) -> list[int]:
    return rng.sample(list(candidates), min(k, len(candidates)))


def pick_least_confident(candidates: Sequence[int], k: int, scored: Scored) -> list[int]:
    """The k candidates with the lowest top score (ties: pool order)."""
    top = scored.scores.max(axis=1)
    return sorted(candidates, key=lambda i: (float(top[i]), i))[:k]


def pick_without_feedback(candidates: Sequence[int], k: int, scored: Scored) -> list[int]:
    """The queue's score as if no correction had been stored yet (ties: pool order)."""
    from feedback import review

    classes, labels = scored.classes, scored.labels

    def value(i: int) -> float:
        return review.informativeness(
            dict(zip(classes, map(float, scored.scores[i]), strict=True)), labels[i], None, {}
        )

    return sorted(candidates, key=lambda i: (-value(i), i))[:k]


def pick_queue(
    candidates: Sequence[int],
    k: int,
    scored: Scored,
    texts: Sequence[str],
    truth: Sequence[str],
    store: Any,
    version: int,
) -> list[int]:
    """The review queue's first k, one correction at a time (see the module docstring).

    After each correction only the rows predicted as the corrected row's label can change score
    (their class accuracy and their version's answered count for that label moved), so only those
    are re-scored; ties keep pool order, as `claim_next`'s stable sort keeps its candidates' order.
    """
    from feedback import review

    classes, labels = scored.classes, scored.labels
    scores = {i: dict(zip(classes, map(float, scored.scores[i]), strict=True)) for i in candidates}

    def value(i: int, accuracy: dict[str, float], reviewed: dict[tuple[int, str], int]) -> float:
        # As claim_next scores a prediction (review._score): all candidates are this version's.
        return review.informativeness(scores[i], labels[i], None, accuracy, reviewed.get((version, labels[i]), 0))

    accuracy, reviewed = review.class_accuracy(store), review.reviewed_per_label(store)
    values = {i: value(i, accuracy, reviewed) for i in candidates}
    by_label: dict[str, set[int]] = defaultdict(set)
    for i in candidates:
        by_label[labels[i]].add(i)
    chosen: list[int] = []
    while values and len(chosen) < k:
        best = max(values, key=values.__getitem__)
        chosen.append(best)
        del values[best]
        by_label[labels[best]].discard(best)
        (prediction_id,) = store.log_predictions(
            MODEL_NAME, version, "production", [texts[best]], [labels[best]], [scores[best]]
        )
        store.add_feedback(truth[best], prediction_id=prediction_id)
        accuracy, reviewed = review.class_accuracy(store), review.reviewed_per_label(store)
        for i in by_label[labels[best]]:
            values[i] = value(i, accuracy, reviewed)
    return chosen


def describe_picks(chosen: Sequence[int], scored: Scored, truth: Sequence[str]) -> dict[str, Any]:
    """What a round's corrections were: how many fixed a wrong label, how spread over classes, how uncertain."""
    labels = scored.labels
    predicted = [labels[i] for i in chosen]
    top = Counter(predicted).most_common(1)
    ordered = -scored.scores[list(chosen)]
    ordered.sort(axis=1)
    return {
        "wrong": sum(p != truth[i] for p, i in zip(predicted, chosen, strict=True)) / max(len(chosen), 1),
        "true_classes": len({truth[i] for i in chosen}),
        "predicted_classes": len(set(predicted)),
        "top_predicted_share": top[0][1] / len(chosen) if top else 0.0,
        "mean_margin": float((ordered[:, 1] - ordered[:, 0]).mean()) if len(chosen) else 0.0,
    }


# --------------------------------------------------------------------------------------------
# Curves
# --------------------------------------------------------------------------------------------


def area_under_curve(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Trapezoid area of ys over xs divided by the x range: the curve's mean height."""
    if len(xs) != len(ys) or len(xs) < 2 or xs[-1] == xs[0]:
        raise ValueError("need at least two points over a non-empty range")
    area = sum((xs[i + 1] - xs[i]) * (ys[i] + ys[i + 1]) / 2 for i in range(len(xs) - 1))
    return area / (xs[-1] - xs[0])


def summarise(settings: Settings, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean curve and AUC spread per strategy, and the queue's paired gain over random per seed."""
    xs = settings.corrections
    out: dict[str, Any] = {}
    for strategy in settings.strategies:
        mine = [r for r in runs if r["strategy"] == strategy]
        curves = [[p["macro_f1"] for p in r["rounds"]] for r in mine]
        aucs = [area_under_curve(xs, c) for c in curves]
        out[strategy] = {
            "macro_f1_mean": [statistics.fmean(c[i] for c in curves) for i in range(len(xs))],
            "accuracy_mean": [statistics.fmean(r["rounds"][i]["accuracy"] for r in mine) for i in range(len(xs))],
            "auc": aucs,
            "auc_mean": statistics.fmean(aucs),
            "auc_std": statistics.stdev(aucs) if len(aucs) > 1 else 0.0,
        }
    if QUEUE in out and RANDOM in out:
        gains = [q - r for q, r in zip(out[QUEUE]["auc"], out[RANDOM]["auc"], strict=True)]
        out["queue_minus_random"] = {
            "per_seed": gains,
            "mean": statistics.fmean(gains),
            "std": statistics.stdev(gains) if len(gains) > 1 else 0.0,
            "seeds_won": sum(g > 0 for g in gains),
            "queue_beats_random": statistics.fmean(gains) > 0,
        }
    return out


# --------------------------------------------------------------------------------------------
# Transform once, then the Trainer per round (TensorFlow, TFX executors)
# --------------------------------------------------------------------------------------------


class Workbench:
    """The real Transform and Trainer executors on one dataset, under a work dir."""

    def __init__(self, work: Path, dataset: str, dataset_dir: Path):
        from pipeline.config import PipelineConfig

        self.work = work
        self.config = PipelineConfig.model_validate(
            {"dataset_name": dataset, "pipeline_root": work / "pipeline", "metadata_path": work / "metadata.sqlite"}
        )
        self.schema_dir = self._schema(dataset, dataset_dir)
        self.graph_dir = work / "transform_graph"
        self.examples: list[bytes] = []  # serialized transformed tf.Examples, one per pool row

    def _schema(self, dataset: str, dataset_dir: Path) -> Path:
        """The curated schema of the dataset, else a TFDV draft (as `lexflow run` resolves it)."""
        from lexflow.runs.schemas import SCHEMA_FILE, curated_schema_path, draft_schema, write_schema

        folder = self.work / "schema"
        folder.mkdir(parents=True, exist_ok=True)
        curated = curated_schema_path(dataset)
        if curated.is_file():
            shutil.copy(curated, folder / SCHEMA_FILE)
        else:
            write_schema(draft_schema([dataset_dir / "train.csv"]), folder / SCHEMA_FILE)
        return folder

    # -- Transform ---------------------------------------------------------------------------
    def transform(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        """Analyse the pool with the TFX Transform executor, then transform every pool row."""
        import tensorflow as tf
        from tfx.components.transform import executor as transform_executor
        from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
        from tfx.types import artifact_utils, standard_artifacts

        raw = self.work / "raw_examples"
        (raw / "Split-train").mkdir(parents=True, exist_ok=True)
        with tf.io.TFRecordWriter(str(raw / "Split-train" / "data.tfrecord.gz"), "GZIP") as writer:
            for text, label in zip(texts, labels, strict=True):
                writer.write(_raw_example(text, label))
        examples = standard_artifacts.Examples()
        examples.uri = str(raw)
        examples.split_names = artifact_utils.encode_split_names(["train"])
        schema = standard_artifacts.Schema()
        schema.uri = str(self.schema_dir)
        graph = standard_artifacts.TransformGraph()
        graph.uri = str(self.graph_dir)
        beam_args: list[Any] = self.config.beam.pipeline_args()  # Context's type wants placeholders too
        context = BaseBeamExecutor.Context(
            beam_pipeline_args=beam_args,
            tmp_dir=str(self.work / "tmp"),
            unique_id="transform",
        )
        transform_executor.Executor(context).Do(
            {"examples": [examples], "schema": [schema]},
            {"transform_graph": [graph]},
            {
                "preprocessing_fn": "trainer.preprocessing.preprocessing_fn",
                "custom_config": json.dumps(self.config.transform_custom_config()),
                # Analysis only: the rows are transformed below, in pool order.
                "splits_config": json.dumps({"analyze": ["train"], "transform": []}),
                "disable_statistics": 1,
                "force_tf_compat_v1": 0,
            },
        )
        self.examples = self._transformed(texts, labels)

    def _transformed(self, texts: Sequence[str], labels: Sequence[str]) -> list[bytes]:
        """Each row through the Transform graph, as the tf.Example Transform would have written."""
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the TF Text ops the Transform graph uses)
        import tensorflow_transform as tft

        output = tft.TFTransformOutput(str(self.graph_dir))
        layer = output.transform_features_layer()
        out: list[bytes] = []
        for start in range(0, len(texts), SCORE_BATCH):
            chunk = slice(start, start + SCORE_BATCH)
            # Parsed with the raw spec, as Transform reads rows: optional columns (document,
            # source) arrive empty, and their outputs (document_given) are still computed.
            raw = [_raw_example(t, label) for t, label in zip(texts[chunk], labels[chunk], strict=True)]
            features = layer(tf.io.parse_example(tf.constant(raw), output.raw_feature_spec()))
            # Every output of the graph, whatever the preprocessing adds (e.g. `document_given`
            # when the schema declares a `document` column): the Trainer parses them all.
            columns = {name: _per_row(value) for name, value in features.items()}
            for j in range(len(texts[chunk])):
                feature = {name: _feature(rows[j]) for name, rows in columns.items()}
                out.append(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
        return out

    # -- Trainer -----------------------------------------------------------------------------
    def train(self, run_dir: Path, split: dict[str, list[int]], labels: Sequence[str]) -> Path:
        """Train on split["train"] (calibrated on split["validation"]) with the TFX Trainer executor.

        Returns the SavedModel's directory."""
        import tensorflow as tf
        from tfx.components.trainer import executor as trainer_executor
        from tfx.types import artifact_utils, standard_artifacts

        from trainer import search_space as S

        for name, members in split.items():
            folder = run_dir / "examples" / f"Split-{name}"
            folder.mkdir(parents=True, exist_ok=True)
            with tf.io.TFRecordWriter(str(folder / "data.tfrecord.gz"), "GZIP") as writer:
                for i in members:
                    writer.write(self.examples[i])
        examples = standard_artifacts.Examples()
        examples.uri = str(run_dir / "examples")
        examples.split_names = artifact_utils.encode_split_names(list(split))
        graph = standard_artifacts.TransformGraph()
        graph.uri = str(self._graph_with_counts(run_dir, Counter(labels[i] for i in split["train"])))
        # The search's starting choice, as its Tuner would hand it over (see the module docstring).
        rows = len(split["train"])
        candidate = S.start(self.config.tuning.families)
        steps = S.steps_for(candidate.family, rows, self.config.tuning.epochs)
        hyperparameters = standard_artifacts.HyperParameters()
        hyperparameters.uri = str(run_dir / "hyperparameters")
        Path(hyperparameters.uri).mkdir(parents=True, exist_ok=True)
        values = {**candidate.values(), **S.train_overrides(candidate, rows, steps)}
        (Path(hyperparameters.uri) / "best_hyperparameters.txt").write_text(json.dumps({"space": [], "values": values}))
        model = standard_artifacts.Model()
        model.uri = str(run_dir / "model")
        model_run = standard_artifacts.ModelRun()
        model_run.uri = str(run_dir / "model_run")
        train_steps, eval_steps = self.config.train_and_eval_steps()
        trainer_executor.GenericExecutor().Do(
            {"examples": [examples], "transform_graph": [graph], "hyperparameters": [hyperparameters]},
            {"model": [model], "model_run": [model_run]},
            {
                "run_fn": "trainer.task.run_fn",
                # The pipeline's Trainer: fit on train, score (and calibrate) on validation.
                "train_args": json.dumps({"splits": ["train"], "num_steps": train_steps}),
                "eval_args": json.dumps({"splits": ["validation"], "num_steps": eval_steps}),
                "custom_config": json.dumps(self.config.trainer_custom_config()),
            },
        )
        tf.keras.backend.clear_session()
        return run_dir / "model" / "Format-Serving"

    def _graph_with_counts(self, run_dir: Path, counts: Counter) -> Path:
        """A copy of the Transform output whose `label_counts` holds this round's train counts."""
        from trainer import features as F

        graph = run_dir / "transform_graph"
        shutil.copytree(self.graph_dir, graph)
        lines = [f"{n} {label}\n" for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        (graph / "transform_fn" / "assets" / F.LABEL_COUNTS_VOCAB).write_text("".join(lines), encoding="utf-8")
        return graph

    def split(self, rows: Sequence[int], texts: Sequence[str], labels: Sequence[str]) -> dict[str, list[int]]:
        """The pipeline's label-aware hash split of the labelled rows (SpanExampleGen's rule)."""
        from components.span_example_gen import window as w

        hashes = {i: w.row_hash({"text": texts[i], "label": labels[i]}) for i in rows}
        by_label: dict[str, list[int]] = defaultdict(list)
        for i in rows:
            by_label[labels[i]].append(hashes[i])
        floors = w.label_floors(by_label, MIN_TRAIN_ROWS_PER_LABEL)
        # The test split judges every round: the labelled rows are all training side (train and the
        # validation split the Trainer calibrates on), as a user's own eval data leaves them.
        validation = round(self.config.validation_fraction * 100)
        split: dict[str, list[int]] = {w.TRAIN: [], w.VALIDATION: []}
        for i in rows:
            forced = hashes[i] <= floors.get(labels[i], -1)
            split[w.assign_split(hashes[i], w.TRAIN, forced, 0, validation)].append(i)
        return split


MIN_TRAIN_ROWS_PER_LABEL = 2  # SpanExampleGen's default (components/span_example_gen/component.py)


def _per_row(value: Any) -> list[list[Any]]:
    """A transformed feature (dense or sparse, batch first) -> its values, row by row."""
    import tensorflow as tf

    if isinstance(value, tf.SparseTensor):
        return tf.RaggedTensor.from_sparse(value).to_list()
    array = value.numpy()
    return [list(row.reshape(-1)) for row in array.reshape(array.shape[0], -1)]


def _feature(values: list[Any]) -> Any:
    import tensorflow as tf

    if values and isinstance(values[0], bytes):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
    if values and isinstance(values[0], (float, np.floating)):
        return tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in values]))
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def _raw_example(text: str, label: str) -> bytes:
    import tensorflow as tf

    feature = {
        "text": tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode("utf-8")])),
        "label": tf.train.Feature(bytes_list=tf.train.BytesList(value=[label.encode("utf-8")])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def serve(model_dir: Path, texts: Sequence[str]) -> Scored:
    """The SavedModel's `serving_default` (raw text in), as the gateway's backends call it."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    signature = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    classes: list[str] = []
    scores = []
    for start in range(0, len(texts), SCORE_BATCH):
        outputs = signature(text=tf.constant(list(texts[start : start + SCORE_BATCH]), dtype=tf.string))
        classes = [c.decode("utf-8") for c in outputs["classes"].numpy()[0]]
        scores.append(outputs["scores"].numpy())
    return Scored(classes, np.concatenate(scores) if scores else np.zeros((0, len(classes))))


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------


class Experiment:
    """One dataset's pool and test split, the Workbench, and the loop of rounds."""

    def __init__(self, settings: Settings, dataset_dir: Path, work: Path, echo: Callable[[str], None]):
        self.settings, self.work, self.echo = settings, work, echo
        self.texts, self.labels = read_split(dataset_dir / "train.csv")
        self.test_texts, self.test_labels = read_split(dataset_dir / "test.csv")
        if settings.needed > len(self.texts):
            raise ValueError(
                f"seed rows + rounds x k = {settings.needed} is more than the pool's {len(self.texts)} rows"
            )
        self.bench = Workbench(work, settings.dataset, dataset_dir)

    def trained(self, run_dir: Path, rows: list[int]) -> tuple[Path, dict[str, Any]]:
        """Train on the labelled rows (the pipeline's split of them); the model and its test scores."""
        split = self.bench.split(rows, self.texts, self.labels)
        start = time.monotonic()
        model_dir = self.bench.train(run_dir, split, self.labels)
        seconds = time.monotonic() - start
        metrics = classification_metrics(self.test_labels, serve(model_dir, self.test_texts).labels)
        return model_dir, {
            "labelled": len(rows),
            "train_rows": len(split["train"]),
            "validation_rows": len(split["validation"]),
            "macro_f1": metrics["macro_f1"],
            "accuracy": metrics["accuracy"],
            "train_seconds": round(seconds, 1),
        }

    def choose(
        self, strategy: str, model_dir: Path, labelled: list[int], rng: random.Random, store: Any, version: int
    ) -> tuple[list[int], Scored]:
        """The round's K corrections, and the model's scores of the pool they were chosen from."""
        taken = set(labelled)
        candidates = [i for i in range(len(self.texts)) if i not in taken]
        k = self.settings.k
        pool = serve(model_dir, self.texts)  # the labelled rows too: simpler than re-indexing
        if strategy == RANDOM:
            return pick_random(candidates, k, rng), pool
        if strategy == LEAST_CONFIDENT:
            return pick_least_confident(candidates, k, pool), pool
        if strategy == NO_FEEDBACK:
            return pick_without_feedback(candidates, k, pool), pool
        return pick_queue(candidates, k, pool, self.texts, self.labels, store, version), pool

    def run_strategy(self, seed: int, strategy: str, seed_rows: list[int], seed_model: Path, seed_point: dict) -> dict:
        from feedback.store import FeedbackStore

        folder = self.work / f"seed{seed}" / strategy
        # The queue's corrections go to a real store, whose class accuracy the next choice reads.
        store = FeedbackStore(f"sqlite:///{folder / 'feedback.sqlite'}") if strategy == QUEUE else None
        rng = random.Random(f"{seed}-{strategy}")
        labelled, model_dir, points, picked = list(seed_rows), seed_model, [seed_point], []
        try:
            for round_ in range(1, self.settings.rounds + 1):
                start = time.monotonic()
                chosen, pool = self.choose(strategy, model_dir, labelled, rng, store, version=round_)
                select_seconds = time.monotonic() - start
                labelled += chosen
                picked.append([self.labels[i] for i in chosen])
                model_dir, point = self.trained(folder / f"round{round_}", labelled)
                point.update(select_seconds=round(select_seconds, 1), picks=describe_picks(chosen, pool, self.labels))
                points.append(point)
                self.echo(
                    f"[seed {seed}] {strategy:22s} round {round_}: {len(labelled)} labelled, "
                    f"macro-F1 {point['macro_f1']:.3f}, accuracy {point['accuracy']:.3f} "
                    f"(train {point['train_seconds']:.0f} s, choose {select_seconds:.0f} s)"
                )
        finally:
            if store is not None:
                store.close()
        return {"seed": seed, "strategy": strategy, "rounds": points, "picked_labels": picked}

    def run(self) -> list[dict[str, Any]]:
        runs = []
        for seed in range(self.settings.seeds):
            seed_rows = random.Random(seed).sample(range(len(self.texts)), self.settings.seed_rows)
            seed_model, seed_point = self.trained(self.work / f"seed{seed}" / "round0", seed_rows)
            self.echo(f"[seed {seed}] seed model on {len(seed_rows)} rows: macro-F1 {seed_point['macro_f1']:.3f}")
            for strategy in self.settings.strategies:
                runs.append(self.run_strategy(seed, strategy, seed_rows, seed_model, seed_point))
        return runs


def run_benchmark(
    settings: Settings, dataset_dir: Path, work: Path, echo: Callable[[str], None] = print
) -> dict[str, Any]:
    """Every seed and strategy; the results record (also what active_learning.json holds)."""
    started = time.monotonic()
    experiment = Experiment(settings, dataset_dir, work, echo)
    echo(f"[{settings.dataset}] Transform (analysis over the {len(experiment.texts)}-row pool)")
    experiment.bench.transform(experiment.texts, experiment.labels)
    transform_seconds = time.monotonic() - started
    runs = experiment.run()
    texts, labels, test_texts = experiment.texts, experiment.labels, experiment.test_texts
    return {
        "benchmark": "active_learning",
        "dataset": settings.dataset,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {
            "seed_rows": settings.seed_rows,
            "k": settings.k,
            "rounds": settings.rounds,
            "seeds": settings.seeds,
            "strategies": list(settings.strategies),
            "corrections": settings.corrections,
        },
        "pool_rows": len(texts),
        "test_rows": len(test_texts),
        "classes": len(set(labels)),
        "model": "the model search's starting choice (trainer/search_space.py `start`), every round",
        "transform_seconds": round(transform_seconds, 1),
        "seconds": round(time.monotonic() - started, 1),
        "machine": machine_info(),
        "versions": versions(),
        "summary": summarise(settings, runs),
        "runs": runs,
    }


# --------------------------------------------------------------------------------------------
# Results: JSON, Markdown, the plot
# --------------------------------------------------------------------------------------------

NAMES = {
    QUEUE: "review queue (`informativeness`)",
    RANDOM: "random",
    LEAST_CONFIDENT: "least-confident",
    NO_FEEDBACK: "queue score without class accuracy",
}
COLORS = {QUEUE: "#1f77b4", RANDOM: "#7f7f7f", LEAST_CONFIDENT: "#ff7f0e", NO_FEEDBACK: "#2ca02c"}


def render_markdown(results: dict[str, Any]) -> str:
    s, summary = results["settings"], results["summary"]
    xs = s["corrections"]
    shown = [k for k in STRATEGIES if k in summary]
    lines = [
        f"# What a correction is worth: {results['dataset']}",
        "",
        (
            f"{results['date']}; seed {s['seed_rows']} labelled rows, then {s['rounds']} rounds of K = {s['k']} "
            f"corrections, {s['seeds']} seeds; pool {results['pool_rows']} rows, test {results['test_rows']} rows, "
            f"{results['classes']} classes. Model: {results['model']}. Wall time {results['seconds'] / 60:.1f} min "
            f"(Transform {results['transform_seconds']:.0f} s) on {results['machine'].get('nproc')} cores."
        ),
        "",
        "Test macro-F1 after each round (mean over seeds):",
        "",
        "| corrections | " + " | ".join(NAMES[k] for k in shown) + " |",
        "| ---: | " + " | ".join("---:" for _ in shown) + " |",
    ]
    for i, x in enumerate(xs):
        row = " | ".join(f"{summary[k]['macro_f1_mean'][i]:.3f}" for k in shown)
        lines.append(f"| {x} | {row} |")
    lines += [
        "",
        (
            "Area under the macro-F1 curve (mean macro-F1 over 0 to "
            f"{xs[-1]} corrections), per seed and mean ± standard deviation:"
        ),
        "",
        "| strategy | " + " | ".join(f"seed {i}" for i in range(s["seeds"])) + " | mean ± sd |",
        "| --- | " + " | ".join("---:" for _ in range(s["seeds"])) + " | ---: |",
    ]
    for k in shown:
        per_seed = " | ".join(f"{a:.4f}" for a in summary[k]["auc"])
        lines.append(f"| {NAMES[k]} | {per_seed} | {summary[k]['auc_mean']:.4f} ± {summary[k]['auc_std']:.4f} |")
    gain = summary.get("queue_minus_random")
    if gain:
        verdict = "beats" if gain["queue_beats_random"] else "does NOT beat"
        lines += [
            "",
            (
                f"The queue's order {verdict} random: AUC gain {gain['mean']:+.4f} ± {gain['std']:.4f} "
                f"(won {gain['seeds_won']} of {len(gain['per_seed'])} seeds)."
            ),
        ]
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    from matplotlib.figure import Figure

    xs = results["settings"]["corrections"]
    figure = Figure(figsize=(7.5, 4.5), dpi=100, layout="constrained")
    ax = figure.add_subplot()
    for strategy in STRATEGIES:
        runs = [r for r in results["runs"] if r["strategy"] == strategy]
        if not runs:
            continue
        curves = [[p["macro_f1"] for p in r["rounds"]] for r in runs]
        summary = results["summary"][strategy]
        lo = [min(c[i] for c in curves) for i in range(len(xs))]
        hi = [max(c[i] for c in curves) for i in range(len(xs))]
        ax.fill_between(xs, lo, hi, color=COLORS[strategy], alpha=0.15, linewidth=0)
        label = f"{NAMES[strategy].replace('`', '')}: AUC {summary['auc_mean']:.3f} ± {summary['auc_std']:.3f}"
        ax.plot(xs, summary["macro_f1_mean"], marker="o", color=COLORS[strategy], label=label)
    s = results["settings"]
    ax.set_xlabel(f"corrections (after a seed of {s['seed_rows']} labelled rows; K = {s['k']} per round)")
    ax.set_ylabel("test macro-F1")
    ax.set_title(f"{results['dataset']}: macro-F1 vs. corrections (mean of {s['seeds']} seeds, band = min–max)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    figure.savefig(path)


def write_results(out: Path, results: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{RESULTS_STEM}.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (out / f"{RESULTS_STEM}.md").write_text(render_markdown(results), encoding="utf-8")
    plot(results, out / f"{RESULTS_STEM}.png")


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


@app.command()
def main(
    dataset: str = typer.Option("cuad_clauses", help="A dataset folder under --datasets-dir (train.csv, test.csv)."),
    datasets_dir: Path = typer.Option(DEFAULT_DATASETS_DIR, help="Where the datasets are (read in place)."),
    seed_rows: int = typer.Option(200, min=2, help="Labelled rows of the first model."),
    k: int = typer.Option(100, min=1, help="Corrections per round."),
    rounds: int = typer.Option(8, min=1, help="Rounds of K corrections, each followed by a retraining."),
    seeds: int = typer.Option(4, min=1, help="Repetitions with another seed set (and random picks)."),
    strategy: list[str] = typer.Option(list(STRATEGIES), help=f"Strategies to compare: {', '.join(STRATEGIES)}."),
    out: Path = typer.Option(DEFAULT_OUT, help="Where active_learning.{json,md,png} go."),
    work_dir: Optional[Path] = typer.Option(None, help="Keep the run's artifacts here (default: a temp dir, removed)."),
    verbose: bool = typer.Option(False, "--verbose", help="TFX/TF logs at INFO."),
) -> None:
    """Seed model, then rounds of K corrections per strategy; test macro-F1 per round and its AUC."""
    dataset_dir = datasets_dir / dataset
    for name in ("train.csv", "test.csv"):
        if not (dataset_dir / name).is_file():
            typer.echo(f"error: {dataset_dir / name} does not exist (see --datasets-dir)", err=True)
            raise typer.Exit(2)
    unknown = [name for name in strategy if name not in STRATEGIES]
    if unknown or not strategy:
        typer.echo(f"error: --strategy {', '.join(unknown)}: choose from {', '.join(STRATEGIES)}", err=True)
        raise typer.Exit(2)
    settings = Settings(dataset, seed_rows, k, rounds, seeds, tuple(s for s in STRATEGIES if s in strategy))
    pool_rows = len(read_split(dataset_dir / "train.csv")[0])
    if settings.needed > pool_rows:
        typer.echo(
            f"error: --seed-rows + --rounds x --k = {settings.needed} is more than the {pool_rows} rows of "
            f"{dataset_dir / 'train.csv'}",
            err=True,
        )
        raise typer.Exit(2)
    from lexflow.runs.local_run import quiet_logs

    quiet_logs(verbose)
    own = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="lexflow-al-")) if work_dir is None else work_dir.absolute()
    try:
        results = run_benchmark(settings, dataset_dir, work, echo=typer.echo)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    write_results(out, results)
    typer.echo(render_markdown(results))
    typer.echo(f"wrote {out / RESULTS_STEM}.{{json,md,png}}")


if __name__ == "__main__":
    app()
