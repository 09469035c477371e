"""The real pipeline on a few hundred generated rows: bless, push, lineage, serve, cache, gate."""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tensorflow as tf

from datagen import generate_rows, write_csv
from lexflow.metadata import store as md
from lexflow.runs.local_run import PipelineFailed, run_local
from pipeline.schema_info import label_domain, load_schema
from tests.conftest import SCHEMA, small_pipeline_config

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def first_run(pipeline_run):
    return pipeline_run.config, pipeline_run.summary


def test_first_run_blesses_on_absolute_thresholds_and_pushes(first_run):
    config, summary = first_run
    assert summary.succeeded, [(c.component, c.state) for c in summary.components]
    assert summary.blessed is True
    assert summary.metrics.baseline_accuracy is None  # first run: nothing to compare with
    assert summary.metrics.accuracy >= 0.5 and summary.metrics.macro_f1 >= 0.4
    assert set(summary.metrics.per_class_f1) == set(label_domain(load_schema(SCHEMA)))
    assert [check.metric for check in summary.gate] == ["accuracy", "macro-F1"]
    assert any(name.startswith("length_bucket=") for name in summary.metrics.slices)
    version_dir = config.model_dir / summary.pushed_version
    assert (version_dir / "saved_model.pb").is_file() and (version_dir / "variables").is_dir()


def test_model_search_chose_the_trained_model_and_is_recorded_in_mlmd(first_run):
    """ModelSearch (a TFX Tuner) ran trials on the validation split; its choice, refitted on train +
    validation, is the Trainer's input and is readable from MLMD: the report on best_hyperparameters,
    the run summary's line, and the validation scores next to the Evaluator's eval scores."""
    config, summary = first_run
    report = summary.model_search
    assert report is not None and report["summary"].startswith("model search: ")
    assert len(report["trials"]) >= 1 and report["chosen"] in report["trials"]
    assert 0.0 < report["chosen"]["validation_macro_f1"] <= 1.0 and report["budget_seconds"] > 0
    store = md.open_store(config.metadata_path)
    by_component = {c.component: c for c in summary.components}
    [chosen] = md.input_artifacts(store, by_component["Trainer"].execution.id, "hyperparameters")
    assert md.producer_execution(store, chosen.id).id == by_component["ModelSearch"].execution.id
    assert md.custom_property(chosen, "search_summary") == report["summary"]
    assert md.custom_property(chosen, "search_trials") == len(report["trials"])
    assert md.custom_property(chosen, "validation_macro_f1") == pytest.approx(report["chosen"]["validation_macro_f1"])
    hyperparameters = json.loads((Path(chosen.uri) / "best_hyperparameters.txt").read_text())["values"]
    assert hyperparameters["family"] == report["chosen"]["family"]
    # The Trainer refits the choice on train + validation: same epochs over more rows.
    final = report["final_fit"]
    assert final["rows"] == report["train_rows"] + report["validation_rows"] and report["validation_rows"] > 0
    assert hyperparameters["train_steps"] == final["train_steps"] >= report["chosen"]["train_steps"]
    # ... and serves with the temperature fitted on the chosen trial's validation logits.
    validation = summary.validation
    assert validation is not None and validation.temperature == hyperparameters["calibration"]["temperature"]
    assert validation.rows == report["validation_rows"] and validation.macro_f1 == pytest.approx(
        report["chosen"]["validation_macro_f1"], abs=1e-4
    )
    assert "chosen trial" in validation.fitted_on


def test_the_users_eval_folder_is_the_eval_split_and_documents_stay_whole(first_run):
    """The session's data root has span-0/train/ and span-0/eval/ folders and a document column."""
    config, summary = first_run
    assert summary.split_rows["eval"] == 100  # exactly span-0/eval/holdout.csv
    assert summary.split_rows["train"] + summary.split_rows["validation"] == 400
    store = md.open_store(config.metadata_path)
    example_gen = next(c for c in summary.components if c.component == "ExampleGen")
    [examples] = md.output_artifacts(store, example_gen.execution.id, "examples")
    documents: dict[str, set[str]] = {}
    for split in ("train", "validation", "eval"):
        for path in Path(examples.uri, f"Split-{split}").glob("*.gz"):
            for record in tf.data.TFRecordDataset(str(path), compression_type="GZIP"):
                feature = tf.train.Example.FromString(record.numpy()).features.feature
                documents.setdefault(feature["document"].bytes_list.value[0].decode(), set()).add(split)
    assert len(documents) == 50 and all(len(splits) == 1 for splits in documents.values())
    assert {d for d, splits in documents.items() if splits == {"eval"}} == {f"contract-{i}" for i in range(40, 50)}


def test_lineage_model_from_transform_graph_from_examples(first_run):
    config, summary = first_run
    store = md.open_store(config.metadata_path)
    by_component = {c.component: c for c in summary.components}
    pushed_model = md.input_artifacts(store, by_component["Pusher"].execution.id, "model")[0]

    trainer = md.producer_execution(store, pushed_model.id)
    assert trainer.id == by_component["Trainer"].execution.id
    transform_graph = md.input_artifacts(store, trainer.id, "transform_graph")[0]
    transform = md.producer_execution(store, transform_graph.id)
    assert transform.id == by_component["Transform"].execution.id
    examples = md.input_artifacts(store, transform.id, "examples")[0]
    assert md.producer_execution(store, examples.id).id == by_component["ExampleGen"].execution.id
    assert md.spans_of(examples) == [0]
    # The blessing that let the model through names this very model.
    blessing = md.input_artifacts(store, by_component["Pusher"].execution.id, "model_blessing")[0]
    assert md.custom_property(blessing, "blessed") == 1


def test_pushed_model_answers_raw_text_in_a_plain_process(first_run):
    config, summary = first_run
    script = r"""
import json, sys
import tensorflow as tf, tensorflow_text  # noqa: F401
model = tf.saved_model.load(sys.argv[1])
out = model.signatures["serving_default"](text=tf.constant([
    "This Agreement shall be governed by and construed in accordance with the laws of the State of New York.",
    "The Receiving Party shall hold all Confidential Information in strict confidence.",
    "???",
]))
print(json.dumps({k: v.numpy().tolist() for k, v in out.items()}, default=lambda b: b.decode()))
"""
    result = subprocess.run(
        [sys.executable, "-c", script, str(config.model_dir / summary.pushed_version)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    labels = set(label_domain(load_schema(SCHEMA)))
    for scores, classes, label in zip(out["scores"], out["classes"], out["label"], strict=True):
        assert set(classes) == labels and len(classes) == len(scores)
        # Probabilities whichever family the search chose (trainer/calibration.py).
        assert abs(sum(scores) - 1.0) < 1e-4 and min(scores) >= 0.0
        assert label == classes[scores.index(max(scores))]
    assert out["label"][0] == "governing_law"


def _corrupt_missing_text(path: Path):
    rows = generate_rows(200, seed=3)
    path.parent.mkdir(parents=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["body", "label", "source"])
        writer.writeheader()
        writer.writerows({"body": r["text"], "label": r["label"], "source": r["source"]} for r in rows)


def _corrupt_unknown_label(path: Path):
    rows = generate_rows(200, seed=3)
    rows[7]["label"] = "not_a_clause_type"
    write_csv(path, rows)


@pytest.mark.parametrize(
    "corrupt, expected",
    [(_corrupt_missing_text, "feature 'text'"), (_corrupt_unknown_label, "not_a_clause_type")],
    ids=["missing-text-column", "unknown-label"],
)
def test_corrupted_input_stops_at_the_data_gate_with_nothing_pushed(tmp_path, corrupt, expected):
    corrupt(tmp_path / "data" / "span-0" / "corpus.csv")
    config = small_pipeline_config(tmp_path)
    with pytest.raises(PipelineFailed) as raised:
        run_local(config, preflight=False)  # let the pipeline's own gate see the bad data
    message = str(raised.value)
    assert re.match(r"DataGate failed: \d+ schema anomal(y|ies), run stopped before Transform: ", message), message
    assert expected in message
    assert raised.value.exit_code == 2  # a data error the user fixes, as the CLI reports it
    states = {c.component: c.state for c in raised.value.summary.components}
    assert states["ExampleValidator"] == "COMPLETE" and states["DataGate"] == "FAILED"
    assert "Transform" not in states and "Trainer" not in states
    assert not config.model_dir.exists() or not any(config.model_dir.iterdir())


def test_lineage_command_traces_the_served_version(first_run):
    from lexflow.metadata.lineage import version_lineage, versions_fed_by_span

    config, summary = first_run
    store = md.open_store(config.metadata_path)
    info = version_lineage(store, summary.pushed_version)
    assert info.version == summary.pushed_version and info.spans == [0] and info.blessed is True
    assert "/Transform/transform_graph/" in info.transform_graph_uri and "/ImportSchemaGen/schema/" in info.schema_uri
    assert versions_fed_by_span(store, 0) == [summary.pushed_version] and versions_fed_by_span(store, 5) == []
    result = subprocess.run(
        [sys.executable, "-m", "lexflow.cli", "lineage", "999", "--metadata-path", str(config.metadata_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "never pushed" in result.stderr and "Traceback" not in result.stderr
